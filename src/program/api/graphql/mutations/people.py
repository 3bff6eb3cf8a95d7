"""Mutations on facilitators, participants, consent and enrolment."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from program.api.graphql.enums import EnrolmentStatus
from program.api.graphql.mutations.base import run
from program.api.graphql.mutations.inputs import (
    EnrolParticipantInput,
    FacilitatorIdInput,
    GiveConsentInput,
    ParticipantIdInput,
    RecordFacilitatorCredentialInput,
    RegisterFacilitatorInput,
    RegisterParticipantInput,
    SuspendFacilitatorInput,
    WithdrawConsentInput,
    WithdrawParticipantInput,
)
from program.api.graphql.mutations.payloads import (
    ConsentPayload,
    EnrolmentPayload,
    FacilitatorPayload,
    ParticipantPayload,
    WithdrawalPayload,
    build,
)


@strawberry.type
class FacilitatorMutations:
    @strawberry.mutation(description="Register a volunteer facilitator (APPLIED).")
    async def register_facilitator(
        self, info: Info, input: RegisterFacilitatorInput
    ) -> FacilitatorPayload:
        result = await run(info, input, lambda app, ctx: app.register_facilitator(
            ctx, input.display_name, input.email, input.max_cohorts, input.phone))
        return build(FacilitatorPayload, result)

    @strawberry.mutation(description="Record a credential and its expiry date.")
    async def record_facilitator_credential(
        self, info: Info, input: RecordFacilitatorCredentialInput
    ) -> FacilitatorPayload:
        result = await run(info, input, lambda app, ctx: app.record_facilitator_credential(
            ctx, input.facilitator_id, input.kind.value, input.valid_until))
        return build(FacilitatorPayload, result)

    @strawberry.mutation(description="Make a facilitator active (or reinstate a suspended one).")
    async def activate_facilitator(self, info: Info, input: FacilitatorIdInput) -> FacilitatorPayload:
        result = await run(info, input,
                           lambda app, ctx: app.activate_facilitator(ctx, input.id))
        return build(FacilitatorPayload, result)

    @strawberry.mutation(description="Move an applicant facilitator into training.")
    async def begin_facilitator_training(
        self, info: Info, input: FacilitatorIdInput
    ) -> FacilitatorPayload:
        result = await run(info, input,
                           lambda app, ctx: app.begin_facilitator_training(ctx, input.id))
        return build(FacilitatorPayload, result)

    @strawberry.mutation(description="Retire a facilitator for good.")
    async def retire_facilitator(self, info: Info, input: FacilitatorIdInput) -> FacilitatorPayload:
        result = await run(info, input, lambda app, ctx: app.retire_facilitator(ctx, input.id))
        return build(FacilitatorPayload, result)

    @strawberry.mutation(description=(
        "Erase a facilitator (admins): retire them and destroy their data key, so their "
        "name and contact details are gone everywhere."
    ))
    async def erase_facilitator(self, info: Info, input: FacilitatorIdInput) -> FacilitatorPayload:
        result = await run(info, input, lambda app, ctx: app.erase_facilitator(ctx, input.id),
                           shreds_keys=True)
        return build(FacilitatorPayload, result)

    @strawberry.mutation(description="Suspend an active facilitator.")
    async def suspend_facilitator(
        self, info: Info, input: SuspendFacilitatorInput
    ) -> FacilitatorPayload:
        result = await run(info, input,
                           lambda app, ctx: app.suspend_facilitator(ctx, input.id, input.reason))
        return build(FacilitatorPayload, result)


@strawberry.type
class ParticipantMutations:
    @strawberry.mutation(description=(
        "Register a person into a programme (managers: one of theirs); their personal data "
        "is stored encrypted."
    ))
    async def register_participant(
        self, info: Info, input: RegisterParticipantInput
    ) -> ParticipantPayload:
        result = await run(info, input, lambda app, ctx: app.register_participant(
            ctx, input.name, input.email, input.phone, input.referral_source,
            programme_id=input.programme_id, chosen_name=input.chosen_name))
        return build(ParticipantPayload, result)

    @strawberry.mutation(description="Record that a person gave consent for a purpose.")
    async def give_consent(self, info: Info, input: GiveConsentInput) -> ConsentPayload:
        result = await run(info, input, lambda app, ctx: app.give_consent(
            ctx, input.participant_id, input.purpose, input.notice_id, input.notice_version,
            input.lawful_basis.value, input.method.value, list(input.recipients), input.valid_until,
            input.language, input.notice_hash))
        return build(ConsentPayload, result)

    @strawberry.mutation(description="Record a withdrawal; enrolments that needed it end.")
    async def withdraw_consent(self, info: Info, input: WithdrawConsentInput) -> ConsentPayload:
        result = await run(info, input, lambda app, ctx: app.withdraw_consent(
            ctx, input.participant_id, input.purpose, input.method.value, input.reason))
        return build(ConsentPayload, result)

    @strawberry.mutation(description="Enrol a consenting person, or waitlist them when full.")
    async def enrol_participant(self, info: Info, input: EnrolParticipantInput) -> EnrolmentPayload:
        result = await run(info, input, lambda app, ctx: app.enrol_participant(
            ctx, input.cohort_id, input.participant_id))
        return build(EnrolmentPayload, result, status=EnrolmentStatus(result.value["status"]))

    @strawberry.mutation(description="Take a person out of a cohort; the waitlist head moves up.")
    async def withdraw_participant(
        self, info: Info, input: WithdrawParticipantInput
    ) -> WithdrawalPayload:
        result = await run(info, input, lambda app, ctx: app.withdraw_participant(
            ctx, input.cohort_id, input.participant_id, input.reason))
        return build(WithdrawalPayload, result)

    @strawberry.mutation(description="Erase a person's personal data for good (admins).")
    async def erase_participant(self, info: Info, input: ParticipantIdInput) -> ParticipantPayload:
        result = await run(info, input,
                           lambda app, ctx: app.erase_participant(ctx, input.id), shreds_keys=True)
        return build(ParticipantPayload, result)
