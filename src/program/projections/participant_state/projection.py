"""Participant and consent state: the pseudonymous person, their encrypted personal data,
their current consent per purpose, the cohorts they are (or were) in, and the programmes
they are or were in (registered into, or joined a cohort of) that decide who may read them.

Personal data stays ciphertext here; the API decrypts it with the live key. On erasure
the key is destroyed and this read model drops the ciphertext too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

import asyncpg

from program.projections.base import Envelope, Projection
from program.projections.tables import Rows, Table

PARTICIPANTS = Table.define(
    "participants",
    """id uuid, personal_data text, erased bool, registered_at timestamptz,
    erased_at timestamptz, updated_at timestamptz, consents jsonb, cohorts jsonb,
    programmes jsonb""",
    key="id",
)
CONSENTS = Table.define("consents", "id uuid, participant_id uuid, purpose text", key="id")
COHORTS = Table.define("cohorts", "id uuid, programme_id uuid", key="id")

_CONSENT_CHANGES = {
    "Consent.Given": "GIVEN", "Consent.Refused": "REFUSED", "Consent.Withdrawn": "WITHDRAWN",
    "Consent.Revoked": "REVOKED", "Consent.Expired": "EXPIRED",
}
_MEMBERSHIP = {
    "Cohort.ParticipantEnrolled": "ENROLLED", "Cohort.ParticipantWaitlisted": "WAITLISTED",
    "Cohort.ParticipantPromoted": "ENROLLED", "Cohort.ParticipantWithdrawn": "WITHDRAWN",
}


class _Batch:
    def __init__(self) -> None:
        self.participants = Rows(PARTICIPANTS)
        self.consents = Rows(CONSENTS)
        self.cohorts = Rows(COHORTS)

    def participant(self, participant_id: UUID, e: Envelope) -> dict[str, Any] | None:
        row = self.participants.get(participant_id)
        if row is not None:
            row["updated_at"] = e.recorded_at
            self.participants.changed(participant_id)
        return row


def _registered(b: _Batch, e: Envelope) -> None:
    b.participants.put({
        "id": e.originator_id, "personal_data": e.event.personal_data, "erased": False,
        "registered_at": e.event.timestamp, "updated_at": e.recorded_at, "consents": {},
        "cohorts": {}, "programmes": [],
    })
    _add_programme(b, e, e.event.programme_id)


def _joined_cohort(b: _Batch, e: Envelope) -> None:
    _add_programme(b, e, e.event.programme_id)


def _add_programme(b: _Batch, e: Envelope, programme_id: UUID | None) -> None:
    row = b.participant(e.originator_id, e)
    if row is None or programme_id is None:
        return
    programmes = row.get("programmes") or []
    if str(programme_id) not in programmes:
        row["programmes"] = [*programmes, str(programme_id)]


def _personal_data(b: _Batch, e: Envelope) -> None:
    if (row := b.participant(e.originator_id, e)) is not None and not row["erased"]:
        row["personal_data"] = e.event.personal_data


def _erased(b: _Batch, e: Envelope) -> None:
    if (row := b.participant(e.originator_id, e)) is not None:
        row.update(personal_data=None, erased=True, erased_at=e.event.timestamp)


def _opened(b: _Batch, e: Envelope) -> None:
    pass  # registered in the pre-pass, so later changes in the batch can find it


def _consent_change(b: _Batch, e: Envelope) -> None:
    link = b.consents.get(e.originator_id)
    if link is None or (row := b.participant(link["participant_id"], e)) is None:
        return
    ev = e.event
    current = row["consents"].get(link["purpose"], {})
    state = _CONSENT_CHANGES[e.kind]
    current = {**current, "consent_id": str(e.originator_id), "state": state,
               "changed_at": ev.at.isoformat(), "position": e.position}
    if state in ("GIVEN", "REFUSED"):
        current.update(
            notice_id=ev.notice_id, notice_version=ev.notice_version, language=ev.language,
            lawful_basis=getattr(ev, "lawful_basis", None),
            recipients=list(getattr(ev, "recipients", [])),
            valid_until=ev.valid_until.isoformat() if getattr(ev, "valid_until", None) else None,
        )
    row["consents"][link["purpose"]] = current


def _membership(b: _Batch, e: Envelope) -> None:
    if (row := b.participant(e.event.participant_id, e)) is None:
        return
    cohort = b.cohorts.get(e.originator_id)
    row["cohorts"][str(e.originator_id)] = {
        "programme_id": str(cohort["programme_id"]) if cohort else None,
        "status": _MEMBERSHIP[e.kind],
        "since": e.recorded_at.isoformat(),
    }


def _planned(b: _Batch, e: Envelope) -> None:
    b.cohorts.put({"id": e.originator_id, "programme_id": e.event.programme_id})


HANDLERS: dict[str, Callable[[_Batch, Envelope], None]] = {
    "Participant.Registered": _registered,
    "Participant.PersonalDataUpdated": _personal_data,
    "Participant.JoinedCohort": _joined_cohort,
    "Participant.Erased": _erased,
    "Consent.Opened": _opened,
    **{kind: _consent_change for kind in _CONSENT_CHANGES},
    "Cohort.Planned": _planned,
    **{kind: _membership for kind in _MEMBERSHIP},
}


class ParticipantStateProjection(Projection):
    """Keeps each person's ciphertext, erasure, consent per purpose and cohort memberships."""

    name = "participant_state"
    handles = frozenset(HANDLERS)
    tables = (PARTICIPANTS, CONSENTS, COHORTS)
    indexes = ("CREATE INDEX ON {schema}.consents (participant_id)",)

    async def apply(
        self, conn: asyncpg.Connection, schema: str, batch: Sequence[Envelope]
    ) -> None:
        b = _Batch()
        consent_ids: set[UUID] = set()
        cohort_ids: set[UUID] = set()
        for e in batch:
            if e.kind == "Consent.Opened":
                b.consents.put({"id": e.originator_id, "participant_id": e.event.participant_id,
                                "purpose": e.event.purpose})
            elif e.kind in _CONSENT_CHANGES:
                consent_ids.add(e.originator_id)
            elif e.kind in _MEMBERSHIP:
                cohort_ids.add(e.originator_id)
        await b.consents.load(conn, schema, consent_ids)
        await b.cohorts.load(conn, schema, cohort_ids)
        people: set[UUID] = set()
        for e in batch:
            if e.kind.startswith("Participant."):
                people.add(e.originator_id)
            elif e.kind in _MEMBERSHIP:
                people.add(e.event.participant_id)
            elif e.kind in _CONSENT_CHANGES and (link := b.consents.get(e.originator_id)):
                people.add(link["participant_id"])
        await b.participants.load(conn, schema, people)
        for e in batch:
            HANDLERS[e.kind](b, e)
        for rows in (b.participants, b.consents, b.cohorts):
            await rows.flush(conn, schema)
