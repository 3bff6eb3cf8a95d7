"""Verify the hash chain that links every stored row to the one before it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from program.store.eventstore import _SELECT, to_recorded
from program.store.records import GENESIS_HASH, row_hash
from program.transparency.checkpoint import Checkpoint
from program.transparency.merkle import RootAccumulator, leaf_hash
from program.transparency.note import NoteError, Verifier


@dataclass(frozen=True)
class ChainReport:
    """The outcome of a chain check: how far it got and where it broke, if it did."""

    ok: bool
    checked: int
    last_position: int
    broken_at: int | None = None
    reason: str | None = None
    checkpoints: int = 0


async def verify_chain(
    conn: asyncpg.Connection,
    *,
    progress: Callable[[int], None] | None = None,
    chunk: int = 5000,
    on_row: Callable[[bytes], None] | None = None,
) -> ChainReport:
    """Recompute every row's hash from its stored bytes and compare; ``on_row`` sees
    each verified row's hash in order."""
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
            if on_row is not None:
                on_row(row.hash)
            if progress is not None and checked % chunk == 0:
                progress(checked)
    if progress is not None:
        progress(checked)
    return ChainReport(True, checked, expected_position - 1)


@dataclass(frozen=True)
class Signed:
    """A kept checkpoint as the verifier needs it: its size, root and signed note."""

    size: int
    root: bytes
    note: str


async def verify_log(
    conn: asyncpg.Connection,
    checkpoints: list[Signed],
    verifier: Verifier | None,
    *,
    progress: Callable[[int], None] | None = None,
) -> ChainReport:
    """The chain, then every kept checkpoint: signed by the log's key (when it is
    given), and the root of the tree recomputed from the rows at its size. A log shorter than a checkpoint
    lost rows (today's ``verify`` could not see a deleted last event)."""
    wanted = sorted(checkpoints, key=lambda c: c.size)
    roots: dict[int, bytes] = {}
    accumulator = RootAccumulator()
    sizes = {c.size for c in wanted}

    def on_row(chain: bytes) -> None:
        accumulator.append(leaf_hash(chain))
        if accumulator.size in sizes:
            roots[accumulator.size] = accumulator.root()

    report = await verify_chain(conn, progress=progress, on_row=on_row)
    if not report.ok:
        return report
    for kept in wanted:
        try:
            signed = (Checkpoint.open(kept.note, verifier) if verifier is not None
                      else Checkpoint.parse(kept.note[: kept.note.rfind("\n\n") + 1]))
        except NoteError as exc:
            return _broken(report, kept.size, f"checkpoint {kept.size} does not verify: {exc}")
        if (signed.size, signed.root) != (kept.size, kept.root):
            return _broken(report, kept.size, f"checkpoint {kept.size} is not the one signed")
        if kept.size > report.last_position:
            return _broken(report, report.last_position + 1,
                           f"checkpoint {kept.size} was signed but the log ends at "
                           f"{report.last_position}: rows were removed")
        if roots.get(kept.size) != kept.root:
            return _broken(report, kept.size,
                           f"the rows no longer hash to checkpoint {kept.size}'s root")
    return ChainReport(True, report.checked, report.last_position,
                       checkpoints=len(wanted))


def _broken(report: ChainReport, at: int, reason: str) -> ChainReport:
    return ChainReport(False, report.checked, report.last_position, at, reason,
                       checkpoints=0)
