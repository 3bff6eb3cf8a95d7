"""Commands on programmes: create, activate, close."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from program.application import policy
from program.application.base import Handlers, as_uuid, ids
from program.application.context import CommandContext
from program.application.policy import Act
from program.application.unit import CommandResult, UnitOfWork, authorised_before_running
from program.domain.programme import Programme


class ProgrammeCommands(Handlers):
    async def create_programme(
        self,
        ctx: CommandContext,
        name: str,
        description: str = "",
        required_consent_purposes: Iterable[str] | None = None,
        outcome_measures: Iterable[str] | None = None,
        min_facilitators_per_cohort: int = 2,
        optional_consent_purposes: Iterable[str] | None = None,
        custom_measures: Iterable[Mapping[str, Any]] | None = None,
    ) -> CommandResult:
        """Create a programme in DRAFT, with its catalogue of purposes and measures."""
        policy.require(ctx.actor, Act.CREATE_PROGRAMME)

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            programme = uow.add(
                Programme.create(
                    name, description, required_consent_purposes, outcome_measures,
                    min_facilitators_per_cohort, optional_consent_purposes, custom_measures,
                )
            )
            return ids(programme_id=programme.id)

        return await self._run(ctx, "createProgramme", decide, authorise=authorised_before_running)

    async def update_programme(
        self,
        ctx: CommandContext,
        programme_id: UUID | str,
        description: str | None = None,
        required_consent_purposes: Iterable[str] | None = None,
        optional_consent_purposes: Iterable[str] | None = None,
        outcome_measures: Iterable[str] | None = None,
        custom_measures: Iterable[Mapping[str, Any]] | None = None,
    ) -> CommandResult:
        """Change a programme's description and catalogue (what is not given stays)."""
        return await self._programme_step(
            ctx, programme_id, "updateProgramme",
            lambda p: p.update(description, required_consent_purposes, optional_consent_purposes,
                               outcome_measures, custom_measures),
        )

    async def activate_programme(self, ctx: CommandContext, programme_id: UUID | str) -> CommandResult:
        """Open a programme for cohorts and enrolment."""
        return await self._programme_step(ctx, programme_id, "activateProgramme", Programme.activate)

    async def close_programme(self, ctx: CommandContext, programme_id: UUID | str) -> CommandResult:
        """Close a programme for good."""
        return await self._programme_step(ctx, programme_id, "closeProgramme", Programme.close)

    async def _programme_step(
        self, ctx: CommandContext, programme_id: UUID | str, command: str, step: Any
    ) -> CommandResult:
        policy.require_role_may(ctx.actor, Act.RUN_PROGRAMME)
        pid = as_uuid(programme_id, "programme_id")
        policy.require(ctx.actor, Act.RUN_PROGRAMME, policy.programme(pid))

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            step(await uow.get(pid, Programme))
            return ids(programme_id=pid)

        return await self._run(ctx, command, decide, authorise=authorised_before_running, key=pid)
