"""Mutation inputs: one per command, each with an optional ``idempotencyKey``."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import strawberry

from program.api.graphql.enums import (
    AttendanceStatus,
    CohortFormat,
    ConsentMethod,
    CredentialKind,
    FacilitatorRole,
    LawfulBasis,
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
    id: UUID = strawberry.field(description="The programme.")
    idempotency_key: str | None = _key()


@strawberry.input(description="Names a cohort by id.")
class CohortIdInput:
    id: UUID = strawberry.field(description="The cohort.")
    idempotency_key: str | None = _key()


@strawberry.input(description="Names a facilitator by id.")
class FacilitatorIdInput:
    id: UUID = strawberry.field(description="The facilitator.")
    idempotency_key: str | None = _key()


@strawberry.input(description="Names a participant by id.")
class ParticipantIdInput:
    id: UUID = strawberry.field(description="The person.")
    idempotency_key: str | None = _key()


@strawberry.input(description="A new cohort of an active programme, PLANNED.")
class PlanCohortInput:
    programme_id: UUID = strawberry.field(description="The programme it runs in.")
    name: str = strawberry.field(description="The cohort's name.")
    format: CohortFormat = strawberry.field(description="Enrolled places, or drop-in.")
    starts_on: date = strawberry.field(
        description="Its first day: it does not start, nor are sessions scheduled, before it.")
    capacity: int | None = strawberry.field(
        default=None, description="Places (1 to 10,000): needed for ENROLLED; for DROP_IN "
        "only informational.")
    venue: str | None = strawberry.field(default=None, description="Where it meets.")
    idempotency_key: str | None = _key()


@strawberry.input(description="Cancels a cohort that has not completed.")
class CancelCohortInput:
    id: UUID = strawberry.field(description="The cohort.")
    reason: str = strawberry.field(description="Why (sealed under the cohort's key).")
    idempotency_key: str | None = _key()


@strawberry.input(description="A cohort's new number of places.")
class ChangeCohortCapacityInput:
    id: UUID = strawberry.field(description="The cohort.")
    capacity: int = strawberry.field(
        description="Places, 1 to 10,000, not fewer than the people enrolled; more promote "
        "from the waitlist.")
    idempotency_key: str | None = _key()


@strawberry.input(description="A volunteer facilitator, APPLIED; their name and contact "
                  "details are stored encrypted.")
class RegisterFacilitatorInput:
    display_name: str = strawberry.field(description="The name they go by.")
    email: str = strawberry.field(description="Their email address.")
    phone: str | None = strawberry.field(default=None, description="Their phone number.")
    max_cohorts: int = strawberry.field(
        default=2, description="Cohorts they may serve at once, 1 to 50.")
    idempotency_key: str | None = _key()


@strawberry.input(description="A credential a facilitator holds, and until when.")
class RecordFacilitatorCredentialInput:
    facilitator_id: UUID = strawberry.field(description="The facilitator.")
    kind: CredentialKind = strawberry.field(description="Which credential.")
    valid_until: date = strawberry.field(description="The last day it is valid.")
    idempotency_key: str | None = _key()


@strawberry.input(description="Suspends an active facilitator.")
class SuspendFacilitatorInput:
    id: UUID = strawberry.field(description="The facilitator.")
    reason: str = strawberry.field(description="Why (sealed under the facilitator's key).")
    idempotency_key: str | None = _key()


@strawberry.input(description="Assigns an eligible facilitator to a cohort.")
class AssignFacilitatorInput:
    cohort_id: UUID = strawberry.field(description="The cohort.")
    facilitator_id: UUID = strawberry.field(description="The facilitator.")
    role: FacilitatorRole = strawberry.field(description="Their part in the cohort.")
    idempotency_key: str | None = _key()


@strawberry.input(description="A person, registered into a programme; their personal data "
                  "is stored encrypted under a key of their own.")
class RegisterParticipantInput:
    programme_id: UUID = strawberry.field(
        description="The programme the person is registered into; it decides who may act for them."
    )
    name: str = strawberry.field(description="Their full name.")
    email: str | None = strawberry.field(default=None, description="Their email address.")
    phone: str | None = strawberry.field(default=None, description="Their phone number.")
    referral_source: str | None = strawberry.field(
        default=None, description="Who referred them (a GP, a self-referral…).")
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
    method: ConsentMethod = strawberry.field(description="How they answered.")
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


@strawberry.input(description="A person's consent for one purpose, under a notice they were "
                  "shown.")
class GiveConsentInput:
    participant_id: UUID = strawberry.field(description="The person.")
    purpose: str = strawberry.field(description="A purpose of their programmes' catalogue.")
    notice_id: str = strawberry.field(description="The notice they were shown.")
    notice_version: str = strawberry.field(description="Its version.")
    lawful_basis: LawfulBasis = strawberry.field(
        description="The GDPR basis the processing rests on.")
    method: ConsentMethod = strawberry.field(description="How it was collected.")
    recipients: list[str] = strawberry.field(
        default_factory=list, description="The partners it covers, by id: only their feeds carry "
        "what it allows.")
    valid_until: date | None = strawberry.field(
        default=None, description="The last day it holds; after it the consent reads EXPIRED. "
        "Default: until ended.")
    language: str = strawberry.field(default="en", description="The notice's language.")
    notice_hash: str | None = strawberry.field(default=None, description=(
        "SHA-256 of the notice's text as shown to the person (64 hex digits); consent "
        "receipts carry it, so the person can prove which text they agreed to."))
    idempotency_key: str | None = _key()


@strawberry.input(description="The person takes their consent for a purpose back.")
class WithdrawConsentInput:
    participant_id: UUID = strawberry.field(description="The person.")
    purpose: str = strawberry.field(description="The purpose consented to.")
    method: ConsentMethod = strawberry.field(description="How they said so.")
    reason: str = strawberry.field(
        default="", description="Why, if they said (sealed under the person's key).")
    idempotency_key: str | None = _key()


@strawberry.input(description="Enrols a consenting person, or waitlists them when the "
                  "cohort is full.")
class EnrolParticipantInput:
    cohort_id: UUID = strawberry.field(description="The cohort.")
    participant_id: UUID = strawberry.field(description="The person.")
    idempotency_key: str | None = _key()


@strawberry.input(description="Takes a person out of a cohort or its waitlist.")
class WithdrawParticipantInput:
    cohort_id: UUID = strawberry.field(description="The cohort.")
    participant_id: UUID = strawberry.field(description="The person.")
    reason: str = strawberry.field(
        default="", description="Why (sealed under the person's key).")
    idempotency_key: str | None = _key()


@strawberry.input(description="A session of a cohort.")
class ScheduleSessionInput:
    cohort_id: UUID = strawberry.field(description="The cohort.")
    starts_at: datetime = strawberry.field(
        description="When it starts (with a time zone), not before the cohort's startsOn.")
    idempotency_key: str | None = _key()


@strawberry.input(description="A person's attendance at a session that has started.")
class RecordAttendanceInput:
    cohort_id: UUID = strawberry.field(description="The cohort.")
    session_id: UUID = strawberry.field(description="The session.")
    participant_id: UUID = strawberry.field(description="The person.")
    status: AttendanceStatus = strawberry.field(description="Their mark.")
    idempotency_key: str | None = _key()


@strawberry.input(description="An outcome score of a cohort member at a timepoint.")
class RecordOutcomeInput:
    participant_id: UUID = strawberry.field(description="The person.")
    cohort_id: UUID = strawberry.field(description="The cohort it is recorded for.")
    measure: str = strawberry.field(description="A measure of the programme's catalogue.")
    timepoint: Timepoint = strawberry.field(description="When it was taken.")
    score: float = strawberry.field(description="The score, within the measure's range.")
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
    timepoint: Timepoint = strawberry.field(description="When it was taken.")
    score: float = strawberry.field(description="The right score, within the measure's range.")
    reason: str = strawberry.field(description="Why it changes (sealed under the person's key).")
    idempotency_key: str | None = _key()
