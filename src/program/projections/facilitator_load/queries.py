"""Facilitator load queries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from uuid import UUID

import asyncpg

from program.projections.by_id import where_id
from program.projections.facilitator_load.projection import FacilitatorLoadProjection
from program.projections.facilitator_load.views import (
    CredentialView,
    FacilitatorCohortView,
    FacilitatorView,
)
from program.projections.paging import (
    Page,
    Sql,
    cursor_moment,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
    make_page,
    page_size,
)
from program.store.reads import Reader

FL = FacilitatorLoadProjection.schema
ENDED = ("COMPLETED", "CANCELLED")

_FACILITATORS = f"""
SELECT f.*, coalesce((
    SELECT jsonb_agg(jsonb_build_object('cohort_id', a.cohort_id, 'role', a.role,
                                        'programme_id', c.programme_id,
                                        'status', c.status, 'sessions', c.sessions)
                     ORDER BY a.assigned_at, a.cohort_id)
    FROM {FL}.assignments a LEFT JOIN {FL}.cohorts c ON c.id = a.cohort_id
    WHERE a.facilitator_id = f.id), '[]'::jsonb) AS cohorts
FROM {FL}.facilitators f"""


def _facilitator(r: asyncpg.Record, today: date, now: datetime) -> FacilitatorView:
    cohorts = []
    for c in r["cohorts"]:
        active = c["status"] is not None and c["status"] not in ENDED
        upcoming = sum(1 for at in c["sessions"] or () if datetime.fromisoformat(at) > now)
        programme = UUID(c["programme_id"]) if c.get("programme_id") else None
        cohorts.append(FacilitatorCohortView(UUID(c["cohort_id"]), c["role"], c["status"],
                                             active, upcoming if active else 0, programme))
    credentials = []
    for kind, until in sorted((r["credentials"] or {}).items()):
        valid_until = date.fromisoformat(until)
        days = (valid_until - today).days
        credentials.append(CredentialView(kind, valid_until, days, days < 0))
    return FacilitatorView(
        id=r["id"], personal_data=r["personal_data"], legacy=r["legacy"], erased=r["erased"],
        status=r["status"],
        status_reason=r["status_reason"], max_cohorts=r["max_cohorts"],
        registered_at=r["registered_at"], cohorts=tuple(cohorts),
        active_cohort_count=sum(c.active for c in cohorts),
        upcoming_sessions=sum(c.upcoming_sessions for c in cohorts),
        credentials=tuple(credentials),
    )


async def get_facilitators(
    pool: Reader, ids: Iterable[UUID], *, today: date, now: datetime
) -> dict[UUID, FacilitatorView]:
    """Facilitators by id with their load; expiry counted from ``today``, sessions after ``now``."""
    rows = await pool.fetch(*where_id(_FACILITATORS, "f.id", ids))
    return {r["id"]: _facilitator(r, today, now) for r in rows}


async def list_facilitators(
    pool: asyncpg.Pool | asyncpg.Connection,
    *,
    first: int = 50,
    after: str | None = None,
    today: date,
    now: datetime,
) -> Page[FacilitatorView]:
    """Facilitators in the order they registered (names are ciphertext: the database
    cannot sort by them)."""
    n = page_size(first)
    q = Sql(_FACILITATORS)
    if after is not None:
        at, last = decode_cursor(after, 2)
        q.where(f"(f.registered_at, f.id) > ({q.arg(cursor_moment(at))}::timestamptz, "
                f"{q.arg(cursor_uuid(last))}::uuid)")
    rows = await pool.fetch(q.text("f.registered_at, f.id", n + 1), *q.args)
    return make_page([_facilitator(r, today, now) for r in rows], n,
                     lambda v: encode_cursor(v.registered_at.isoformat(), v.id))
