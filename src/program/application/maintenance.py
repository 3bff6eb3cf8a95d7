"""Commands on the projections: skip an event a read model cannot apply, or retry it now."""

from __future__ import annotations

from typing import Any

from program.application.base import Handlers
from program.application.context import CommandContext
from program.application.policy import Act, require_role_may
from program.application.unit import CommandResult, UnitOfWork, authorised_before_running
from program.domain.maintenance import ProjectionMaintenance


class MaintenanceCommands(Handlers):
    async def skip_projection_event(
        self, ctx: CommandContext, projection: str, position: int, event_type: str | None,
        reason: str,
    ) -> CommandResult:
        """Record that ``projection`` goes on without the event at ``position``."""
        require_role_may(ctx.actor, Act.MAINTAIN_PROJECTIONS)

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            maintenance = await self._maintenance(uow, projection)
            maintenance.skip(position, event_type, reason)
            _detail(uow, maintenance, f"{projection} skips position {position} "
                    f"({event_type or 'unknown'}): {reason}")
            return {"projection": projection, "position": position}

        return await self._run(ctx, "skipProjectionEvent", decide,
                               authorise=authorised_before_running, key=ProjectionMaintenance.create_id(projection))

    async def request_projection_retry(
        self, ctx: CommandContext, projection: str, position: int | None, reason: str
    ) -> CommandResult:
        """Record that an operator asked ``projection`` to try its failing event again now."""
        require_role_may(ctx.actor, Act.MAINTAIN_PROJECTIONS)

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            maintenance = await self._maintenance(uow, projection)
            maintenance.request_retry(position, reason)
            _detail(uow, maintenance, f"{projection} retries position {position}: {reason}")
            return {"projection": projection, "position": position}

        return await self._run(ctx, "retryProjection", decide,
                               authorise=authorised_before_running, key=ProjectionMaintenance.create_id(projection))

    @staticmethod
    async def _maintenance(uow: UnitOfWork, projection: str) -> ProjectionMaintenance:
        found = await uow.find(ProjectionMaintenance.create_id(projection), ProjectionMaintenance)
        return found if found is not None else uow.add(ProjectionMaintenance.open(projection))


def _detail(uow: UnitOfWork, maintenance: ProjectionMaintenance, text: str) -> None:
    """What the audit trail shows beside who and when (its ``detail``)."""
    uow.metadata_for.setdefault(maintenance.id, {})["detail"] = text[:1000]
