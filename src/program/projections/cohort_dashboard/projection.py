"""Cohort dashboard: occupancy, waitlist, facilitators, sessions, attendance and outcomes.

One row per cohort holds what every dashboard shows: counts, sessions and figures
(kept up to date by difference). Each person in a cohort has a row of their own in
``members``: their standing (ENROLLED, WAITLISTED, WITHDRAWN, or none for a drop-in
attendee), when they took it (the event's position, which orders the lists), their
attendance marks, current run of absences and outcome scores. An event about one
person reads and writes that person's row and the cohort's small row, so its cost does
not grow with the cohort: a waitlist of thousands is never loaded to add one more.

Marks are kept compact: one character per session in the order the sessions were
scheduled (``P`` present, ``E`` absent excused, ``U`` absent unexcused, ``-`` not
recorded).
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
    planned_at timestamptz, updated_at timestamptz, enrolled int, waitlisted int,
    sessions jsonb, present int, recorded int, outcomes jsonb""",
    key="id",
    derived="""session_ids uuid[], session_starts timestamptz[], facilitator_ids uuid[],
    facilitator_roles text[], facilitator_since timestamptz[], absentee_ids uuid[],
    absentee_runs int[], enrolled_head uuid[], waitlist_head uuid[]""",
)
MEMBERS = Table.define(
    "members",
    """cohort_id uuid, participant_id uuid, standing text, since bigint, marks text,
    streak int, scores jsonb""",
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
CODES = {"PRESENT": "P", "ABSENT_EXCUSED": "E", "ABSENT_UNEXCUSED": "U"}
NONE = "-"
ENROLLED, WAITLISTED, WITHDRAWN = "ENROLLED", "WAITLISTED", "WITHDRAWN"
_COUNTED = {ENROLLED: "enrolled", WAITLISTED: "waitlisted"}

# The head of each list of people a dashboard shows with it: this many, and one more to
# tell whether that was all.
HEAD = 50

# A cohort's lists, as a dashboard shows them, kept in its row in the types PostgreSQL
# and the driver read fastest (arrays of uuid and timestamptz, decoded in C): each
# batch computes them again for the cohorts it touched, once the rows it changed are
# written. Computed on every read instead, they were most of what reading a dashboard
# cost the database.
_DERIVE = """
UPDATE {schema}.cohorts c SET
  (session_ids, session_starts) = (
    SELECT array_agg(s.id ORDER BY s.at, s.id), array_agg(s.at ORDER BY s.at, s.id)
    FROM (SELECT (e->>0)::uuid AS id, (e->>1)::timestamptz AS at
          FROM jsonb_array_elements(c.sessions) e
          WHERE e->>1 IS NOT NULL) s),  -- no start: cancelled
  (facilitator_ids, facilitator_roles, facilitator_since) = (
    SELECT array_agg(f.facilitator_id ORDER BY f.assigned_at, f.facilitator_id),
           array_agg(f.role ORDER BY f.assigned_at, f.facilitator_id),
           array_agg(f.assigned_at ORDER BY f.assigned_at, f.facilitator_id)
    FROM {schema}.facilitators f WHERE f.cohort_id = c.id),
  (absentee_ids, absentee_runs) = (
    SELECT array_agg(m.participant_id ORDER BY m.streak DESC, m.participant_id),
           array_agg(m.streak ORDER BY m.streak DESC, m.participant_id)
    FROM {schema}.members m WHERE m.cohort_id = c.id AND m.streak >= {streak}),
  enrolled_head = (
    SELECT array_agg(h.participant_id ORDER BY h.since) FROM (
      SELECT participant_id, since FROM {schema}.members
      WHERE cohort_id = c.id AND standing = '{enrolled}' ORDER BY since LIMIT {head}) h),
  waitlist_head = (
    SELECT array_agg(h.participant_id ORDER BY h.since) FROM (
      SELECT participant_id, since FROM {schema}.members
      WHERE cohort_id = c.id AND standing = '{waitlisted}' ORDER BY since LIMIT {head}) h)
WHERE c.id = ANY($1::uuid[])"""

_PERSON_EVENTS = frozenset({
    "Cohort.ParticipantEnrolled", "Cohort.ParticipantWaitlisted", "Cohort.ParticipantPromoted",
    "Cohort.ParticipantWithdrawn", "Cohort.AttendanceRecorded", "Cohort.AttendanceCorrected",
})
_OUTCOMES = frozenset({"Participant.OutcomeRecorded", "Participant.OutcomeAmended"})
_RESEQUENCING = frozenset({"Cohort.SessionRescheduled", "Cohort.SessionCancelled"})


class _Batch:
    """The rows one batch works on, and whose absences need recounting."""

    def __init__(self) -> None:
        self.cohorts = Rows(COHORTS)
        self.members = Rows(MEMBERS)
        self.facilitators = Rows(FACILITATORS)
        self.programmes = Rows(PROGRAMMES)
        self.touched: set[tuple[UUID, UUID]] = set()
        self._slots: dict[UUID, dict[str, int]] = {}

    def slot(self, cohort_id: UUID, row: dict[str, Any], session_id: str) -> int | None:
        """Where a session's marks go: its place in scheduling order."""
        slots = self._slots.get(cohort_id)
        if slots is None:
            slots = self._slots[cohort_id] = {s[0]: i for i, s in enumerate(row["sessions"])}
        return slots.get(session_id)

    def cohort(self, e: Envelope, cohort_id: UUID | None = None) -> dict[str, Any] | None:
        key = cohort_id or e.originator_id
        row = self.cohorts.get(key)
        if row is not None:
            row["updated_at"] = e.recorded_at
            self.cohorts.changed(key)
        return row

    def member(self, cohort_id: UUID, participant_id: UUID) -> dict[str, Any]:
        """The person's row in the cohort (a new one without standing if there is none)."""
        key = (cohort_id, participant_id)
        row = self.members.get(key)
        if row is None:
            return self.members.put({"cohort_id": cohort_id, "participant_id": participant_id,
                                     "marks": "", "streak": 0, "scores": {}})
        self.members.changed(key)
        return row


def _planned(b: _Batch, e: Envelope) -> None:
    ev = e.event
    b.cohorts.put({
        "id": e.originator_id, "programme_id": ev.programme_id, "name": ev.name,
        "status": "PLANNED", "format": ev.format, "capacity": ev.capacity,
        "starts_on": ev.starts_on, "venue": ev.venue, "min_facilitators": ev.min_facilitators,
        "planned_at": ev.timestamp, "updated_at": e.recorded_at, "enrolled": 0,
        "waitlisted": 0, "sessions": [], "present": 0, "recorded": 0, "outcomes": {},
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


def _membership(standing: str) -> Callable[[_Batch, Envelope], None]:
    def handle(b: _Batch, e: Envelope) -> None:
        if (row := b.cohort(e)) is None:
            return
        pid = e.event.participant_id
        member = b.member(e.originator_id, pid)
        if (before := _COUNTED.get(member["standing"])) is not None:
            row[before] -= 1
        if (after := _COUNTED.get(standing)) is not None:
            row[after] += 1
        member["standing"], member["since"] = standing, e.position
        b.touched.add((e.originator_id, pid))
    return handle


def _assigned(b: _Batch, e: Envelope) -> None:
    b.facilitators.put({"cohort_id": e.originator_id, "facilitator_id": e.event.facilitator_id,
                        "role": e.event.role, "assigned_at": e.event.timestamp})
    b.cohort(e)


def _unassigned(b: _Batch, e: Envelope) -> None:
    b.facilitators.delete((e.originator_id, e.event.facilitator_id))
    b.cohort(e)


def _scheduled(b: _Batch, e: Envelope) -> None:
    if (row := b.cohort(e)) is not None:
        sid = str(e.event.session_id)
        b.slot(e.originator_id, row, sid)  # index the sessions before this one
        b._slots[e.originator_id][sid] = len(row["sessions"])
        row["sessions"].append([sid, e.event.starts_at.isoformat()])


def _rescheduled(b: _Batch, e: Envelope) -> None:
    if (row := b.cohort(e)) is not None:
        sid = str(e.event.session_id)
        for session in row["sessions"]:
            if session[0] == sid:
                session[1] = e.event.starts_at.isoformat()


def _session_cancelled(b: _Batch, e: Envelope) -> None:
    """A cancelled session keeps its slot (marks are indexed by it) and leaves the schedule."""
    if (row := b.cohort(e)) is not None:
        sid = str(e.event.session_id)
        for session in row["sessions"]:
            if session[0] == sid:
                session[1] = None  # in place: marks are indexed by the session's position


def _attendance(b: _Batch, e: Envelope) -> None:
    if (row := b.cohort(e)) is None:
        return
    ev = e.event
    slot = b.slot(e.originator_id, row, str(ev.session_id))
    if slot is None:
        return
    member = b.member(e.originator_id, ev.participant_id)
    marks = member["marks"].ljust(slot + 1, NONE)
    previous, code = marks[slot], CODES[ev.status]
    member["marks"] = marks[:slot] + code + marks[slot + 1:]
    row["recorded"] += previous == NONE
    row["present"] += (code == "P") - (previous == "P")
    b.touched.add((e.originator_id, ev.participant_id))


def _outcome(b: _Batch, e: Envelope) -> None:
    ev = e.event
    if (row := b.cohort(e, ev.cohort_id)) is None:
        return
    scores = b.member(ev.cohort_id, e.originator_id)["scores"].setdefault(ev.measure, {})
    before = dict(scores)
    scores[ev.timepoint] = ev.score
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


def _programme(b: _Batch, e: Envelope) -> None:  # created or updated
    b.programmes.put({"id": e.originator_id, "measures": list(e.event.outcome_measures)})


HANDLERS: dict[str, Callable[[_Batch, Envelope], None]] = {
    "Programme.Created": _programme,
    "Cohort.Planned": _planned,
    "Cohort.EnrolmentOpened": _status("OPEN"),
    "Cohort.Started": _status("RUNNING", started_on=lambda ev: ev.started_on),
    "Cohort.Completed": _status("COMPLETED"),
    "Cohort.Cancelled": _status("CANCELLED", cancel_reason=lambda ev: ev.reason),
    "Cohort.CapacityChanged": _capacity,
    "Cohort.ParticipantEnrolled": _membership(ENROLLED),
    "Cohort.ParticipantWaitlisted": _membership(WAITLISTED),
    "Cohort.ParticipantPromoted": _membership(ENROLLED),
    "Cohort.ParticipantWithdrawn": _membership(WITHDRAWN),
    "Cohort.FacilitatorAssigned": _assigned,
    "Cohort.FacilitatorUnassigned": _unassigned,
    "Cohort.SessionScheduled": _scheduled,
    "Cohort.AttendanceRecorded": _attendance,
    "Participant.OutcomeRecorded": _outcome,
    "Participant.OutcomeAmended": _outcome,  # the amended score replaces the recorded one
    "Cohort.AttendanceCorrected": _attendance,  # the corrected mark replaces the recorded one
    "Cohort.SessionRescheduled": _rescheduled,
    "Cohort.SessionCancelled": _session_cancelled,
    "Programme.Updated": _programme,
}


def latest_first(sessions: list[list[str]]) -> list[int]:
    """The slots of the sessions that still stand, from the latest start to the earliest:
    a cancelled session (start None) keeps its slot but no mark in it counts."""
    standing = [i for i in range(len(sessions)) if sessions[i][1] is not None]
    return sorted(standing, key=lambda i: (sessions[i][1], sessions[i][0]), reverse=True)


def absence_streak(marks: str, order: list[int]) -> int:
    """Absences in a row at the end of a person's recorded sessions, in session start order."""
    streak = 0
    for slot in order:
        code = marks[slot] if slot < len(marks) else NONE
        if code == NONE:
            continue
        if code == "P":
            break
        streak += 1
    return streak


def _recount_absences(b: _Batch) -> None:
    orders: dict[UUID, list[int]] = {}
    for cohort_id, pid in b.touched:
        row = b.cohorts.get(cohort_id)
        member = b.members.get((cohort_id, pid))
        if row is None or member is None:
            continue
        order = orders.get(cohort_id)
        if order is None:
            order = orders[cohort_id] = latest_first(row["sessions"])
        counts = row["format"] == "DROP_IN" or member["standing"] == ENROLLED
        streak = absence_streak(member["marks"], order) if counts else 0
        streak = streak if streak >= ABSENCE_STREAK else 0
        if member["streak"] != streak:
            member["streak"] = streak
            b.members.changed((cohort_id, pid))


def _person_keys(batch: Sequence[Envelope]) -> set[tuple[UUID, UUID]]:
    """(cohort, person) of every event about one person in one cohort."""
    keys = set()
    for e in batch:
        if e.kind in _PERSON_EVENTS:
            keys.add((e.originator_id, e.event.participant_id))
        elif e.kind in _OUTCOMES:
            keys.add((e.event.cohort_id, e.originator_id))
    return keys


class CohortDashboardProjection(Projection):
    """Keeps each cohort's dashboard: its counts and figures by difference, a row per person."""

    name = "cohort_dashboard"
    # 4: a cancelled session's marks no longer count in absence runs; 5: its lists kept in
    # its row, and runs of absences counted again when a session moves or is cancelled
    version = 5
    publishes_changes = True  # rows keyed by cohort (or programme) id, all through Rows
    handles = frozenset(HANDLERS)
    tables = (COHORTS, MEMBERS, FACILITATORS, PROGRAMMES)
    indexes = (
        "CREATE INDEX ON {schema}.cohorts (programme_id, starts_on, id)",
        "CREATE INDEX ON {schema}.cohorts (starts_on, id)",
        "CREATE INDEX ON {schema}.members (cohort_id, standing, since)",
        "CREATE INDEX ON {schema}.members (cohort_id, streak) WHERE streak >= 3",
        "CREATE INDEX ON {schema}.facilitators (facilitator_id)",
    )

    async def apply(
        self, conn: asyncpg.Connection, schema: str, batch: Sequence[Envelope]
    ) -> None:
        b = _Batch()
        cohort_ids = {e.event.cohort_id if e.kind in _OUTCOMES
                      else e.originator_id for e in batch if not e.kind.startswith("Programme.")}
        await b.cohorts.load(conn, schema, cohort_ids)
        await b.members.load(conn, schema, _person_keys(batch))
        # A session moved or cancelled reorders everyone's marks: each person with marks
        # in that cohort has their run of absences counted again.
        resequenced = list({e.originator_id for e in batch if e.kind in _RESEQUENCING})
        marked: list[tuple[UUID, UUID]] = []
        if resequenced:
            marked = [tuple(r) for r in await conn.fetch(
                f"SELECT cohort_id, participant_id FROM {schema}.members "
                "WHERE cohort_id = ANY($1::uuid[]) AND marks <> ''", resequenced)]
            await b.members.load(conn, schema, marked)
        for e in batch:
            HANDLERS[e.kind](b, e)
        b.touched.update(marked)
        _recount_absences(b)
        for rows in (b.cohorts, b.members, b.facilitators, b.programmes):
            await rows.flush(conn, schema)
        if cohort_ids:
            await conn.execute(_DERIVE.format(
                schema=schema, head=HEAD + 1, enrolled=ENROLLED, waitlisted=WAITLISTED,
                streak=ABSENCE_STREAK), list(cohort_ids))
