"""Verify the hash chain that links every stored row to the one before it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from program.store.eventstore import _SELECT, to_recorded
from program.store.records import GENESIS_HASH, row_hash


@dataclass(frozen=True)
class ChainReport:
    """The outcome of a chain check: how far it got and where it broke, if it did."""

    ok: bool
    checked: int
    last_position: int
    broken_at: int | None = None
    reason: str | None = None


async def verify_chain(
    conn: asyncpg.Connection,
    *,
    progress: Callable[[int], None] | None = None,
    chunk: int = 5000,
) -> ChainReport:
    """Recompute every row's hash from its stored bytes and compare."""
    previous, expected_position, checked = GENESIS_HASH, 1, 0
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        cursor = conn.cursor(f"{_SELECT} ORDER BY notification_id", prefetch=chunk)
        async for raw in cursor:
            row = to_recorded(raw)
            if row.position != expected_position:
                return ChainReport(False, checked, expected_position - 1, row.position,
                                   f"position {expected_position} is missing")
            computed = row_hash(previous, row)
            if computed != row.hash:
                return ChainReport(False, checked, expected_position - 1, row.position,
                                   "stored hash does not match the row")
            previous, checked, expected_position = row.hash, checked + 1, expected_position + 1
            if progress is not None and checked % chunk == 0:
                progress(checked)
    if progress is not None:
        progress(checked)
    return ChainReport(True, checked, expected_position - 1)
