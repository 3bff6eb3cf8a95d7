"""Audit trail: every event with who did it, when, to which aggregate, and why."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from program.projections.base import Envelope, Projection
from program.projections.tables import Table
from program.store.schema import EVENTS_TABLE

ENTRIES = Table.define(
    "entries",
    """position bigint, recorded_at timestamptz, aggregate_id uuid, aggregate_type text,
    event_type text, originator_version bigint, actor text, role text, command text,
    correlation_id text, causation_id text, request_id text, event_id text""",
    key="position",
)

# Every row of the batch, copied inside the database: nothing to decode, nothing to
# ship back and forth. The batch is a whole range of positions (this projection
# handles every event), and positions have no gaps.
_COPY = f"""
INSERT INTO {{schema}}.entries ({", ".join(ENTRIES.names)})
SELECT e.notification_id, e.recorded_at, e.originator_id,
       split_part(k.kind, '.', 1), regexp_replace(k.kind, '^.*[.]', ''), e.originator_version,
       e.metadata->>'actor', e.metadata->>'role', e.metadata->>'command',
       e.metadata->>'correlation_id', e.metadata->>'causation_id', e.metadata->>'request_id',
       e.metadata->>'event_id'
FROM {EVENTS_TABLE} e CROSS JOIN LATERAL (SELECT split_part(e.topic, ':', 2) AS kind) k
WHERE e.notification_id BETWEEN $1 AND $2
"""


class AuditTrailProjection(Projection):
    """Copies each row's identity and metadata; needs no event decoding at all."""

    name = "audit_trail"
    handles = None
    tables = (ENTRIES,)
    indexes = (
        "CREATE INDEX ON {schema}.entries (aggregate_id, position)",
        "CREATE INDEX ON {schema}.entries (actor, position)",
        "CREATE INDEX ON {schema}.entries (event_type, position)",
        "CREATE INDEX ON {schema}.entries (recorded_at, position)",
        "CREATE INDEX ON {schema}.entries (correlation_id)",
    )

    async def apply(
        self, conn: asyncpg.Connection, schema: str, batch: Sequence[Envelope]
    ) -> None:
        await conn.execute(_COPY.format(schema=schema), batch[0].position, batch[-1].position)
