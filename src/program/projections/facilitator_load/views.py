"""What the facilitator load queries return: frozen dataclasses built from its rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID


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
    programme_id: UUID | None = None  # None: the cohort's planning is not projected yet


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
    def programme_ids(self) -> frozenset[UUID]:
        """The programmes of the cohorts they are assigned to."""
        return frozenset(c.programme_id for c in self.cohorts if c.programme_id is not None)

    @property
    def active_cohort_ids(self) -> tuple[UUID, ...]:
        return tuple(c.cohort_id for c in self.cohorts if c.active)
