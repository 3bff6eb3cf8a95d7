"""Audit trail queries."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from program.projections.audit_trail.projection import AuditTrailProjection
from program.projections.audit_trail.views import AuditEntryView
from program.projections.paging import (
    InvalidQuery,
    Page,
    Sql,
    decode_cursor,
    encode_cursor,
    make_page,
    page_size,
)

S = AuditTrailProjection.schema


def _entry(r: asyncpg.Record) -> AuditEntryView:
    row = dict(r)
    if row.get("hash") is not None:
        row["hash"] = bytes(row["hash"])
    return AuditEntryView(**row)


async def audit_trail(
    pool: asyncpg.Pool | asyncpg.Connection,
    *,
    aggregate_id: UUID | None = None,
    actor: str | None = None,
    event_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    first: int = 50,
    after: str | None = None,
) -> Page[AuditEntryView]:
    """Events in log order, filtered; ``since`` is inclusive and ``until`` exclusive.

    ``event_type`` is the event's name (``ParticipantEnrolled``) or aggregate and name
    (``Cohort.ParticipantEnrolled``).
    """
    n = page_size(first)
    q = Sql(f"SELECT * FROM {S}.entries")
    if aggregate_id is not None:
        q.where(f"aggregate_id = {q.arg(aggregate_id)}::uuid")
    if actor is not None:
        q.where(f"actor = {q.arg(actor)}")
    if event_type is not None:
        aggregate_type, _, name = event_type.rpartition(".")
        q.where(f"event_type = {q.arg(name)}")
        if aggregate_type:
            q.where(f"aggregate_type = {q.arg(aggregate_type)}")
    if since is not None:
        q.where(f"recorded_at >= {q.arg(since)}")
    if until is not None:
        q.where(f"recorded_at < {q.arg(until)}")
    if after is not None:
        (position,) = decode_cursor(after, 1)
        if not isinstance(position, int):
            raise InvalidQuery("cursor is not valid")
        q.where(f"position > {q.arg(position)}::bigint")
    rows = await pool.fetch(q.text("position", n + 1), *q.args)
    return make_page([_entry(r) for r in rows], n, lambda v: encode_cursor(v.position))

