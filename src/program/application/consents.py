"""Commands on consent: give, refuse, withdraw; withdrawal ends enrolments it covered."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from uuid import UUID

from program.application import policy, targets
from program.application.base import Handlers, as_uuid, ids
from program.application.context import CommandContext
from program.application.membership import leave_cohort
from program.application.policy import Act
from program.application.ports import event_id
from program.application.unit import Authorise, CommandResult, UnitOfWork
from program.domain.consent import Consent
from program.domain.participant import Participant
from program.domain.programme import Programme



def may_act_for(ctx: CommandContext, participant_id: UUID) -> Authorise:
    """The person is (or was) in one of the actor's programmes."""

    async def authorise(uow: UnitOfWork) -> None:
        policy.require(ctx.actor, Act.ACT_FOR_PERSON, await targets.of_person(uow, participant_id))

    return authorise


class ConsentCommands(Handlers):
    async def give_consent(
        self,
        ctx: CommandContext,
        participant_id: UUID | str,
        purpose: str,
        notice_id: str,
        notice_version: str,
        lawful_basis: str,
        method: str,
        recipients: Iterable[str] = (),
        valid_until: date | None = None,
        language: str = "en",
        notice_hash: str | None = None,
    ) -> CommandResult:
        """Record that a person gave consent for a purpose under a notice; ``notice_hash``
        is the SHA-256 of the notice's text as shown to them, when the caller has it."""
        policy.require_role_may(ctx.actor, Act.ACT_FOR_PERSON)
        pid = as_uuid(participant_id, "participant_id")
        at = self.clock.now()

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            consent = await self._consent(uow, pid, purpose)
            consent.give(notice_id, notice_version, language, lawful_basis, list(recipients),
                         method, ctx.actor.subject, valid_until, at, notice_hash)
            return ids(consent_id=consent.id, participant_id=pid)

        return await self._run(ctx, "giveConsent", decide, authorise=may_act_for(ctx, pid), key=pid)

    async def withdraw_consent(
        self, ctx: CommandContext, participant_id: UUID | str, purpose: str, method: str, reason: str = ""
    ) -> CommandResult:
        """Record a withdrawal; enrolments in programmes that require the purpose end with it."""
        policy.require_role_may(ctx.actor, Act.ACT_FOR_PERSON)
        pid = as_uuid(participant_id, "participant_id")
        at = self.clock.now()

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            consent = await uow.get(Consent.create_id(pid, purpose), Consent)
            consent.withdraw(method, ctx.actor.subject, reason, at)
            cause = str(event_id(consent.id, consent.version))
            ended = await self._end_enrolments(uow, pid, purpose, cause)
            return {**ids(consent_id=consent.id, participant_id=pid),
                    "ended_cohort_ids": [str(c) for c in ended]}

        return await self._run(ctx, "withdrawConsent", decide, authorise=may_act_for(ctx, pid),
                               key=pid)

    async def _end_enrolments(self, uow: UnitOfWork, pid: UUID, purpose: str, cause: str) -> list[UUID]:
        """The policy: leave every cohort of a programme that requires this purpose."""
        participant = await uow.get(pid, Participant)
        ended = []
        for cohort_id, programme_id in list(participant.cohorts.items()):
            programme = await uow.get(programme_id, Programme)
            if purpose not in programme.required_consent_purposes:
                continue
            if await leave_cohort(uow, participant, cohort_id, f"consent for {purpose} withdrawn", cause):
                ended.append(cohort_id)
        if ended:
            uow.caused_by(participant, cause)
        return ended

    @staticmethod
    async def _consent(uow: UnitOfWork, pid: UUID, purpose: str) -> Consent:
        participant = await uow.get(pid, Participant)
        participant.require_not_erased()
        existing = await uow.find(Consent.create_id(pid, purpose), Consent)
        return existing or uow.add(Consent.record(pid, purpose))

