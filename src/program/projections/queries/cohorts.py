"""Cohort dashboard queries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from program.projections.queries.paging import (
    InvalidQuery,
    Sql,
    decode_cursor,
    encode_cursor,
    make_page,
    page_size,
)
from program.projections.views import (
    AbsenceView,
    CohortFacilitatorView,
    CohortView,
    OutcomeView,
    Page,
    SessionView,
)

S = "rm_cohort_dashboard"

# Everything but the marks and scores the figures come from.
_COLUMNS = """c.id, c.programme_id, c.name, c.status, c.format, c.capacity, c.starts_on, c.venue,
    c.min_facilitators, c.started_on, c.cancel_reason, c.planned_at, c.updated_at, c.enrolled,
    c.waitlist, c.sessions, c.present, c.recorded, c.absentees, c.outcomes"""

_SELECT = f"""
SELECT {_COLUMNS}, coalesce(p.measures, '[]'::jsonb) AS programme_measures,
       coalesce((SELECT jsonb_agg(jsonb_build_array(f.facilitator_id, f.role, f.assigned_at)
                                  ORDER BY f.assigned_at, f.facilitator_id)
                 FROM {S}.facilitators f WHERE f.cohort_id = c.id), '[]'::jsonb) AS facilitators
FROM {S}.cohorts c LEFT JOIN {S}.programmes p ON p.id = c.programme_id"""


def _outcomes(measures: list[str], stats: dict[str, dict[str, Any]]) -> tuple[OutcomeView, ...]:
    names = list(measures) + sorted(m for m in stats if m not in measures)
    views = []
    for measure in names:
        s = stats.get(measure) or {}
        people = int(s.get("people", 0))
        views.append(OutcomeView(
            measure=measure, baseline_count=int(s.get("baseline", 0)),
            follow_up_count=int(s.get("follow_up", 0)), people=people,
            mean_change=(float(s["change_sum"]) / people) if people else None,
        ))
    return tuple(views)


def _view(r: asyncpg.Record, now: datetime) -> CohortView:
    sessions = tuple(sorted((SessionView(UUID(sid), datetime.fromisoformat(at))
                             for sid, at in r["sessions"]), key=lambda s: (s.starts_at, s.id)))
    upcoming = next((s for s in sessions if s.starts_at > now), None)
    enrolled = tuple(UUID(p) for p in r["enrolled"])
    absences = sorted(r["absentees"].items(), key=lambda kv: (-kv[1], kv[0]))
    return CohortView(
        id=r["id"], programme_id=r["programme_id"], name=r["name"], status=r["status"],
        format=r["format"], capacity=r["capacity"], starts_on=r["starts_on"], venue=r["venue"],
        min_facilitators=r["min_facilitators"], started_on=r["started_on"],
        cancel_reason=r["cancel_reason"], planned_at=r["planned_at"], updated_at=r["updated_at"],
        enrolled=enrolled, waitlist=tuple(UUID(p) for p in r["waitlist"]),
        places_left=max(r["capacity"] - len(enrolled), 0) if r["capacity"] is not None else None,
        facilitators=tuple(
            CohortFacilitatorView(UUID(fid), role, datetime.fromisoformat(at))
            for fid, role, at in r["facilitators"]
        ),
        sessions=sessions, next_session=upcoming, attendance_present=r["present"],
        attendance_recorded=r["recorded"],
        attendance_rate=r["present"] / r["recorded"] if r["recorded"] else None,
        consecutive_absences=tuple(AbsenceView(UUID(p), n) for p, n in absences),
        outcomes=_outcomes(r["programme_measures"], r["outcomes"]),
    )


async def get_cohorts(
    pool: asyncpg.Pool | asyncpg.Connection, ids: Iterable[UUID], *, now: datetime
) -> dict[UUID, CohortView]:
    """Cohort dashboards by id, in one statement (for a DataLoader)."""
    rows = await pool.fetch(f"{_SELECT} WHERE c.id = ANY($1::uuid[])", list(ids))
    return {r["id"]: _view(r, now) for r in rows}


async def list_cohorts(
    pool: asyncpg.Pool | asyncpg.Connection,
    *,
    scope: set[UUID] | None,
    programme_id: UUID | None = None,
    status: str | None = None,
    first: int = 50,
    after: str | None = None,
    now: datetime,
    ids: set[UUID] | None = None,
) -> Page[CohortView]:
    """Cohorts by start date; ``scope`` is the programme ids the caller may see (None: all),
    ``ids`` further limits to given cohorts (e.g. a facilitator's own)."""
    n = page_size(first)
    q = Sql(_SELECT)
    if scope is not None:
        q.where(f"c.programme_id = ANY({q.arg(list(scope))}::uuid[])")
    if ids is not None:
        q.where(f"c.id = ANY({q.arg(list(ids))}::uuid[])")
    if programme_id is not None:
        q.where(f"c.programme_id = {q.arg(programme_id)}::uuid")
    if status is not None:
        q.where(f"c.status = {q.arg(status)}")
    if after is not None:
        starts_on, last = decode_cursor(after, 2)
        try:
            key = (datetime.fromisoformat(starts_on).date(), UUID(last))
        except ValueError:
            raise InvalidQuery("cursor is not valid") from None
        q.where(f"(c.starts_on, c.id) > ({q.arg(key[0])}::date, {q.arg(key[1])}::uuid)")
    rows = await pool.fetch(q.text("c.starts_on, c.id", n + 1), *q.args)
    return make_page([_view(r, now) for r in rows], n,
                     lambda v: encode_cursor(v.starts_on.isoformat(), v.id))


async def cohort_ids_for_facilitator(
    pool: asyncpg.Pool | asyncpg.Connection, facilitator_id: UUID
) -> list[UUID]:
    """Cohorts the facilitator is assigned to now (for scope checks)."""
    rows = await pool.fetch(
        f"SELECT cohort_id FROM {S}.facilitators WHERE facilitator_id = $1 ORDER BY cohort_id",
        facilitator_id,
    )
    return [r["cohort_id"] for r in rows]
