"""Applying rows of the log to one read model: exactly once, past skips, naming a failure."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg

from program.projections import changes, checkpoint, failures, skips
from program.projections.base import Decoder, Projection, RangeProjection, Row, kind_of
from program.projections.checkpoint import StaleCheckpoint
from program.projections.failures import EventFailed

log = logging.getLogger("program.projections.runner")

Heard = Callable[[str, int, int, "changes.Changed"], None]


async def project_rows(
    pool: asyncpg.Pool,
    projection: Projection,
    decoder: Decoder,
    rows: Sequence[Row],
    expected: int,
    *,
    notify: bool = True,
    cache: dict[int, Any] | None = None,
    heard: Heard | None = None,
) -> int:
    """Apply rows after ``expected`` and move the checkpoint, in one transaction.

    Exactly once: the view rows and the checkpoint commit together or not at all, and the
    compare-and-set on the checkpoint refuses a batch that does not start where it ends
    (``StaleCheckpoint``). Rows of no interest to the read model move only the checkpoint.
    Which entities the batch changed is NOTIFYed before the checkpoint (listeners learn
    what changed before they learn the position moved) and, once committed, told to
    ``heard`` (this process's change log, without waiting for its own notification).
    """
    position = rows[-1][0]
    ranged = isinstance(projection, RangeProjection)
    batch = [] if ranged else decoder.envelopes(projection, rows, cache)
    changed: frozenset[str] | None = frozenset()
    async with pool.acquire() as conn, conn.transaction():
        if ranged or batch:  # else nothing for this read model: only the checkpoint moves
            token = changes.collect()
            try:
                if ranged:
                    await projection.apply_range(conn, projection.schema, expected, position)  # type: ignore[attr-defined]
                else:
                    await projection.apply(conn, projection.schema, batch)
            finally:
                ids = changes.collected(token)
            changed = frozenset(ids) if projection.publishes_changes else None
        if notify:
            await conn.execute("SELECT pg_notify($1, $2)", changes.CHANNEL,
                               changes.payload(projection.name, expected, position, changed))
        await checkpoint.advance(conn, projection.name, expected, position, notify=notify)
    if heard is not None:
        heard(projection.name, expected, position, changed)
    return position


async def apply_rows(
    pool: asyncpg.Pool, projection: Projection, decoder: Decoder, rows: Sequence[Row],
    position: int, skip: frozenset[int], cache: dict[int, Any] | None = None,
    heard: Heard | None = None,
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
            position = await _isolating(pool, projection, decoder, run, position, cache, heard)
    return position


async def _isolating(pool: asyncpg.Pool, projection: Projection, decoder: Decoder,
                     rows: Sequence[Row], position: int, cache: dict[int, Any] | None,
                     heard: Heard | None = None) -> int:
    """Apply ``rows``; if that fails, the halves, and so on: a few transactions, not one
    per event, until the failing event is the only one left."""
    try:
        return await project_rows(pool, projection, decoder, rows, position, cache=cache,
                                  heard=heard)
    except (StaleCheckpoint, *failures.TRANSIENT):
        raise
    except Exception as exc:
        if len(rows) == 1:
            raise EventFailed(rows[0][0], kind_of(rows[0][3]), exc, projection.name) from exc
    middle = len(rows) // 2
    position = await _isolating(pool, projection, decoder, rows[:middle], position, cache, heard)
    return await _isolating(pool, projection, decoder, rows[middle:], position, cache, heard)
