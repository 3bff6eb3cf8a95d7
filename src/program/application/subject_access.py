"""Subject access (GDPR Art. 15): the export of everything held about a person is recorded."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from program.application import policy
from program.application.base import Handlers, as_uuid, ids
from program.application.context import CommandContext
from program.application.policy import Act
from program.application.unit import CommandResult, UnitOfWork, authorised_before_running
from program.domain.participant import Participant


class SubjectAccessCommands(Handlers):
    async def record_subject_export(
        self, ctx: CommandContext, participant_id: UUID | str, format: str
    ) -> CommandResult:
        """Record that the actor exported everything held about a person, before it is built
        (admins only): the audit trail shows who, when, and in ``detail`` the format."""
        policy.require(ctx.actor, Act.EXPORT_SUBJECT_DATA)
        pid = as_uuid(participant_id, "participant_id")

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            person = await uow.get(pid, Participant)
            person.record_data_export(format)
            uow.metadata_for.setdefault(pid, {})["detail"] = f"subject-access export ({format})"
            return ids(participant_id=pid)

        return await self._run(ctx, "exportSubjectData", decide,
                               authorise=authorised_before_running, key=pid)
