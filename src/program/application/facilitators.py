"""Commands on facilitators: register, credentials, activate, suspend, erase."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any
from uuid import UUID

from program.application import policy, targets
from program.application.base import Handlers, as_uuid, ids
from program.application.context import CommandContext
from program.application.policy import Act
from program.application.ports import encrypt
from program.application.sealing import require_reason, seal_reason
from program.application.unit import CommandResult, UnitOfWork, authorised_before_running
from program.domain.facilitator import Facilitator, contact_details


class FacilitatorCommands(Handlers):
    async def register_facilitator(
        self, ctx: CommandContext, display_name: str, email: str, max_cohorts: int = 2,
        phone: str | None = None,
    ) -> CommandResult:
        """Register a volunteer facilitator (APPLIED); their name and contact details
        are stored encrypted under their own data key, like a participant's."""
        policy.require(ctx.actor, Act.REGISTER_FACILITATOR)
        personal = contact_details(display_name, email, phone)
        facilitator_id = uuid.uuid4()

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            key = await self.keys.create(facilitator_id)
            ciphertext = encrypt(key, facilitator_id, personal)
            facilitator = uow.add(Facilitator.register(facilitator_id, ciphertext, max_cohorts))
            return ids(facilitator_id=facilitator.id)

        return await self._run(ctx, "registerFacilitator", decide,
                               authorise=authorised_before_running)

    async def record_facilitator_credential(
        self, ctx: CommandContext, facilitator_id: UUID | str, kind: str, valid_until: date
    ) -> CommandResult:
        """Record a credential (training, safeguarding, background check) and its expiry."""
        return await self._step(
            ctx, facilitator_id, "recordFacilitatorCredential",
            lambda f: f.record_credential(kind, valid_until),
        )

    async def begin_facilitator_training(self, ctx: CommandContext, facilitator_id: UUID | str) -> CommandResult:
        """Move an applicant into training."""
        return await self._step(ctx, facilitator_id, "beginFacilitatorTraining", lambda f: f.begin_training())

    async def activate_facilitator(self, ctx: CommandContext, facilitator_id: UUID | str) -> CommandResult:
        """Make a facilitator active (or reinstate a suspended one)."""
        today = self.today()
        return await self._step(ctx, facilitator_id, "activateFacilitator", lambda f: f.activate(today))

    async def suspend_facilitator(
        self, ctx: CommandContext, facilitator_id: UUID | str, reason: str
    ) -> CommandResult:
        """Suspend an active facilitator; the reason is sealed under the facilitator's own key
        (see ``application.sealing``)."""
        require_reason(reason)
        sealed = await seal_reason(self.keys, as_uuid(facilitator_id, "facilitator_id"), reason)
        return await self._step(ctx, facilitator_id, "suspendFacilitator", lambda f: f.suspend(sealed))

    async def retire_facilitator(self, ctx: CommandContext, facilitator_id: UUID | str) -> CommandResult:
        """Retire a facilitator for good."""
        return await self._step(ctx, facilitator_id, "retireFacilitator", lambda f: f.retire())

    async def erase_facilitator(self, ctx: CommandContext, facilitator_id: UUID | str) -> CommandResult:
        """Erase a facilitator: retire them, destroy their data key (crypto-shredding)
        and record the erasure."""
        policy.require(ctx.actor, Act.ERASE_PERSON)
        fid = as_uuid(facilitator_id, "facilitator_id")

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            (await uow.get(fid, Facilitator)).erase()
            await self.keys.destroy(fid)
            return ids(facilitator_id=fid)

        return await self._run(ctx, "eraseFacilitator", decide,
                               authorise=authorised_before_running, key=fid)

    async def _step(self, ctx: CommandContext, facilitator_id: UUID | str, command: str, step: Any) -> CommandResult:
        policy.require_role_may(ctx.actor, Act.ACT_ON_FACILITATOR)
        fid = as_uuid(facilitator_id, "facilitator_id")

        async def authorise(uow: UnitOfWork) -> None:
            """Only where the facilitator serves the actor's programmes, or none yet."""
            policy.require(ctx.actor, Act.ACT_ON_FACILITATOR, await targets.of_facilitator(uow, fid))

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            step(await uow.get(fid, Facilitator))
            return ids(facilitator_id=fid)

        return await self._run(ctx, command, decide, authorise=authorise, key=fid)
