"""Mutation inputs: one per command, each with an optional ``idempotencyKey``."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import strawberry

from program.api.graphql.enums import (
    AttendanceStatus,
    CohortFormat,
    CredentialKind,
    FacilitatorRole,
    Timepoint,
)

KEY_DOC = "Repeat a mutation with the same key to get the first answer back instead of a second change."


def _key() -> str | None:
    return strawberry.field(default=None, description=KEY_DOC)  # type: ignore[no-any-return]


@strawberry.input
class CreateProgrammeInput:
    name: str
    description: str = ""
    required_consent_purposes: list[str] | None = None
    outcome_measures: list[str] | None = None
    min_facilitators_per_cohort: int = 2
    idempotency_key: str | None = _key()


@strawberry.input(description="Names a programme by id.")
class ProgrammeIdInput:
    id: UUID
    idempotency_key: str | None = _key()


@strawberry.input(description="Names a cohort by id.")
class CohortIdInput:
    id: UUID
    idempotency_key: str | None = _key()


@strawberry.input(description="Names a facilitator by id.")
class FacilitatorIdInput:
    id: UUID
    idempotency_key: str | None = _key()


@strawberry.input(description="Names a participant by id.")
class ParticipantIdInput:
    id: UUID
    idempotency_key: str | None = _key()


@strawberry.input
class PlanCohortInput:
    programme_id: UUID
    name: str
    format: CohortFormat
    starts_on: date
    capacity: int | None = None
    venue: str | None = None
    idempotency_key: str | None = _key()


@strawberry.input
class CancelCohortInput:
    id: UUID
    reason: str
    idempotency_key: str | None = _key()


@strawberry.input
class ChangeCohortCapacityInput:
    id: UUID
    capacity: int
    idempotency_key: str | None = _key()


@strawberry.input
class RegisterFacilitatorInput:
    display_name: str
    email: str
    phone: str | None = None
    max_cohorts: int = 2
    idempotency_key: str | None = _key()


@strawberry.input
class RecordFacilitatorCredentialInput:
    facilitator_id: UUID
    kind: CredentialKind
    valid_until: date
    idempotency_key: str | None = _key()


@strawberry.input
class SuspendFacilitatorInput:
    id: UUID
    reason: str
    idempotency_key: str | None = _key()


@strawberry.input
class AssignFacilitatorInput:
    cohort_id: UUID
    facilitator_id: UUID
    role: FacilitatorRole
    idempotency_key: str | None = _key()


@strawberry.input
class RegisterParticipantInput:
    programme_id: UUID = strawberry.field(
        description="The programme the person is registered into; it decides who may act for them."
    )
    name: str
    email: str | None = None
    phone: str | None = None
    referral_source: str | None = None
    idempotency_key: str | None = _key()


@strawberry.input
class GiveConsentInput:
    participant_id: UUID
    purpose: str
    notice_id: str
    notice_version: str
    lawful_basis: str = strawberry.field(
        description="DPV spelling: consent, explicit-consent, legitimate-interest, public-task, …"
    )
    method: str
    recipients: list[str] = strawberry.field(default_factory=list)
    valid_until: date | None = None
    language: str = "en"
    notice_hash: str | None = strawberry.field(default=None, description=(
        "SHA-256 of the notice's text as shown to the person (64 hex digits); consent "
        "receipts carry it, so the person can prove which text they agreed to."))
    idempotency_key: str | None = _key()


@strawberry.input
class WithdrawConsentInput:
    participant_id: UUID
    purpose: str
    method: str
    reason: str = ""
    idempotency_key: str | None = _key()


@strawberry.input
class EnrolParticipantInput:
    cohort_id: UUID
    participant_id: UUID
    idempotency_key: str | None = _key()


@strawberry.input
class WithdrawParticipantInput:
    cohort_id: UUID
    participant_id: UUID
    reason: str = ""
    idempotency_key: str | None = _key()


@strawberry.input
class ScheduleSessionInput:
    cohort_id: UUID
    starts_at: datetime
    idempotency_key: str | None = _key()


@strawberry.input
class RecordAttendanceInput:
    cohort_id: UUID
    session_id: UUID
    participant_id: UUID
    status: AttendanceStatus
    idempotency_key: str | None = _key()


@strawberry.input
class RecordOutcomeInput:
    participant_id: UUID
    cohort_id: UUID
    measure: str
    timepoint: Timepoint
    score: float
    idempotency_key: str | None = _key()
