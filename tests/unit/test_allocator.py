"""The C allocator setting the API applies at start-up (see program.api.allocator)."""

from __future__ import annotations

import ctypes
import ctypes.util

import pytest

from program.api.allocator import fix_mmap_threshold


def _glibc() -> bool:
    try:
        return hasattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"),
                       "gnu_get_libc_version")
    except OSError:
        return False


@pytest.mark.skipif(not _glibc(), reason="the threshold is glibc's")
def test_fix_mmap_threshold_when_glibc_pins_it() -> None:
    assert fix_mmap_threshold() is True
    assert fix_mmap_threshold() is True  # idempotent


def test_fix_mmap_threshold_when_the_library_refuses_changes_nothing_and_says_so(monkeypatch) -> None:
    def missing(*_args: object) -> None:
        raise OSError("no C library")

    monkeypatch.setattr(ctypes, "CDLL", missing)
    assert fix_mmap_threshold() is False
