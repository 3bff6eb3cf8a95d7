"""Applying rows of the log to one read model: exactly once, past skips, naming a failure."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import asyncpg

from program.projections import changes, checkpoint, failures, skips
from program.projections.base import Decoder, Projection, RangeProjection, Row, kind_of
from program.projections.checkpoint import StaleCheckpoint
from program.projections.failures import EventFailed

log = logging.getLogger("program.projections.runner")


async def project_rows(
    pool: asyncpg.Pool,
    projection: Projection,
    decoder: Decoder,
    rows: Sequence[Row],
    expected: int,
    *,
    notify: bool = True,
    cache: dict[int, Any] | None = None,
) -> int:
    """Apply rows after ``expected`` and move the checkpoint, in one transaction.

    Exactly once: the view rows and the checkpoint commit together or not at all, and the
    compare-and-set on the checkpoint refuses a batch that does not start where it ends
    (``StaleCheckpoint``). Rows of no interest to the read model move only the checkpoint.
    """
    position = rows[-1][0]
    ranged = isinstance(projection, RangeProjection)
    batch = [] if ranged else decoder.envelopes(projection, rows, cache)
    if not ranged and not batch:  # nothing for this read model: only the checkpoint moves
        async with pool.acquire() as conn, conn.transaction():
            await checkpoint.advance(conn, projection.name, expected, position, notify=notify)
            if notify:
                await _tell(conn, projection.name, expected, position, ())
        return position
    async with pool.acquire() as conn, conn.transaction():
        await checkpoint.advance(conn, projection.name, expected, position, notify=notify)
        token = changes.collect()
        try:
            if ranged:
                await projection.apply_range(conn, projection.schema, expected, position)  # type: ignore[attr-defined]
            else:
                await projection.apply(conn, projection.schema, batch)
        finally:
            ids = changes.collected(token)
        if notify:
            await _tell(conn, projection.name, expected, position,
                        ids if projection.publishes_changes else None)
    return position


async def _tell(conn: asyncpg.Connection, name: str, start: int, end: int,
                ids: set[str] | tuple[()] | None) -> None:
    """Which entities the batch changed, to every listening process, on commit."""
    await conn.execute("SELECT pg_notify($1, $2)", changes.CHANNEL,
                       changes.payload(name, start, end, ids))


async def apply_rows(
    pool: asyncpg.Pool, projection: Projection, decoder: Decoder, rows: Sequence[Row],
    position: int, skip: frozenset[int], cache: dict[int, Any] | None = None,
) -> int:
    """Apply ``rows`` after ``position``, going past the positions an operator skipped;
    returns the new position. An event that cannot be applied raises ``EventFailed``
    once every event before it has committed."""
    for run, skipped in skips.segments(rows, skip):
        if skipped:
            await checkpoint.advance(pool, projection.name, position, run[0][0])
            log.warning("projection %s: skipped position %d (%s) as an operator decided",
                        projection.name, run[0][0], kind_of(run[0][3]))
            position = run[0][0]
        else:
            position = await _isolating(pool, projection, decoder, run, position, cache)
    return position


async def _isolating(pool: asyncpg.Pool, projection: Projection, decoder: Decoder,
                     rows: Sequence[Row], position: int, cache: dict[int, Any] | None) -> int:
    """Apply ``rows``; if that fails, the halves, and so on: a few transactions, not one
    per event, until the failing event is the only one left."""
    try:
        return await project_rows(pool, projection, decoder, rows, position, cache=cache)
    except (StaleCheckpoint, *failures.TRANSIENT):
        raise
    except Exception as exc:
        if len(rows) == 1:
            raise EventFailed(rows[0][0], kind_of(rows[0][3]), exc, projection.name) from exc
    middle = len(rows) // 2
    position = await _isolating(pool, projection, decoder, rows[:middle], position, cache)
    return await _isolating(pool, projection, decoder, rows[middle:], position, cache)
