"""Cohort dashboard queries."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from program.projections.by_id import where_id
from program.projections.cohort_dashboard.projection import (
    ENROLLED,
    HEAD,
    WAITLISTED,
    CohortDashboardProjection,
)
from program.projections.cohort_dashboard.views import (
    AbsenceView,
    CohortFacilitatorView,
    CohortView,
    OutcomeView,
    SessionView,
)
from program.projections.paging import (
    InvalidQuery,
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

S = CohortDashboardProjection.schema

_COLUMNS = """c.id, c.programme_id, c.name, c.status, c.format, c.capacity, c.starts_on, c.venue,
    c.min_facilitators, c.started_on, c.cancel_reason, c.planned_at, c.updated_at, c.enrolled,
    c.waitlisted, c.present, c.recorded, c.outcomes"""

# A dashboard is its row: its lists (sessions in order, facilitators, people with a run
# of absences, the head of each list of people) are kept in it by the projection.
_SELECT = f"""
SELECT {_COLUMNS}, coalesce(p.measures, '[]'::jsonb) AS programme_measures,
       c.session_ids, c.session_starts, c.facilitator_ids, c.facilitator_roles,
       c.facilitator_since, c.absentee_ids, c.absentee_runs
FROM {S}.cohorts c LEFT JOIN {S}.programmes p ON p.id = c.programme_id"""

# A dashboard by id comes with the head of each list of people (HEAD of them, and one
# more to tell whether that was all), so showing them takes no second statement.
_SELECT_WITH_HEADS = _SELECT.replace(
    "\nFROM ", ", c.enrolled_head, c.waitlist_head\nFROM ", 1)

# Members of one standing, in the order they took it, at most ``first`` (NULL: all).
_MEMBERS = f"""
SELECT k.n, m.participant_id
FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS k(cohort_id, standing, n)
CROSS JOIN LATERAL (
    SELECT participant_id, since FROM {S}.members
    WHERE cohort_id = k.cohort_id AND standing = k.standing
    ORDER BY since LIMIT $3
) m
ORDER BY k.n, m.since"""

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
    ids, starts = tuple(r["session_ids"] or ()), tuple(r["session_starts"] or ())
    at = bisect_right(starts, now)  # the first starting after now
    upcoming = SessionView(ids[at], starts[at]) if at < len(starts) else None
    enrolled = r["enrolled"]
    return CohortView(
        id=r["id"], programme_id=r["programme_id"], name=r["name"], status=r["status"],
        format=r["format"], capacity=r["capacity"], starts_on=r["starts_on"], venue=r["venue"],
        min_facilitators=r["min_facilitators"], started_on=r["started_on"],
        cancel_reason=r["cancel_reason"], planned_at=r["planned_at"], updated_at=r["updated_at"],
        enrolled_count=enrolled, waitlist_count=r["waitlisted"],
        places_left=max(r["capacity"] - enrolled, 0) if r["capacity"] is not None else None,
        facilitators=tuple(map(CohortFacilitatorView, r["facilitator_ids"] or (),
                               r["facilitator_roles"] or (), r["facilitator_since"] or ())),
        session_ids=ids, session_starts=starts, next_session=upcoming,
        attendance_present=r["present"],
        attendance_recorded=r["recorded"],
        attendance_rate=r["present"] / r["recorded"] if r["recorded"] else None,
        consecutive_absences=tuple(map(AbsenceView, r["absentee_ids"] or (),
                                       r["absentee_runs"] or ())),
        outcomes=_outcomes(r["programme_measures"], r["outcomes"]),
    )


async def get_cohorts(
    pool: asyncpg.Pool | asyncpg.Connection, ids: Iterable[UUID], *, now: datetime
) -> dict[UUID, CohortView]:
    """Cohort dashboards by id, in one statement (for a DataLoader)."""
    rows = await pool.fetch(*where_id(_SELECT, "c.id", ids))
    return {r["id"]: _view(r, now) for r in rows}


@dataclass(frozen=True)
class Dashboards:
    """Cohort dashboards by id, and the head of each cohort's lists of people."""

    cohorts: dict[UUID, CohortView]
    # (cohort id, ENROLLED or WAITLISTED) -> (the first HEAD + 1 at most, in order)
    heads: dict[tuple[UUID, str], tuple[UUID, ...]]

    def members(self, cohort_id: UUID, standing: str, first: int | None) -> tuple[UUID, ...] | None:
        """The first ``first`` people (None: all) of a list, when the head holds them."""
        head = self.heads.get((cohort_id, standing))
        if head is None:
            return None
        whole = len(head) <= HEAD
        if first is None:
            return head if whole else None
        return head[:first] if whole or first <= HEAD else None


async def get_dashboards(
    pool: Reader, ids: Iterable[UUID], *, now: datetime
) -> Dashboards:
    """Cohort dashboards by id with the heads of their lists of people, in one statement."""
    rows = await pool.fetch(*where_id(_SELECT_WITH_HEADS, "c.id", ids))
    heads: dict[tuple[UUID, str], tuple[UUID, ...]] = {}
    for r in rows:
        heads[(r["id"], ENROLLED)] = tuple(r["enrolled_head"] or ())
        heads[(r["id"], WAITLISTED)] = tuple(r["waitlist_head"] or ())
    return Dashboards({r["id"]: _view(r, now) for r in rows}, heads)


async def cohort_members(
    pool: Reader,
    keys: Sequence[tuple[UUID, str]],
    first: int | None = None,
) -> dict[tuple[UUID, str], tuple[UUID, ...]]:
    """Per (cohort id, ENROLLED or WAITLISTED): its people in order (enrolment order, or
    head of the waitlist first), at most ``first`` of them; one statement (for a DataLoader)."""
    if first is not None and first < 0:
        raise InvalidQuery("first must not be negative")
    rows = await pool.fetch(_MEMBERS, [k[0] for k in keys], [k[1] for k in keys], first)
    found: dict[int, list[UUID]] = {}
    for r in rows:
        found.setdefault(r["n"], []).append(r["participant_id"])
    return {key: tuple(found.get(i + 1, ())) for i, key in enumerate(keys)}


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
        q.where(f"(c.starts_on, c.id) > ({q.arg(cursor_moment(starts_on).date())}::date, "
                f"{q.arg(cursor_uuid(last))}::uuid)")
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
