"""Programme overview: what a programme is, and its cohorts, enrolments and attendance in sum.

Per-cohort counters are kept here; the per-programme sums are taken when queried
(a programme has tens of cohorts), so a cohort's event never rewrites its programme row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

import asyncpg

from program.projections.base import Envelope, Projection
from program.projections.tables import Rows, Table

PROGRAMMES = Table.define(
    "programmes",
    """id uuid, name text, description text, status text, purposes jsonb, measures jsonb,
    min_facilitators int, created_at timestamptz, updated_at timestamptz""",
    key="id",
)
# A mark recorded again replaces the first, so the counters need the one it replaces:
# ``marks`` holds, per person, a character per session in scheduling order (``sessions``):
# ``P`` present, ``A`` absent, ``-`` not recorded.
COHORTS = Table.define(
    "cohorts",
    """id uuid, programme_id uuid, status text, enrolled int, waitlisted int,
    present int, recorded int, sessions jsonb, marks jsonb""",
    key="id",
)


class _Batch:
    def __init__(self) -> None:
        self.programmes = Rows(PROGRAMMES)
        self.cohorts = Rows(COHORTS)
        self._slots: dict[UUID, dict[str, int]] = {}

    def slots(self, cohort_id: UUID, row: dict[str, Any]) -> dict[str, int]:
        """Each session's place in scheduling order, where its marks go."""
        slots = self._slots.get(cohort_id)
        if slots is None:
            slots = self._slots[cohort_id] = {s: i for i, s in enumerate(row["sessions"])}
        return slots


def _created(b: _Batch, e: Envelope) -> None:
    ev = e.event
    b.programmes.put({
        "id": e.originator_id, "name": ev.name, "description": ev.description,
        "status": "DRAFT", "purposes": list(ev.required_consent_purposes),
        "measures": list(ev.outcome_measures), "min_facilitators": ev.min_facilitators_per_cohort,
        "created_at": ev.timestamp, "updated_at": e.recorded_at,
    })


def _updated(b: _Batch, e: Envelope) -> None:
    if (row := b.programmes.get(e.originator_id)) is None:
        return
    ev = e.event
    if ev.description is not None:
        row["description"] = ev.description
    row.update(purposes=list(ev.required_consent_purposes), measures=list(ev.outcome_measures),
               updated_at=e.recorded_at)
    b.programmes.changed(e.originator_id)


def _programme_status(status: str) -> Callable[[_Batch, Envelope], None]:
    def handle(b: _Batch, e: Envelope) -> None:
        row = b.programmes.get(e.originator_id)
        if row is not None:
            row.update(status=status, updated_at=e.recorded_at)
            b.programmes.changed(e.originator_id)
    return handle


def _planned(b: _Batch, e: Envelope) -> None:
    b.cohorts.put({"id": e.originator_id, "programme_id": e.event.programme_id,
                   "status": "PLANNED", "enrolled": 0, "waitlisted": 0, "present": 0,
                   "recorded": 0, "sessions": [], "marks": {}})


def _cohort(b: _Batch, e: Envelope) -> dict[str, Any] | None:
    row = b.cohorts.get(e.originator_id)
    if row is not None:
        b.cohorts.changed(e.originator_id)
    return row


def _cohort_status(status: str) -> Callable[[_Batch, Envelope], None]:
    def handle(b: _Batch, e: Envelope) -> None:
        if (row := _cohort(b, e)) is not None:
            row["status"] = status
    return handle


def _counts(enrolled: int, waitlisted: int) -> Callable[[_Batch, Envelope], None]:
    def handle(b: _Batch, e: Envelope) -> None:
        if (row := _cohort(b, e)) is not None:
            row["enrolled"] += enrolled
            row["waitlisted"] += waitlisted
    return handle


def _withdrawn(b: _Batch, e: Envelope) -> None:
    if (row := _cohort(b, e)) is not None:
        row["waitlisted" if e.event.was_waitlisted else "enrolled"] -= 1


def _scheduled(b: _Batch, e: Envelope) -> None:
    if (row := _cohort(b, e)) is not None:
        b.slots(e.originator_id, row)[str(e.event.session_id)] = len(row["sessions"])
        row["sessions"].append(str(e.event.session_id))


def _attendance(b: _Batch, e: Envelope) -> None:
    if (row := _cohort(b, e)) is None:
        return
    slot = b.slots(e.originator_id, row).get(str(e.event.session_id))
    if slot is None:
        return
    pid = str(e.event.participant_id)
    marks = row["marks"].get(pid, "").ljust(slot + 1, "-")
    previous, code = marks[slot], "P" if e.event.status == "PRESENT" else "A"
    row["marks"][pid] = marks[:slot] + code + marks[slot + 1:]
    row["recorded"] += previous == "-"
    row["present"] += (code == "P") - (previous == "P")


HANDLERS: dict[str, Callable[[_Batch, Envelope], None]] = {
    "Programme.Created": _created,
    "Programme.Activated": _programme_status("ACTIVE"),
    "Programme.Closed": _programme_status("CLOSED"),
    "Programme.Updated": _updated,
    "Cohort.Planned": _planned,
    "Cohort.EnrolmentOpened": _cohort_status("OPEN"),
    "Cohort.Started": _cohort_status("RUNNING"),
    "Cohort.Completed": _cohort_status("COMPLETED"),
    "Cohort.Cancelled": _cohort_status("CANCELLED"),
    "Cohort.ParticipantEnrolled": _counts(1, 0),
    "Cohort.ParticipantWaitlisted": _counts(0, 1),
    "Cohort.ParticipantPromoted": _counts(1, -1),
    "Cohort.ParticipantWithdrawn": _withdrawn,
    "Cohort.SessionScheduled": _scheduled,
    "Cohort.AttendanceRecorded": _attendance,
}


class ProgrammeOverviewProjection(Projection):
    """Keeps each programme's description and status, and per-cohort counters to sum."""

    name = "programme_overview"
    handles = frozenset(HANDLERS)
    tables = (PROGRAMMES, COHORTS)
    indexes = (
        "CREATE INDEX ON {schema}.programmes (name, id)",
        "CREATE INDEX ON {schema}.programmes (status, name, id)",
        "CREATE INDEX ON {schema}.cohorts (programme_id)",
    )

    async def apply(
        self, conn: asyncpg.Connection, schema: str, batch: Sequence[Envelope]
    ) -> None:
        b = _Batch()
        programmes: set[UUID] = set()
        cohorts: set[UUID] = set()
        for e in batch:
            (programmes if e.kind.startswith("Programme.") else cohorts).add(e.originator_id)
        await b.programmes.load(conn, schema, programmes)
        await b.cohorts.load(conn, schema, cohorts)
        for e in batch:
            HANDLERS[e.kind](b, e)
        for rows in (b.programmes, b.cohorts):
            await rows.flush(conn, schema)
