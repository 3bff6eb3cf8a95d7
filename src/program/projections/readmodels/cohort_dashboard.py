"""Cohort dashboard: occupancy, waitlist, facilitators, sessions, attendance and outcomes.

One row per cohort holds the lists and the figures a dashboard shows; one row per
(cohort, person) holds that person's attendance marks and scores, from which the
cohort's figures are kept up to date by difference (so a batch touches only the
people its events mention).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

import asyncpg

from program.projections.base import Envelope, Projection
from program.projections.tables import Rows, Table

COHORTS = Table.define(
    "cohorts",
    """id uuid, programme_id uuid, name text, status text, format text, capacity int,
    starts_on date, venue text, min_facilitators int, started_on date, cancel_reason text,
    planned_at timestamptz, updated_at timestamptz, enrolled jsonb, waitlist jsonb,
    sessions jsonb, present int, recorded int, absentees jsonb, outcomes jsonb""",
    key="id",
)
MEMBERS = Table.define(
    "members",
    "cohort_id uuid, participant_id uuid, state text, marks jsonb, outcomes jsonb, streak int",
    key="cohort_id, participant_id",
)
FACILITATORS = Table.define(
    "facilitators",
    "cohort_id uuid, facilitator_id uuid, role text, assigned_at timestamptz",
    key="cohort_id, facilitator_id",
)
PROGRAMMES = Table.define("programmes", "id uuid, measures jsonb", key="id")

ABSENCE_STREAK = 3
PRESENT = "PRESENT"

_MEMBER_EVENTS = frozenset({
    "Cohort.ParticipantEnrolled", "Cohort.ParticipantWaitlisted", "Cohort.ParticipantPromoted",
    "Cohort.ParticipantWithdrawn", "Cohort.AttendanceRecorded",
})


class _Batch:
    """The rows one batch works on, and which people's figures need recomputing."""

    def __init__(self) -> None:
        self.cohorts = Rows(COHORTS)
        self.members = Rows(MEMBERS)
        self.facilitators = Rows(FACILITATORS)
        self.programmes = Rows(PROGRAMMES)
        self.touched: set[tuple[UUID, UUID]] = set()

    def cohort(self, envelope: Envelope, cohort_id: UUID | None = None) -> dict[str, Any] | None:
        key = cohort_id or envelope.row.originator_id
        row = self.cohorts.get(key)
        if row is not None:
            row["updated_at"] = envelope.row.recorded_at
            self.cohorts.changed(key)
        return row

    def member(self, cohort_id: UUID, participant_id: UUID) -> dict[str, Any]:
        key = (cohort_id, participant_id)
        row = self.members.get(key)
        if row is None:
            row = self.members.put({"cohort_id": cohort_id, "participant_id": participant_id,
                                    "marks": {}, "outcomes": {}, "streak": 0})
        self.members.changed(key)
        self.touched.add(key)
        return row


def _planned(b: _Batch, e: Envelope) -> None:
    ev = e.event
    b.cohorts.put({
        "id": e.row.originator_id, "programme_id": ev.programme_id, "name": ev.name,
        "status": "PLANNED", "format": ev.format, "capacity": ev.capacity,
        "starts_on": ev.starts_on, "venue": ev.venue, "min_facilitators": ev.min_facilitators,
        "planned_at": ev.timestamp, "updated_at": e.row.recorded_at, "enrolled": [],
        "waitlist": [], "sessions": [], "present": 0, "recorded": 0, "absentees": {},
        "outcomes": {},
    })


def _status(status: str, **extra: Callable[[Any], Any]) -> Callable[[_Batch, Envelope], None]:
    def handle(b: _Batch, e: Envelope) -> None:
        row = b.cohort(e)
        if row is not None:
            row["status"] = status
            for column, read in extra.items():
                row[column] = read(e.event)
    return handle


def _capacity(b: _Batch, e: Envelope) -> None:
    if (row := b.cohort(e)) is not None:
        row["capacity"] = e.event.capacity


def _membership(state: str) -> Callable[[_Batch, Envelope], None]:
    def handle(b: _Batch, e: Envelope) -> None:
        row = b.cohort(e)
        pid = e.event.participant_id
        b.member(e.row.originator_id, pid)["state"] = state
        if row is None:
            return
        text = str(pid)
        _discard(row["waitlist"], text)
        _discard(row["enrolled"], text)
        if state == "ENROLLED":
            row["enrolled"].append(text)
        elif state == "WAITLISTED":
            row["waitlist"].append(text)
    return handle


def _discard(items: list[str], item: str) -> None:
    if item in items:
        items.remove(item)


def _assigned(b: _Batch, e: Envelope) -> None:
    b.facilitators.put({"cohort_id": e.row.originator_id, "facilitator_id": e.event.facilitator_id,
                        "role": e.event.role, "assigned_at": e.event.timestamp})
    b.cohort(e)


def _unassigned(b: _Batch, e: Envelope) -> None:
    b.facilitators.delete((e.row.originator_id, e.event.facilitator_id))
    b.cohort(e)


def _scheduled(b: _Batch, e: Envelope) -> None:
    if (row := b.cohort(e)) is not None:
        row["sessions"].append([str(e.event.session_id), e.event.starts_at.isoformat()])
        row["sessions"].sort(key=lambda s: (s[1], s[0]))


def _attendance(b: _Batch, e: Envelope) -> None:
    ev = e.event
    member = b.member(e.row.originator_id, ev.participant_id)
    previous = member["marks"].get(str(ev.session_id))
    member["marks"][str(ev.session_id)] = ev.status
    if (row := b.cohort(e)) is not None:
        row["recorded"] += previous is None
        row["present"] += (ev.status == PRESENT) - (previous == PRESENT)


def _outcome(b: _Batch, e: Envelope) -> None:
    ev = e.event
    member = b.member(ev.cohort_id, e.row.originator_id)
    scores = member["outcomes"].setdefault(ev.measure, {})
    before = dict(scores)
    scores[ev.timepoint] = ev.score
    row = b.cohort(e, ev.cohort_id)
    if row is not None:
        stats = row["outcomes"].setdefault(
            ev.measure, {"baseline": 0, "follow_up": 0, "people": 0, "change_sum": 0.0}
        )
        _count(stats, before, -1)
        _count(stats, scores, +1)


def _count(stats: dict[str, Any], scores: dict[str, float], sign: int) -> None:
    baseline, follow_up = scores.get("BASELINE"), scores.get("FOLLOW_UP")
    stats["baseline"] += sign * (baseline is not None)
    stats["follow_up"] += sign * (follow_up is not None)
    if baseline is not None and follow_up is not None:
        stats["people"] += sign
        stats["change_sum"] += sign * (follow_up - baseline)


def _programme(b: _Batch, e: Envelope) -> None:
    b.programmes.put({"id": e.row.originator_id, "measures": list(e.event.outcome_measures)})


HANDLERS: dict[str, Callable[[_Batch, Envelope], None]] = {
    "Programme.Created": _programme,
    "Cohort.Planned": _planned,
    "Cohort.EnrolmentOpened": _status("OPEN"),
    "Cohort.Started": _status("RUNNING", started_on=lambda ev: ev.started_on),
    "Cohort.Completed": _status("COMPLETED"),
    "Cohort.Cancelled": _status("CANCELLED", cancel_reason=lambda ev: ev.reason),
    "Cohort.CapacityChanged": _capacity,
    "Cohort.ParticipantEnrolled": _membership("ENROLLED"),
    "Cohort.ParticipantWaitlisted": _membership("WAITLISTED"),
    "Cohort.ParticipantPromoted": _membership("ENROLLED"),
    "Cohort.ParticipantWithdrawn": _membership("WITHDRAWN"),
    "Cohort.FacilitatorAssigned": _assigned,
    "Cohort.FacilitatorUnassigned": _unassigned,
    "Cohort.SessionScheduled": _scheduled,
    "Cohort.AttendanceRecorded": _attendance,
    "Participant.OutcomeRecorded": _outcome,
}


def absence_streak(marks: dict[str, str], session_order: dict[str, int]) -> int:
    """Absences in a row at the end of a person's recorded sessions, in session start order."""
    streak = 0
    for session in sorted(marks, key=lambda s: session_order.get(s, -1), reverse=True):
        if marks[session] == PRESENT:
            break
        streak += 1
    return streak


def _refresh_absentees(b: _Batch) -> None:
    orders: dict[UUID, dict[str, int]] = {}
    for cohort_id, participant_id in b.touched:
        member = b.members.get((cohort_id, participant_id))
        cohort = b.cohorts.get(cohort_id)
        if member is None or cohort is None:
            continue
        order = orders.get(cohort_id)
        if order is None:
            order = orders[cohort_id] = {s[0]: i for i, s in enumerate(cohort["sessions"])}
        member["streak"] = absence_streak(member["marks"], order)
        counts = cohort["format"] == "DROP_IN" or member["state"] == "ENROLLED"
        if counts and member["streak"] >= ABSENCE_STREAK:
            cohort["absentees"][str(participant_id)] = member["streak"]
        else:
            cohort["absentees"].pop(str(participant_id), None)


class CohortDashboardProjection(Projection):
    """Keeps each cohort's dashboard: lists in order, and its figures by difference."""

    name = "cohort_dashboard"
    handles = frozenset(HANDLERS)
    tables = (COHORTS, MEMBERS, FACILITATORS, PROGRAMMES)
    indexes = (
        "CREATE INDEX ON {schema}.cohorts (programme_id, id)",
        "CREATE INDEX ON {schema}.cohorts (status, id)",
        "CREATE INDEX ON {schema}.facilitators (facilitator_id)",
    )

    async def apply(
        self, conn: asyncpg.Connection, schema: str, batch: Sequence[Envelope]
    ) -> None:
        b = _Batch()
        cohort_ids: set[UUID] = set()
        member_keys: set[tuple[UUID, UUID]] = set()
        for e in batch:
            if e.kind == "Participant.OutcomeRecorded":
                cohort_ids.add(e.event.cohort_id)
                member_keys.add((e.event.cohort_id, e.row.originator_id))
            elif e.kind.startswith("Cohort."):
                cohort_ids.add(e.row.originator_id)
                if e.kind in _MEMBER_EVENTS:
                    member_keys.add((e.row.originator_id, e.event.participant_id))
        await b.cohorts.load(conn, schema, cohort_ids)
        await b.members.load(conn, schema, member_keys)
        for e in batch:
            HANDLERS[e.kind](b, e)
        _refresh_absentees(b)
        for rows in (b.cohorts, b.members, b.facilitators, b.programmes):
            await rows.flush(conn, schema)
