"""Facilitator load: who they are, their status and credentials, and the cohorts they carry.

Active cohorts and upcoming sessions depend on "now", so the projection keeps the
assignments and each cohort's status and session times, and the query counts.

Names and contact details stay ciphertext here (``personal_data``); the API decrypts
them with the facilitator's live key. Facilitators registered before they were
encrypted carry plaintext in their event, kept in ``legacy`` until they are erased.
On erasure both are dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

import asyncpg

from program.projections.base import Envelope, Projection
from program.projections.tables import Rows, Table

FACILITATORS = Table.define(
    "facilitators",
    """id uuid, personal_data text, legacy jsonb, erased bool, status text,
    status_reason text, max_cohorts int, credentials jsonb, registered_at timestamptz,
    updated_at timestamptz""",
    key="id",
)
ASSIGNMENTS = Table.define(
    "assignments",
    "facilitator_id uuid, cohort_id uuid, role text, assigned_at timestamptz",
    key="facilitator_id, cohort_id",
)
COHORTS = Table.define("cohorts", "id uuid, programme_id uuid, status text, sessions jsonb",
                       key="id")


class _Batch:
    def __init__(self) -> None:
        self.facilitators = Rows(FACILITATORS)
        self.assignments = Rows(ASSIGNMENTS)
        self.cohorts = Rows(COHORTS)

    def facilitator(self, e: Envelope) -> dict[str, Any] | None:
        row = self.facilitators.get(e.originator_id)
        if row is not None:
            row["updated_at"] = e.recorded_at
            self.facilitators.changed(e.originator_id)
        return row

    def cohort(self, e: Envelope) -> dict[str, Any] | None:
        row = self.cohorts.get(e.originator_id)
        if row is not None:
            self.cohorts.changed(e.originator_id)
        return row


def _registered(b: _Batch, e: Envelope) -> None:
    ev = e.event
    legacy = ({"display_name": ev.display_name, "email": ev.email}
              if ev.personal_data is None else None)
    b.facilitators.put({
        "id": e.originator_id, "personal_data": ev.personal_data, "legacy": legacy,
        "erased": False, "status": "APPLIED", "max_cohorts": ev.max_cohorts, "credentials": {},
        "registered_at": ev.timestamp, "updated_at": e.recorded_at,
    })


def _status(status: str, reason: bool = False) -> Callable[[_Batch, Envelope], None]:
    def handle(b: _Batch, e: Envelope) -> None:
        if (row := b.facilitator(e)) is not None:
            row["status"] = status
            row["status_reason"] = e.event.reason if reason else None
    return handle


def _erased(b: _Batch, e: Envelope) -> None:
    if (row := b.facilitator(e)) is not None:
        row.update(personal_data=None, legacy=None, erased=True)


def _credential(b: _Batch, e: Envelope) -> None:
    if (row := b.facilitator(e)) is not None:
        row["credentials"][e.event.kind] = e.event.valid_until.isoformat()


def _planned(b: _Batch, e: Envelope) -> None:
    b.cohorts.put({"id": e.originator_id, "programme_id": e.event.programme_id,
                   "status": "PLANNED", "sessions": []})


def _cohort_status(status: str) -> Callable[[_Batch, Envelope], None]:
    def handle(b: _Batch, e: Envelope) -> None:
        if (row := b.cohort(e)) is not None:
            row["status"] = status
    return handle


def _scheduled(b: _Batch, e: Envelope) -> None:
    if (row := b.cohort(e)) is not None:
        row["sessions"].append(e.event.starts_at.isoformat())
        row["sessions"].sort()


def _assigned(b: _Batch, e: Envelope) -> None:
    b.assignments.put({"facilitator_id": e.event.facilitator_id, "cohort_id": e.originator_id,
                       "role": e.event.role, "assigned_at": e.event.timestamp})


def _unassigned(b: _Batch, e: Envelope) -> None:
    b.assignments.delete((e.event.facilitator_id, e.originator_id))


HANDLERS: dict[str, Callable[[_Batch, Envelope], None]] = {
    "Facilitator.Registered": _registered,
    "Facilitator.TrainingBegun": _status("IN_TRAINING"),
    "Facilitator.Activated": _status("ACTIVE"),
    "Facilitator.Suspended": _status("SUSPENDED", reason=True),
    "Facilitator.Retired": _status("RETIRED"),
    "Facilitator.Erased": _erased,
    "Facilitator.CredentialRecorded": _credential,
    "Cohort.Planned": _planned,
    "Cohort.EnrolmentOpened": _cohort_status("OPEN"),
    "Cohort.Started": _cohort_status("RUNNING"),
    "Cohort.Completed": _cohort_status("COMPLETED"),
    "Cohort.Cancelled": _cohort_status("CANCELLED"),
    "Cohort.SessionScheduled": _scheduled,
    "Cohort.FacilitatorAssigned": _assigned,
    "Cohort.FacilitatorUnassigned": _unassigned,
}

_COHORT_ROWS = frozenset(k for k in HANDLERS if k.startswith("Cohort.")) - {
    "Cohort.FacilitatorAssigned", "Cohort.FacilitatorUnassigned"
}


class FacilitatorLoadProjection(Projection):
    """Keeps facilitators, their assignments, and the status and sessions of cohorts."""

    name = "facilitator_load"
    version = 2  # 2: each cohort's programme, so a manager sees only their programmes' cohorts
    handles = frozenset(HANDLERS)
    tables = (FACILITATORS, ASSIGNMENTS, COHORTS)
    indexes = (
        "CREATE INDEX ON {schema}.assignments (cohort_id)",
        "CREATE INDEX ON {schema}.facilitators (registered_at, id)",
    )

    async def apply(
        self, conn: asyncpg.Connection, schema: str, batch: Sequence[Envelope]
    ) -> None:
        b = _Batch()
        facilitators: set[UUID] = set()
        cohorts: set[UUID] = set()
        for e in batch:
            if e.kind.startswith("Facilitator."):
                facilitators.add(e.originator_id)
            elif e.kind in _COHORT_ROWS:
                cohorts.add(e.originator_id)
        await b.facilitators.load(conn, schema, facilitators)
        await b.cohorts.load(conn, schema, cohorts)
        for e in batch:
            HANDLERS[e.kind](b, e)
        for rows in (b.facilitators, b.assignments, b.cohorts):
            await rows.flush(conn, schema)
