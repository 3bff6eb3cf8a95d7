"""Audit trail: every event with who did it, when, to which aggregate, and why, with the
row's chain hash (the transparency log's leaf for that position)."""

from __future__ import annotations

import asyncpg

from program.projections.base import RangeProjection
from program.projections.tables import Table
from program.store.schema import EVENTS_TABLE

ENTRIES = Table.define(
    "entries",
    """position bigint, recorded_at timestamptz, aggregate_id uuid, aggregate_type text,
    event_type text, originator_version bigint, actor text, role text, command text,
    correlation_id text, causation_id text, request_id text, event_id text, detail text,
    hash bytea""",
    key="position",
)

_COPY = f"""
INSERT INTO {{schema}}.entries ({", ".join(ENTRIES.names)})
SELECT e.notification_id, e.recorded_at, e.originator_id,
       split_part(k.kind, '.', 1), regexp_replace(k.kind, '^.*[.]', ''), e.originator_version,
       e.metadata->>'actor', e.metadata->>'role', e.metadata->>'command',
       e.metadata->>'correlation_id', e.metadata->>'causation_id', e.metadata->>'request_id',
       e.metadata->>'event_id', e.metadata->>'detail', e.hash
FROM {EVENTS_TABLE} e CROSS JOIN LATERAL (SELECT split_part(e.topic, ':', 2) AS kind) k
WHERE e.notification_id > $1 AND e.notification_id <= $2
"""


class AuditTrailProjection(RangeProjection):
    """Copies each row's identity and metadata; needs no event decoding at all.

    ``detail`` is what a command chose to say in the metadata about what it did and why
    (an operator's skip names the read model, the position and the reason); never
    personal data.

    Indexed for the filters the query offers (aggregate, actor, event type, time),
    each in log order for keyset pages.
    """

    name = "audit_trail"
    tables = (ENTRIES,)
    indexes = (
        "CREATE INDEX ON {schema}.entries (aggregate_id, position)",
        "CREATE INDEX ON {schema}.entries (actor, position)",
        "CREATE INDEX ON {schema}.entries (event_type, position)",
        "CREATE INDEX ON {schema}.entries (recorded_at, position)",
    )

    async def apply_range(self, conn: asyncpg.Connection, schema: str, after: int, upto: int
                          ) -> None:
        await conn.execute(_COPY.format(schema=schema), after, upto)
