"""Commands on cohorts: plan, open, start, complete, cancel, capacity, facilitators."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from program.application.access import require_programme
from program.application.base import Handlers, as_uuid, ids
from program.application.context import CommandContext
from program.application.unit import CommandResult, UnitOfWork
from program.domain.cohort import Cohort
from program.domain.facilitator import Facilitator
from program.domain.programme import Programme


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
        pid = as_uuid(programme_id, "programme_id")
        require_programme(ctx.actor, pid)

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            programme = await uow.get(pid, Programme)
            programme.require_active()
            cohort = uow.add(
                Cohort.plan(pid, name, format, capacity, starts_on, venue,
                            programme.min_facilitators_per_cohort)
            )
            return ids(cohort_id=cohort.id, programme_id=pid)

        return await self._run(ctx, "planCohort", decide, key=pid)

    async def open_cohort_enrolment(self, ctx: CommandContext, cohort_id: UUID | str) -> CommandResult:
        """Open a planned cohort for enrolment."""
        return await self._cohort_step(ctx, cohort_id, "openCohortEnrolment", Cohort.open_enrolment)

    async def start_cohort(self, ctx: CommandContext, cohort_id: UUID | str) -> CommandResult:
        """Start a cohort: needs the programme's minimum of eligible facilitators today."""
        cid = as_uuid(cohort_id, "cohort_id")
        today = self.today()

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            cohort = await self._managed_cohort(uow, ctx, cid)
            eligible = []
            for facilitator_id in cohort.facilitators:
                facilitator = await uow.get(facilitator_id, Facilitator)
                if facilitator.is_eligible_on(today):
                    eligible.append(facilitator_id)
            cohort.start(today, eligible)
            return ids(cohort_id=cid)

        return await self._run(ctx, "startCohort", decide, key=cid)

    async def complete_cohort(self, ctx: CommandContext, cohort_id: UUID | str) -> CommandResult:
        """Complete a running cohort and release its facilitators."""
        return await self._end(ctx, cohort_id, "completeCohort", lambda c: c.complete())

    async def cancel_cohort(self, ctx: CommandContext, cohort_id: UUID | str, reason: str) -> CommandResult:
        """Cancel a cohort that has not completed, and release its facilitators."""
        return await self._end(ctx, cohort_id, "cancelCohort", lambda c: c.cancel(reason))

    async def change_cohort_capacity(
        self, ctx: CommandContext, cohort_id: UUID | str, capacity: int
    ) -> CommandResult:
        """Change capacity; a larger cohort promotes the head of its waitlist."""
        cid = as_uuid(cohort_id, "cohort_id")

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            cohort = await self._managed_cohort(uow, ctx, cid)
            # Only the head of the waitlist can move up: as many as the new places.
            room = capacity - cohort.enrolled_count if isinstance(capacity, int) else 0
            waiting = cohort.waitlist_head(room)
            cohort.change_capacity(capacity)
            promoted = [p for p in waiting if cohort.is_enrolled(p)]
            return {**ids(cohort_id=cid), "promoted": [str(p) for p in promoted]}

        return await self._run(ctx, "changeCohortCapacity", decide, key=cid)

    async def assign_facilitator(
        self, ctx: CommandContext, cohort_id: UUID | str, facilitator_id: UUID | str, role: str
    ) -> CommandResult:
        """Assign an eligible facilitator with spare capacity to a cohort."""
        cid = as_uuid(cohort_id, "cohort_id")
        fid = as_uuid(facilitator_id, "facilitator_id")
        today = self.today()

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            cohort = await self._managed_cohort(uow, ctx, cid)
            facilitator = await uow.get(fid, Facilitator)
            cohort.assign_facilitator(fid, role)
            facilitator.assign_to_cohort(cid, today)
            return ids(cohort_id=cid, facilitator_id=fid)

        return await self._run(ctx, "assignFacilitator", decide, key=cid)

    async def _end(self, ctx: CommandContext, cohort_id: UUID | str, command: str, step: Any) -> CommandResult:
        cid = as_uuid(cohort_id, "cohort_id")

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            cohort = await self._managed_cohort(uow, ctx, cid)
            step(cohort)
            for facilitator_id in cohort.facilitators:
                (await uow.get(facilitator_id, Facilitator)).release_from_cohort(cid)
            return ids(cohort_id=cid)

        return await self._run(ctx, command, decide, key=cid)

    async def _cohort_step(self, ctx: CommandContext, cohort_id: UUID | str, command: str, step: Any) -> CommandResult:
        cid = as_uuid(cohort_id, "cohort_id")

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            step(await self._managed_cohort(uow, ctx, cid))
            return ids(cohort_id=cid)

        return await self._run(ctx, command, decide, key=cid)

    @staticmethod
    async def _managed_cohort(uow: UnitOfWork, ctx: CommandContext, cohort_id: UUID) -> Cohort:
        cohort = await uow.get(cohort_id, Cohort)
        require_programme(ctx.actor, cohort.programme_id)
        return cohort
