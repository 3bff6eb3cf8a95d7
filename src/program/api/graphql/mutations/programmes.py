"""Mutations on programmes and cohorts."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from program.api.graphql.mutations.base import run
from program.api.graphql.mutations.inputs import (
    AssignFacilitatorInput,
    CancelCohortInput,
    ChangeCohortCapacityInput,
    CohortIdInput,
    CreateProgrammeInput,
    PlanCohortInput,
    ProgrammeIdInput,
    UpdateProgrammeInput,
)
from program.api.graphql.mutations.payloads import (
    AssignFacilitatorPayload,
    CohortCapacityPayload,
    CohortPayload,
    ProgrammePayload,
    build,
    uuids,
)


@strawberry.type
class ProgrammeMutations:
    @strawberry.mutation(description="Create a programme in DRAFT (admins).")
    async def create_programme(self, info: Info, input: CreateProgrammeInput) -> ProgrammePayload:
        result = await run(info, input, lambda app, ctx: app.create_programme(
            ctx, input.name, input.description, input.required_consent_purposes,
            input.outcome_measures, input.min_facilitators_per_cohort,
            input.optional_consent_purposes, _measures(input.custom_measures)))
        return build(ProgrammePayload, result)

    @strawberry.mutation(description="Change a programme's description and catalogue.")
    async def update_programme(self, info: Info, input: UpdateProgrammeInput) -> ProgrammePayload:
        result = await run(info, input, lambda app, ctx: app.update_programme(
            ctx, input.id, input.description, input.required_consent_purposes,
            input.optional_consent_purposes, input.outcome_measures,
            _measures(input.custom_measures)))
        return build(ProgrammePayload, result)

    @strawberry.mutation(description="Open a programme for cohorts and enrolment.")
    async def activate_programme(self, info: Info, input: ProgrammeIdInput) -> ProgrammePayload:
        result = await run(info, input, lambda app, ctx: app.activate_programme(ctx, input.id))
        return build(ProgrammePayload, result)

    @strawberry.mutation(description="Close a programme for good.")
    async def close_programme(self, info: Info, input: ProgrammeIdInput) -> ProgrammePayload:
        result = await run(info, input, lambda app, ctx: app.close_programme(ctx, input.id))
        return build(ProgrammePayload, result)


@strawberry.type
class CohortMutations:
    @strawberry.mutation(description="Plan a cohort of an active programme.")
    async def plan_cohort(self, info: Info, input: PlanCohortInput) -> CohortPayload:
        result = await run(info, input, lambda app, ctx: app.plan_cohort(
            ctx, input.programme_id, input.name, input.format.value, input.capacity,
            input.starts_on, input.venue))
        return build(CohortPayload, result)

    @strawberry.mutation(description="Open a planned cohort for enrolment.")
    async def open_cohort_enrolment(self, info: Info, input: CohortIdInput) -> CohortPayload:
        result = await run(info, input, lambda app, ctx: app.open_cohort_enrolment(ctx, input.id))
        return build(CohortPayload, result)

    @strawberry.mutation(description="Start a cohort (needs the programme's minimum of eligible facilitators).")
    async def start_cohort(self, info: Info, input: CohortIdInput) -> CohortPayload:
        result = await run(info, input, lambda app, ctx: app.start_cohort(ctx, input.id))
        return build(CohortPayload, result)

    @strawberry.mutation(description="Complete a running cohort.")
    async def complete_cohort(self, info: Info, input: CohortIdInput) -> CohortPayload:
        result = await run(info, input, lambda app, ctx: app.complete_cohort(ctx, input.id))
        return build(CohortPayload, result)

    @strawberry.mutation(description="Cancel a cohort that has not completed.")
    async def cancel_cohort(self, info: Info, input: CancelCohortInput) -> CohortPayload:
        result = await run(info, input,
                           lambda app, ctx: app.cancel_cohort(ctx, input.id, input.reason))
        return build(CohortPayload, result)

    @strawberry.mutation(description="Change capacity; a larger cohort promotes from its waitlist.")
    async def change_cohort_capacity(
        self, info: Info, input: ChangeCohortCapacityInput
    ) -> CohortCapacityPayload:
        result = await run(info, input,
                           lambda app, ctx: app.change_cohort_capacity(ctx, input.id, input.capacity))
        return build(CohortCapacityPayload, result,
                     promoted_participant_ids=uuids(result.value.get("promoted", [])))

    @strawberry.mutation(description="Assign an eligible facilitator to a cohort as LEAD or CO.")
    async def assign_facilitator(
        self, info: Info, input: AssignFacilitatorInput
    ) -> AssignFacilitatorPayload:
        result = await run(info, input, lambda app, ctx: app.assign_facilitator(
            ctx, input.cohort_id, input.facilitator_id, input.role.value))
        return build(AssignFacilitatorPayload, result)


def _measures(custom: list | None) -> list[dict[str, object]] | None:  # type: ignore[type-arg]
    if custom is None:
        return None
    return [{"code": m.code, "min_score": m.min_score, "max_score": m.max_score} for m in custom]
