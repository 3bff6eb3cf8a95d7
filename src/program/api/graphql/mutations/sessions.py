"""Mutations on a cohort's sessions, attendance and outcomes."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from program.api.graphql.mutations.base import run
from program.api.graphql.mutations.inputs import (
    RecordAttendanceInput,
    RecordOutcomeInput,
    ScheduleSessionInput,
)
from program.api.graphql.mutations.payloads import (
    AttendancePayload,
    OutcomePayload,
    SessionPayload,
    build,
)


@strawberry.type
class SessionMutations:
    @strawberry.mutation(description="Schedule a session (managers, or the cohort's facilitators).")
    async def schedule_session(self, info: Info, input: ScheduleSessionInput) -> SessionPayload:
        result = await run(info, input, lambda app, ctx: app.schedule_session(
            ctx, input.cohort_id, input.starts_at))
        return build(SessionPayload, result)

    @strawberry.mutation(description="Record attendance (managers, or the cohort's facilitators).")
    async def record_attendance(
        self, info: Info, input: RecordAttendanceInput
    ) -> AttendancePayload:
        result = await run(info, input, lambda app, ctx: app.record_attendance(
            ctx, input.cohort_id, input.session_id, input.participant_id, input.status.value))
        return build(AttendancePayload, result)

    @strawberry.mutation(description="Record an outcome score for a cohort member (managers of the person and the cohort).")
    async def record_outcome(self, info: Info, input: RecordOutcomeInput) -> OutcomePayload:
        result = await run(info, input, lambda app, ctx: app.record_outcome(
            ctx, input.participant_id, input.cohort_id, input.measure, input.timepoint.value,
            input.score))
        return build(OutcomePayload, result)
