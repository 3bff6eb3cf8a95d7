"""Commands on cohorts: plan, open, start, complete, cancel, capacity, facilitators."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from program.application import policy, targets
from program.application.base import Handlers, as_uuid, ids
from program.application.context import CommandContext
from program.application.policy import Act
from program.application.sealing import require_reason, seal_reason
from program.application.unit import Authorise, CommandResult, UnitOfWork, authorised_before_running
from program.domain.cohort import Cohort
from program.domain.cohort_errors import FacilitatorNotAssigned
from program.domain.facilitator import Facilitator
from program.domain.programme import Programme


def may_run_cohort(ctx: CommandContext, cohort_id: UUID) -> Authorise:
    """The cohort's programme is one the actor runs."""

    async def authorise(uow: UnitOfWork) -> None:
        policy.require(ctx.actor, Act.RUN_PROGRAMME, await targets.of_cohort(uow, cohort_id))

    return authorise


class CohortCommands(Handlers):
    async def plan_cohort(
        self,
        ctx: CommandContext,
        programme_id: UUID | str,
        name: str,
        format: str,
        capacity: int | None,
        starts_on: date,
        venue: str | None = None,
    ) -> CommandResult:
        """Plan a cohort of an active programme."""
        policy.require_role_may(ctx.actor, Act.RUN_PROGRAMME)
        pid = as_uuid(programme_id, "programme_id")
        policy.require(ctx.actor, Act.RUN_PROGRAMME, policy.programme(pid))

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            programme = await uow.get(pid, Programme)
            programme.require_active()
            cohort = uow.add(
                Cohort.plan(pid, name, format, capacity, starts_on, venue,
                            programme.min_facilitators_per_cohort)
            )
            return ids(cohort_id=cohort.id, programme_id=pid)

        return await self._run(ctx, "planCohort", decide, authorise=authorised_before_running, key=pid)

    async def open_cohort_enrolment(self, ctx: CommandContext, cohort_id: UUID | str) -> CommandResult:
        """Open a planned cohort for enrolment."""
        return await self._cohort_step(ctx, cohort_id, "openCohortEnrolment", Cohort.open_enrolment)

    async def start_cohort(self, ctx: CommandContext, cohort_id: UUID | str) -> CommandResult:
        """Start a cohort: needs the programme's minimum of eligible facilitators today."""
        policy.require_role_may(ctx.actor, Act.RUN_PROGRAMME)
        cid = as_uuid(cohort_id, "cohort_id")
        today = self.today()

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            cohort = await uow.get(cid, Cohort)
            eligible = []
            for facilitator_id in cohort.facilitators:
                facilitator = await uow.get(facilitator_id, Facilitator)
                if facilitator.is_eligible_on(today):
                    eligible.append(facilitator_id)
            cohort.start(today, eligible)
            return ids(cohort_id=cid)

        return await self._run(ctx, "startCohort", decide, authorise=may_run_cohort(ctx, cid), key=cid)

    async def complete_cohort(self, ctx: CommandContext, cohort_id: UUID | str) -> CommandResult:
        """Complete a running cohort and release its facilitators."""
        return await self._end(ctx, cohort_id, "completeCohort", lambda c: c.complete())

    async def cancel_cohort(self, ctx: CommandContext, cohort_id: UUID | str, reason: str) -> CommandResult:
        """Cancel a cohort that has not completed, and release its facilitators; the reason
        is sealed under the cohort's key."""
        require_reason(reason)
        sealed = await seal_reason(self.keys, as_uuid(cohort_id, "cohort_id"), reason)
        return await self._end(ctx, cohort_id, "cancelCohort", lambda c: c.cancel(sealed))

    async def unassign_facilitator(
        self, ctx: CommandContext, cohort_id: UUID | str, facilitator_id: UUID | str
    ) -> CommandResult:
        """Take a facilitator off a cohort (assigned by mistake, or stepping back)."""
        policy.require_role_may(ctx.actor, Act.RUN_PROGRAMME)
        cid = as_uuid(cohort_id, "cohort_id")
        fid = as_uuid(facilitator_id, "facilitator_id")

        async def authorise(uow: UnitOfWork) -> None:
            to = await targets.of_cohort(uow, cid)
            who = await targets.of_facilitator(uow, fid)
            if not policy.may_assign_facilitator(ctx.actor, to, who):
                raise policy.Forbidden("may unassign only facilitators of your programmes' cohorts")

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            cohort = await uow.get(cid, Cohort)
            if fid not in cohort.facilitators:
                raise FacilitatorNotAssigned(cohort_id=cid, facilitator_id=fid)
            cohort.unassign_facilitator(fid)
            (await uow.get(fid, Facilitator)).release_from_cohort(cid)
            return ids(cohort_id=cid, facilitator_id=fid)

        return await self._run(ctx, "unassignFacilitator", decide, authorise=authorise, key=cid)

    async def change_cohort_capacity(
        self, ctx: CommandContext, cohort_id: UUID | str, capacity: int
    ) -> CommandResult:
        """Change capacity; a larger cohort promotes the head of its waitlist."""
        policy.require_role_may(ctx.actor, Act.RUN_PROGRAMME)
        cid = as_uuid(cohort_id, "cohort_id")

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            cohort = await uow.get(cid, Cohort)
            # Only the head of the waitlist can move up: as many as the new places.
            room = capacity - cohort.enrolled_count if isinstance(capacity, int) else 0
            waiting = cohort.waitlist_head(room)
            cohort.change_capacity(capacity)
            promoted = [p for p in waiting if cohort.is_enrolled(p)]
            return {**ids(cohort_id=cid), "promoted": [str(p) for p in promoted]}

        return await self._run(ctx, "changeCohortCapacity", decide,
                               authorise=may_run_cohort(ctx, cid), key=cid)

    async def assign_facilitator(
        self, ctx: CommandContext, cohort_id: UUID | str, facilitator_id: UUID | str, role: str
    ) -> CommandResult:
        """Assign an eligible facilitator with spare capacity to a cohort."""
        policy.require_role_may(ctx.actor, Act.RUN_PROGRAMME)
        cid = as_uuid(cohort_id, "cohort_id")
        fid = as_uuid(facilitator_id, "facilitator_id")
        today = self.today()

        async def authorise(uow: UnitOfWork) -> None:
            to = await targets.of_cohort(uow, cid)
            who = await targets.of_facilitator(uow, fid)
            if not policy.may_assign_facilitator(ctx.actor, to, who):
                raise policy.Forbidden("may assign only facilitators serving your programmes "
                                       "or none yet, to cohorts of your programmes")

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            cohort = await uow.get(cid, Cohort)
            facilitator = await uow.get(fid, Facilitator)
            cohort.assign_facilitator(fid, role)
            facilitator.assign_to_cohort(cid, today)
            return ids(cohort_id=cid, facilitator_id=fid)

        return await self._run(ctx, "assignFacilitator", decide, authorise=authorise, key=cid)

    async def _end(self, ctx: CommandContext, cohort_id: UUID | str, command: str, step: Any) -> CommandResult:
        policy.require_role_may(ctx.actor, Act.RUN_PROGRAMME)
        cid = as_uuid(cohort_id, "cohort_id")

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            cohort = await uow.get(cid, Cohort)
            step(cohort)
            for facilitator_id in cohort.facilitators:
                (await uow.get(facilitator_id, Facilitator)).release_from_cohort(cid)
            return ids(cohort_id=cid)

        return await self._run(ctx, command, decide, authorise=may_run_cohort(ctx, cid), key=cid)

    async def _cohort_step(self, ctx: CommandContext, cohort_id: UUID | str, command: str, step: Any) -> CommandResult:
        policy.require_role_may(ctx.actor, Act.RUN_PROGRAMME)
        cid = as_uuid(cohort_id, "cohort_id")

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            step(await uow.get(cid, Cohort))
            return ids(cohort_id=cid)

        return await self._run(ctx, command, decide, authorise=may_run_cohort(ctx, cid), key=cid)
