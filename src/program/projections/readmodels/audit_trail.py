"""Audit trail: every event with who did it, when, to which aggregate, and why."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import asyncpg

from program.projections.base import Envelope, Projection
from program.projections.tables import Appends, Table

ENTRIES = Table.define(
    "entries",
    """position bigint, recorded_at timestamptz, aggregate_id uuid, aggregate_type text,
    event_type text, originator_version bigint, actor text, role text, command text,
    correlation_id text, causation_id text, request_id text, event_id text""",
    key="position",
)


def _metadata(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


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
        entries = Appends(ENTRIES)
        for envelope in batch:
            row = envelope.row
            meta = _metadata(row.metadata)
            aggregate_type, _, event_type = envelope.kind.partition(".")
            entries.add(
                row.position, row.recorded_at, row.originator_id, aggregate_type,
                event_type.rpartition(".")[2] or aggregate_type, row.originator_version,
                meta.get("actor"), meta.get("role"), meta.get("command"),
                meta.get("correlation_id"), meta.get("causation_id"), meta.get("request_id"),
                meta.get("event_id"),
            )
        await entries.flush(conn, schema)
