"""Checkpoints: how far each projection has applied the log, moved in the view's own transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from program.projections import failures
from program.projections.failures import Failure
from program.store.schema import EVENTS_TABLE

CHECKPOINTS = "projection_checkpoints"
CHANNEL = "program_projections"

CHECKPOINTS_DDL = f"""
CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (
    name text PRIMARY KEY,
    position bigint NOT NULL DEFAULT 0,
    version text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    error text,
    error_at timestamptz
)"""


class StaleCheckpoint(Exception):
    """The checkpoint moved under us (a rebuild swapped in, or another runner applied)."""


@dataclass(frozen=True)
class ProjectionStatus:
    """Where one projection stands against the head of the log."""

    name: str
    position: int
    head: int
    lag_events: int
    lag_seconds: float
    error: str | None = None  # the failure's error class and message, while stuck
    updated_at: datetime | None = None
    failure: Failure | None = None  # the event it cannot apply, while stuck


async def read(conn: asyncpg.Connection | asyncpg.Pool, name: str) -> int:
    value = await conn.fetchval(f"SELECT position FROM {CHECKPOINTS} WHERE name = $1", name)
    return int(value or 0)


async def version(conn: asyncpg.Connection | asyncpg.Pool, name: str) -> str | None:
    """The table version the read model was built with."""
    return await conn.fetchval(f"SELECT version FROM {CHECKPOINTS} WHERE name = $1", name)


async def read_all(conn: asyncpg.Connection | asyncpg.Pool) -> dict[str, int]:
    rows = await conn.fetch(f"SELECT name, position FROM {CHECKPOINTS}")
    return {r["name"]: int(r["position"]) for r in rows}


# One round trip: relax this transaction's commit (a lost commit only re-applies from
# the older checkpoint, still exactly once), compare-and-set, and tell other processes.
_ADVANCE = f"""
WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)),
     moved AS (UPDATE {CHECKPOINTS} SET position = $3, updated_at = now(), error = NULL,
                      error_at = NULL
               WHERE name = $1 AND position = $2 RETURNING position)
SELECT CASE WHEN $4 THEN pg_notify('{CHANNEL}', $1 || ':' || moved.position) END
FROM moved, relaxed
"""


async def advance(
    conn: asyncpg.Connection | asyncpg.Pool, name: str, expected: int, position: int, *,
    notify: bool = True,
) -> None:
    """Compare-and-set, first thing in the batch's transaction (or alone, autocommitted).

    Taking the row lock before touching any view row means a rebuild swapping schemas
    (which locks this row) and a runner never interleave; the compare fences off a
    runner whose position is out of date.
    """
    if not await conn.fetch(_ADVANCE, name, expected, position, notify):
        raise StaleCheckpoint(name)


_HEAD = f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}"

_STATUS = f"""
SELECT n.name, coalesce(c.position, 0) AS position, h.head, c.error, c.updated_at,
       greatest(h.head - coalesce(c.position, 0), 0) AS lag_events,
       CASE WHEN coalesce(c.position, 0) < h.head
            THEN greatest(extract(epoch FROM clock_timestamp() - e.recorded_at), 0)::float8
            ELSE 0.0 END AS lag_seconds
FROM unnest($1::text[]) AS n(name)
CROSS JOIN ({_HEAD}) AS h(head)
LEFT JOIN {CHECKPOINTS} c ON c.name = n.name
LEFT JOIN {EVENTS_TABLE} e ON e.notification_id = coalesce(c.position, 0) + 1
ORDER BY n.name
"""


async def lag_rows(conn: asyncpg.Connection | asyncpg.Pool, names: Iterable[str]) -> list[asyncpg.Record]:
    """Rows of name, position, head, lag_events, lag_seconds, error, updated_at; a read
    model never run shows position 0.

    Lag in seconds is how long the oldest event not yet applied has been waiting.
    """
    sql = _STATUS
    if not await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", CHECKPOINTS):
        sql = _STATUS.replace(  # no projector has run here yet
            f"LEFT JOIN {CHECKPOINTS} c ON c.name = n.name",
            "LEFT JOIN (SELECT NULL::text, NULL::bigint, NULL::text, NULL::timestamptz) "
            "AS c(name, position, error, updated_at) ON false",
        )
    return list(await conn.fetch(sql, list(names)))


async def statuses(conn: asyncpg.Connection | asyncpg.Pool, names: Iterable[str]) -> list[ProjectionStatus]:
    stuck = await failures.read_all(conn)
    out = []
    for r in await lag_rows(conn, names):
        failure = stuck.get(r["name"])
        out.append(ProjectionStatus(
            name=r["name"], position=int(r["position"]), head=int(r["head"]),
            lag_events=int(r["lag_events"]), lag_seconds=float(r["lag_seconds"]),
            error=failure.summary if failure else r["error"], updated_at=r["updated_at"],
            failure=failure,
        ))
    return out
