"""What the read-model queries return: frozen dataclasses built from read-model rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar
from uuid import UUID

from program.projections.checkpoint import ProjectionStatus

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a keyset-paginated list; pass ``end_cursor`` as ``after`` for the next."""

    items: tuple[T, ...]
    has_next: bool
    end_cursor: str | None
    cursors: tuple[str, ...] = ()  # one per item (Relay edges); the last is ``end_cursor``


@dataclass(frozen=True)
class ProgrammeView:
    id: UUID
    name: str
    description: str
    status: str
    required_consent_purposes: tuple[str, ...]
    outcome_measures: tuple[str, ...]
    min_facilitators_per_cohort: int
    created_at: datetime
    updated_at: datetime
    cohort_count: int
    cohorts_by_status: dict[str, int]
    # Places taken and waiting in cohorts not yet completed or cancelled (a person in two
    # of the programme's cohorts counts in each).
    enrolled: int
    waitlisted: int
    attendance_present: int
    attendance_recorded: int
    attendance_rate: float | None  # present / recorded, None before any mark


@dataclass(frozen=True)
class CohortFacilitatorView:
    facilitator_id: UUID
    role: str
    assigned_at: datetime


@dataclass(frozen=True)
class SessionView:
    id: UUID
    starts_at: datetime


@dataclass(frozen=True)
class AbsenceView:
    participant_id: UUID
    consecutive: int


@dataclass(frozen=True)
class OutcomeView:
    """Raw figures: the API suppresses small cells (``people`` and the counts say how small)."""

    measure: str
    baseline_count: int
    follow_up_count: int
    people: int  # with both timepoints: the people ``mean_change`` covers
    mean_change: float | None


@dataclass(frozen=True)
class CohortView:
    id: UUID
    programme_id: UUID
    name: str
    status: str
    format: str
    capacity: int | None
    starts_on: date
    venue: str | None
    min_facilitators: int
    started_on: date | None
    cancel_reason: str | None
    planned_at: datetime
    updated_at: datetime
    # The people themselves: ``queries.cohort_members`` (a page of them, in order).
    enrolled_count: int
    waitlist_count: int
    places_left: int | None
    facilitators: tuple[CohortFacilitatorView, ...]
    sessions: tuple[SessionView, ...]  # by start time
    next_session: SessionView | None  # the first starting after ``now``
    attendance_present: int
    attendance_recorded: int
    attendance_rate: float | None
    consecutive_absences: tuple[AbsenceView, ...]  # 3 or more absences in a row, most first
    outcomes: tuple[OutcomeView, ...]


@dataclass(frozen=True)
class CredentialView:
    kind: str
    valid_until: date
    days_to_expiry: int  # against the ``today`` passed to the query; negative once expired
    expired: bool


@dataclass(frozen=True)
class FacilitatorCohortView:
    cohort_id: UUID
    role: str
    status: str | None
    active: bool
    upcoming_sessions: int


@dataclass(frozen=True)
class FacilitatorView:
    """``personal_data`` is the ciphertext of the name and contact details (decrypted by
    the API with the live key); ``legacy`` the plaintext of one registered before they
    were encrypted; both None once erased."""

    id: UUID
    personal_data: str | None
    legacy: dict[str, str | None] | None
    erased: bool
    status: str
    status_reason: str | None
    max_cohorts: int
    registered_at: datetime
    cohorts: tuple[FacilitatorCohortView, ...]
    active_cohort_count: int  # assigned, cohort neither completed nor cancelled
    upcoming_sessions: int  # in active cohorts, starting after ``now``
    credentials: tuple[CredentialView, ...]

    @property
    def active_cohort_ids(self) -> tuple[UUID, ...]:
        return tuple(c.cohort_id for c in self.cohorts if c.active)


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


@dataclass(frozen=True)
class ConsentChangeView:
    position: int
    consent_id: UUID
    participant_id: UUID
    purpose: str
    state: str
    notice_id: str | None
    notice_version: str | None
    language: str | None
    lawful_basis: str | None
    method: str | None
    recipients: tuple[str, ...]
    recorded_by: str | None
    valid_until: date | None
    reason: str | None
    at: datetime
    recorded_at: datetime
    notice_hash: str | None = None  # SHA-256 (hex) of the notice's text, when given


@dataclass(frozen=True)
class ConsentHistoryView:
    participant_id: UUID
    changes: tuple[ConsentChangeView, ...]  # in time order
    states_as_of: tuple[ConsentStateView, ...]  # last change per purpose at or before ``as_of``
    as_of: datetime | None


@dataclass(frozen=True)
class AuditEntryView:
    position: int
    recorded_at: datetime
    aggregate_id: UUID
    aggregate_type: str
    event_type: str
    originator_version: int
    actor: str | None
    role: str | None
    command: str | None
    correlation_id: str | None
    causation_id: str | None
    request_id: str | None
    event_id: str | None
    hash: bytes | None = None
    detail: str | None = None


__all__ = [
    "AbsenceView", "AuditEntryView", "CohortFacilitatorView", "CohortView", "ConsentChangeView",
    "ConsentHistoryView", "ConsentStateView", "CredentialView", "FacilitatorCohortView",
    "FacilitatorView", "OutcomeView", "Page", "ParticipantCohortView", "ParticipantView",
    "ProgrammeView", "ProjectionStatus", "SessionView",
]
