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


@strawberry.input(description="A measure the instrument catalogue does not know, with its range.")
class CustomMeasureInput:
    code: str = strawberry.field(description="The measure's short code, as listed in outcomeMeasures.")
    min_score: float = strawberry.field(description="The lowest valid score.")
    max_score: float = strawberry.field(description="The highest valid score.")


@strawberry.input(description="A new programme, in DRAFT, with its catalogue.")
class CreateProgrammeInput:
    name: str = strawberry.field(description="The programme's name.")
    description: str = strawberry.field(default="", description="What it offers, to whom.")
    required_consent_purposes: list[str] | None = strawberry.field(
        default=None, description="Purposes a person must consent to before enrolment "
        "(default: programme-participation).")
    outcome_measures: list[str] | None = strawberry.field(
        default=None, description="Measures it evaluates: known instruments (WEMWBS, SWEMWBS, "
        "HHI, CORE-10, PHQ-9, GAD-7) or ones declared in customMeasures.")
    min_facilitators_per_cohort: int = strawberry.field(
        default=2, description="Active, credentialled facilitators a cohort needs to start.")
    optional_consent_purposes: list[str] | None = strawberry.field(
        default=None, description="Further purposes it may ask consent for (e.g. research).")
    custom_measures: list[CustomMeasureInput] | None = strawberry.field(
        default=None, description="Ranges of measures the instrument catalogue does not know.")
    idempotency_key: str | None = _key()


@strawberry.input(description="Changes to a programme's description and catalogue; what is "
                  "left out stays as it is.")
class UpdateProgrammeInput:
    id: UUID = strawberry.field(description="The programme.")
    description: str | None = strawberry.field(default=None, description="A new description.")
    required_consent_purposes: list[str] | None = strawberry.field(
        default=None, description="The new required purposes.")
    optional_consent_purposes: list[str] | None = strawberry.field(
        default=None, description="The new optional purposes.")
    outcome_measures: list[str] | None = strawberry.field(
        default=None, description="The new list of measures.")
    custom_measures: list[CustomMeasureInput] | None = strawberry.field(
        default=None, description="Ranges of measures the instrument catalogue does not know.")
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
    chosen_name: str | None = strawberry.field(
        default=None, description="What the person likes to be called (shown to facilitators).")
    idempotency_key: str | None = _key()


@strawberry.input(description="Corrections to a person's personal data: the fields given "
                  "replace theirs (an empty optional field clears it).")
class UpdateParticipantInput:
    id: UUID = strawberry.field(description="The person.")
    name: str | None = strawberry.field(default=None, description="Their full name.")
    email: str | None = strawberry.field(default=None, description="Their email address.")
    phone: str | None = strawberry.field(default=None, description="Their phone number.")
    referral_source: str | None = strawberry.field(default=None, description="Who referred them.")
    chosen_name: str | None = strawberry.field(
        default=None, description="What they like to be called.")
    idempotency_key: str | None = _key()


@strawberry.input(description="A person who was asked for consent under a notice and said no.")
class RefuseConsentInput:
    participant_id: UUID = strawberry.field(description="The person.")
    purpose: str = strawberry.field(description="A purpose of their programmes' catalogue.")
    notice_id: str = strawberry.field(description="The notice they were shown.")
    notice_version: str = strawberry.field(description="Its version.")
    method: str = strawberry.field(description="How they answered (paper-form, phone, web…).")
    language: str = strawberry.field(default="en", description="The notice's language.")
    idempotency_key: str | None = _key()


@strawberry.input(description="Someone other than the person ends a consent.")
class RevokeConsentInput:
    participant_id: UUID = strawberry.field(description="The person.")
    purpose: str = strawberry.field(description="The purpose consented to.")
    reason: str = strawberry.field(description="Why (sealed under the person's key).")
    idempotency_key: str | None = _key()


@strawberry.input(description="Takes a facilitator off a cohort.")
class UnassignFacilitatorInput:
    cohort_id: UUID = strawberry.field(description="The cohort.")
    facilitator_id: UUID = strawberry.field(description="The facilitator assigned to it.")
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


@strawberry.input(description="Moves a session to another time.")
class RescheduleSessionInput:
    cohort_id: UUID = strawberry.field(description="The cohort.")
    session_id: UUID = strawberry.field(description="The session.")
    starts_at: datetime = strawberry.field(description="When it now starts (with a time zone).")
    idempotency_key: str | None = _key()


@strawberry.input(description="Cancels a session: no attendance is taken at it.")
class CancelSessionInput:
    cohort_id: UUID = strawberry.field(description="The cohort.")
    session_id: UUID = strawberry.field(description="The session.")
    reason: str | None = strawberry.field(default=None, description="Why (sealed).")
    idempotency_key: str | None = _key()


@strawberry.input(description="Corrects a recorded attendance mark.")
class CorrectAttendanceInput:
    cohort_id: UUID = strawberry.field(description="The cohort.")
    session_id: UUID = strawberry.field(description="The session.")
    participant_id: UUID = strawberry.field(description="The person.")
    status: AttendanceStatus = strawberry.field(description="The right mark.")
    reason: str | None = strawberry.field(default=None, description="Why (sealed).")
    idempotency_key: str | None = _key()


@strawberry.input(description="Corrects a recorded outcome score; the original stays in the history.")
class AmendOutcomeInput:
    participant_id: UUID = strawberry.field(description="The person.")
    cohort_id: UUID = strawberry.field(description="The cohort it was recorded for.")
    measure: str = strawberry.field(description="The measure.")
    timepoint: Timepoint = strawberry.field(description="BASELINE or FOLLOW_UP.")
    score: float = strawberry.field(description="The right score, within the measure's range.")
    reason: str = strawberry.field(description="Why it changes (sealed under the person's key).")
    idempotency_key: str | None = _key()
