"""What the participant state queries return: frozen dataclasses built from its rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID


@dataclass(frozen=True)
class ConsentStateView:
    purpose: str
    state: str
    consent_id: UUID
    notice_id: str | None
    notice_version: str | None
    language: str | None
    lawful_basis: str | None
    recipients: tuple[str, ...]
    valid_until: date | None
    changed_at: datetime
    position: int
    valid_at: bool | None = None  # in a history as of T: GIVEN and not past valid_until at T


@dataclass(frozen=True)
class ParticipantCohortView:
    cohort_id: UUID
    programme_id: UUID | None
    status: str  # ENROLLED, WAITLISTED or WITHDRAWN
    since: datetime


@dataclass(frozen=True)
class ParticipantView:
    id: UUID
    personal_data: str | None  # ciphertext; None once erased
    erased: bool
    registered_at: datetime
    erased_at: datetime | None
    consents: tuple[ConsentStateView, ...]  # current state per purpose
    cohorts: tuple[ParticipantCohortView, ...]
    # every programme the person is or was in (registered into, or a cohort of), for access checks
    programme_ids: frozenset[UUID]
