"""The events an operator decided a projection goes on without, read from the log itself.

Skips are ``ProjectionMaintenance`` events (see ``program.domain.maintenance``), so a
projector honours them after a restart and a rebuild honours them too. Whoever records
one also sends a NOTIFY on ``CHANNEL`` with the projection's name, so a projector in
another process waiting out its backoff re-reads them at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
from eventsourcing.persistence import Mapper, StoredEvent

from program.domain.maintenance import ProjectionMaintenance
from program.store.eventstore import EventStore

CHANNEL = "program_projection_maintenance"


async def skipped(store: EventStore, mapper: Mapper, name: str) -> frozenset[int]:
    """Positions ``name`` skips (read afresh: no aggregate cache can be out of date)."""
    aggregate: Any = None
    for row in await store.read_aggregate(ProjectionMaintenance.create_id(name)):
        aggregate = mapper.to_domain_event(StoredEvent(
            row.originator_id, row.originator_version, row.topic, row.state)).mutate(aggregate)
    return aggregate.skipped if aggregate is not None else frozenset()


async def announce(conn: asyncpg.Connection | asyncpg.Pool, name: str) -> None:
    """Tell every projector that ``name``'s maintenance changed (a skip or a retry)."""
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, name)


def segments(rows: Sequence[Any], skip: frozenset[int]) -> list[tuple[Sequence[Any], bool]]:
    """``rows`` cut into runs to apply and single rows to skip, in order."""
    if not skip or not any(r[0] in skip for r in rows):
        return [(rows, False)]
    out: list[tuple[Sequence[Any], bool]] = []
    start = 0
    for i, r in enumerate(rows):
        if r[0] in skip:
            if i > start:
                out.append((rows[start:i], False))
            out.append((rows[i:i + 1], True))
            start = i + 1
    if start < len(rows):
        out.append((rows[start:], False))
    return out
