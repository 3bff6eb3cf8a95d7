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
from program.application.sealing import require_reason, seal_reason
from program.domain.consent import Consent, ConsentNotGiven
from program.domain.catalogue import check_purpose
from program.domain.participant import Participant
from program.domain.programme import Programme



def may_act_for(ctx: CommandContext, participant_id: UUID) -> Authorise:
    """The person is (or was) in one of the actor's programmes."""

    async def authorise(uow: UnitOfWork) -> None:
        policy.require(ctx.actor, Act.ACT_FOR_PERSON, await targets.of_person(uow, participant_id))

    return authorise


_CHANGED = {"withdrawConsent": "withdrawn", "revokeConsent": "revoked"}


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
            await self._check_purpose(uow, pid, purpose)
            consent.give(notice_id, notice_version, language, lawful_basis, list(recipients),
                         method, ctx.actor.subject, valid_until, at, notice_hash)
            return ids(consent_id=consent.id, participant_id=pid)

        return await self._run(ctx, "giveConsent", decide, authorise=may_act_for(ctx, pid), key=pid)

    async def refuse_consent(
        self, ctx: CommandContext, participant_id: UUID | str, purpose: str, notice_id: str,
        notice_version: str, method: str, language: str = "en",
    ) -> CommandResult:
        """Record that a person was asked under a notice and said no."""
        policy.require_role_may(ctx.actor, Act.ACT_FOR_PERSON)
        pid = as_uuid(participant_id, "participant_id")
        at = self.clock.now()

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            consent = await self._consent(uow, pid, purpose)
            await self._check_purpose(uow, pid, purpose)
            consent.refuse(notice_id, notice_version, language, method, ctx.actor.subject, at)
            return ids(consent_id=consent.id, participant_id=pid)

        return await self._run(ctx, "refuseConsent", decide, authorise=may_act_for(ctx, pid), key=pid)

    async def withdraw_consent(
        self, ctx: CommandContext, participant_id: UUID | str, purpose: str, method: str, reason: str = ""
    ) -> CommandResult:
        """Record a withdrawal by the person; enrolments in programmes that require the
        purpose end with it. The reason is sealed under the person's key."""
        return await self._end_consent(
            ctx, participant_id, purpose, reason, "withdrawConsent",
            lambda consent, sealed, at: consent.withdraw(method, ctx.actor.subject, sealed, at))

    async def revoke_consent(
        self, ctx: CommandContext, participant_id: UUID | str, purpose: str, reason: str
    ) -> CommandResult:
        """Record that someone other than the person ended the consent (a reason is needed);
        enrolments that needed it end, as on withdrawal."""
        require_reason(reason)
        return await self._end_consent(
            ctx, participant_id, purpose, reason, "revokeConsent",
            lambda consent, sealed, at: consent.revoke(ctx.actor.subject, sealed, at))

    async def _end_consent(
        self, ctx: CommandContext, participant_id: UUID | str, purpose: str, reason: str | None,
        command: str, change: Any,
    ) -> CommandResult:
        policy.require_role_may(ctx.actor, Act.ACT_FOR_PERSON)
        pid = as_uuid(participant_id, "participant_id")
        at = self.clock.now()
        from program.domain.values import optional_text, require_text

        optional_text(reason, "reason")
        purpose = require_text(purpose, "purpose")

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            consent = await uow.find(Consent.create_id(pid, purpose), Consent)
            if consent is None:  # a domain answer, not NOT_FOUND with an internal id
                raise ConsentNotGiven(purpose=purpose, change=_CHANGED[command],
                                      problem="it was never recorded")
            (await uow.get(pid, Participant)).require_not_erased()
            change(consent, await seal_reason(self.keys, pid, reason), at)
            cause = str(event_id(consent.id, consent.version))
            ended = await self._end_enrolments(uow, pid, purpose, cause)
            return {**ids(consent_id=consent.id, participant_id=pid),
                    "ended_cohort_ids": [str(c) for c in ended]}

        return await self._run(ctx, command, decide, authorise=may_act_for(ctx, pid), key=pid)

    @staticmethod
    async def _check_purpose(uow: UnitOfWork, pid: UUID, purpose: str) -> None:
        """The purpose is in the catalogue of one of the person's programmes."""
        participant = await uow.get(pid, Participant)
        catalogue: list[str] = []
        for programme_id in sorted(participant.programme_ids, key=str):
            catalogue += (await uow.consult(programme_id, Programme)).consent_purposes
        check_purpose(catalogue, purpose.strip() if isinstance(purpose, str) else purpose)

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

