"""Keep the C allocator from holding on to memory the server has already freed.

glibc serves an allocation above its mmap threshold (128 KiB at start) with its own
mapping, returned to the system when freed; but freeing such a mapping *raises* the
threshold to that size, up to 32 MiB. After start-up has freed a few large buffers,
every large transient buffer of a busy server (a projection batch's rows, a result
set, an encoded answer) comes from the heap instead, and the heap fragments: under a
sustained mix of reads and writes the server's resident memory grew by about 13 MB
every 15 s while the memory in use stayed flat at ~18 MB (``bench/soak.py``). Fixing
the threshold (which also turns the adjustment off) keeps it flat.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # from glibc's malloc.h
MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value


def fix_mmap_threshold(threshold: int = MMAP_THRESHOLD) -> bool:
    """Pin glibc's mmap threshold; False (and nothing done) on other C libraries."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    if not hasattr(libc, "gnu_get_libc_version"):
        return False  # musl and others: no such threshold to pin
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    done = bool(mallopt(M_MMAP_THRESHOLD, threshold))
    if not done:
        log.debug("mallopt(M_MMAP_THRESHOLD) refused")
    return done
