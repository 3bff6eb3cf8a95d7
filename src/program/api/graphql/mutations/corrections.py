"""Mutations that correct and change what was recorded: a person's details, consents
refused or revoked, facilitators unassigned, sessions moved or cancelled, attendance
and outcomes corrected."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from program.api.graphql.mutations.base import run
from program.api.graphql.mutations.inputs import (
    AmendOutcomeInput,
    CancelSessionInput,
    CorrectAttendanceInput,
    RefuseConsentInput,
    RescheduleSessionInput,
    RevokeConsentInput,
    UnassignFacilitatorInput,
    UpdateParticipantInput,
)
from program.api.graphql.mutations.payloads import (
    AssignFacilitatorPayload,
    AttendancePayload,
    ConsentPayload,
    OutcomePayload,
    ParticipantPayload,
    SessionPayload,
    build,
)

_PERSONAL = ("name", "email", "phone", "referral_source", "chosen_name")


@strawberry.type
class CorrectionMutations:
    @strawberry.mutation(description="Correct a person's name or contact details (rectification).")
    async def update_participant(self, info: Info, input: UpdateParticipantInput
                                 ) -> ParticipantPayload:
        changes = {f: getattr(input, f) for f in _PERSONAL if getattr(input, f) is not None}
        result = await run(info, input, lambda app, ctx: app.update_participant(
            ctx, input.id, changes))
        return build(ParticipantPayload, result)

    @strawberry.mutation(description="Record that a person refused consent for a purpose.")
    async def refuse_consent(self, info: Info, input: RefuseConsentInput) -> ConsentPayload:
        result = await run(info, input, lambda app, ctx: app.refuse_consent(
            ctx, input.participant_id, input.purpose, input.notice_id, input.notice_version,
            input.method.value, input.language))
        return build(ConsentPayload, result)

    @strawberry.mutation(description=(
        "Record that someone other than the person ended a consent; enrolments that needed "
        "it end."))
    async def revoke_consent(self, info: Info, input: RevokeConsentInput) -> ConsentPayload:
        result = await run(info, input, lambda app, ctx: app.revoke_consent(
            ctx, input.participant_id, input.purpose, input.reason))
        return build(ConsentPayload, result)

    @strawberry.mutation(description="Take a facilitator off a cohort.")
    async def unassign_facilitator(self, info: Info, input: UnassignFacilitatorInput
                                   ) -> AssignFacilitatorPayload:
        result = await run(info, input, lambda app, ctx: app.unassign_facilitator(
            ctx, input.cohort_id, input.facilitator_id))
        return build(AssignFacilitatorPayload, result)

    @strawberry.mutation(description="Move a session (managers, or the cohort's facilitators).")
    async def reschedule_session(self, info: Info, input: RescheduleSessionInput
                                 ) -> SessionPayload:
        result = await run(info, input, lambda app, ctx: app.reschedule_session(
            ctx, input.cohort_id, input.session_id, input.starts_at))
        return build(SessionPayload, result)

    @strawberry.mutation(description="Cancel a session (managers, or the cohort's facilitators).")
    async def cancel_session(self, info: Info, input: CancelSessionInput) -> SessionPayload:
        result = await run(info, input, lambda app, ctx: app.cancel_session(
            ctx, input.cohort_id, input.session_id, input.reason))
        return build(SessionPayload, result)

    @strawberry.mutation(description="Correct an attendance mark (managers, or the cohort's facilitators).")
    async def correct_attendance(self, info: Info, input: CorrectAttendanceInput
                                 ) -> AttendancePayload:
        result = await run(info, input, lambda app, ctx: app.correct_attendance(
            ctx, input.cohort_id, input.session_id, input.participant_id, input.status.value,
            input.reason))
        return build(AttendancePayload, result)

    @strawberry.mutation(description="Correct an outcome score with a reason; the original stays.")
    async def amend_outcome(self, info: Info, input: AmendOutcomeInput) -> OutcomePayload:
        result = await run(info, input, lambda app, ctx: app.amend_outcome(
            ctx, input.participant_id, input.cohort_id, input.measure, input.timepoint.value,
            input.score, input.reason))
        return build(OutcomePayload, result)
