"""Programme overview queries."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import asyncpg

from program.projections.by_id import where_id
from program.projections.paging import (
    Page,
    Sql,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
    make_page,
    page_size,
)
from program.projections.programme_overview.projection import ProgrammeOverviewProjection
from program.projections.programme_overview.views import ProgrammeView
from program.store.reads import Reader

S = ProgrammeOverviewProjection.schema

_SELECT = f"""
SELECT p.id, p.name, p.description, p.status, p.purposes, p.measures, p.min_facilitators,
       p.created_at, p.updated_at,
       coalesce(s.cohorts, 0) AS cohorts, coalesce(s.by_status, '{{}}'::jsonb) AS by_status,
       coalesce(s.enrolled, 0) AS enrolled, coalesce(s.waitlisted, 0) AS waitlisted,
       coalesce(s.present, 0) AS present, coalesce(s.recorded, 0) AS recorded
FROM {S}.programmes p
LEFT JOIN LATERAL (
    SELECT sum(n)::int AS cohorts, jsonb_object_agg(status, n) AS by_status,
           sum(enrolled)::int AS enrolled, sum(waitlisted)::int AS waitlisted,
           sum(present)::int AS present, sum(recorded)::int AS recorded
    FROM (SELECT c.status, count(*) AS n,
                 sum(c.enrolled) FILTER (WHERE c.status NOT IN ('COMPLETED', 'CANCELLED'))
                     AS enrolled,
                 sum(c.waitlisted) FILTER (WHERE c.status NOT IN ('COMPLETED', 'CANCELLED'))
                     AS waitlisted,
                 sum(c.present) AS present, sum(c.recorded) AS recorded
          FROM {S}.cohorts c WHERE c.programme_id = p.id GROUP BY c.status) g
) s ON true"""


def _rate(present: int, recorded: int) -> float | None:
    return present / recorded if recorded else None


def _view(r: asyncpg.Record) -> ProgrammeView:
    return ProgrammeView(
        id=r["id"], name=r["name"], description=r["description"] or "", status=r["status"],
        required_consent_purposes=tuple(r["purposes"] or ()),
        outcome_measures=tuple(r["measures"] or ()),
        min_facilitators_per_cohort=r["min_facilitators"], created_at=r["created_at"],
        updated_at=r["updated_at"], cohort_count=r["cohorts"],
        cohorts_by_status={k: int(v) for k, v in (r["by_status"] or {}).items()},
        enrolled=r["enrolled"], waitlisted=r["waitlisted"], attendance_present=r["present"],
        attendance_recorded=r["recorded"], attendance_rate=_rate(r["present"], r["recorded"]),
    )


async def get_programmes(
    pool: Reader, ids: Iterable[UUID]
) -> dict[UUID, ProgrammeView]:
    """Programmes by id (missing ids are absent from the answer)."""
    rows = await pool.fetch(*where_id(_SELECT, "p.id", ids))
    return {r["id"]: _view(r) for r in rows}


async def list_programmes(
    pool: asyncpg.Pool | asyncpg.Connection,
    *,
    scope: set[UUID] | None,
    status: str | None = None,
    first: int = 50,
    after: str | None = None,
) -> Page[ProgrammeView]:
    """Programmes by name; ``scope`` limits them to those ids (None: all)."""
    n = page_size(first)
    q = Sql(_SELECT)
    if scope is not None:
        q.where(f"p.id = ANY({q.arg(list(scope))}::uuid[])")
    if status is not None:
        q.where(f"p.status = {q.arg(status)}")
    if after is not None:
        name, last = decode_cursor(after, 2)
        q.where(f"(p.name, p.id) > ({q.arg(name)}::text, {q.arg(cursor_uuid(last))}::uuid)")
    rows = await pool.fetch(q.text("p.name, p.id", n + 1), *q.args)
    return make_page([_view(r) for r in rows], n, lambda v: encode_cursor(v.name, v.id))

