"""Read-model projections: checkpointed, exactly once, resumable, rebuildable.

Each read model has its own package (``cohort_dashboard/``, ``audit_trail/``, ...) holding
its tables and projection (``projection.py``), its queries (``queries.py``) and what they
return (``views.py``); the machinery they share (runner, checkpoints, tables, schemas, paging,
decoding, failures) lives here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import asyncpg

from program.projections.checkpoint import ProjectionStatus


async def lag_report(
    conn: asyncpg.Connection | asyncpg.Pool, names: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """Each projection's name, position, head, lag_events, lag_seconds and ``failure`` (a
    ``Failure`` while it is stuck, else None), for metrics and readiness."""
    from program.projections import failures
    from program.projections.checkpoint import lag_rows
    from program.projections.registry import names as all_names

    stuck = await failures.read_all(conn)
    rows = await lag_rows(conn, names if names is not None else all_names())
    return [{**dict(r), "failure": stuck.get(r["name"])} for r in rows]


async def projection_status(pool: asyncpg.Connection | asyncpg.Pool) -> list[ProjectionStatus]:
    """Each projection's position and lag, from the checkpoints (works from any process)."""
    from program.projections import checkpoint
    from program.projections.registry import names

    return await checkpoint.statuses(pool, names())


__all__ = ["ProjectionStatus", "lag_report", "projection_status"]
