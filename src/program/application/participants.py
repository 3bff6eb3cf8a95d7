"""Commands on participants: register, enrol, withdraw, outcomes, erasure."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from program.application.access import require_cohort_work, require_programme, require_role
from program.application.base import Handlers, as_uuid, ids
from program.application.context import CommandContext, Role
from program.application.membership import leave_cohort
from program.application.unit import CommandResult, UnitOfWork
from program.domain.cohort import Cohort
from program.domain.consent import Consent, ConsentRequired
from program.domain.participant import Participant
from program.domain.programme import Programme
from program.domain.values import optional_text, require_text
from program.store.keys import KeyErased, decrypt, encrypt


class ParticipantCommands(Handlers):
    async def register_participant(
        self,
        ctx: CommandContext,
        name: str,
        email: str | None = None,
        phone: str | None = None,
        referral_source: str | None = None,
    ) -> CommandResult:
        """Register a person under a pseudonymous id; their personal data is stored encrypted."""
        require_role(ctx.actor, Role.ADMIN, Role.PROGRAMME_MANAGER)
        personal = {
            "name": require_text(name, "name"),
            "email": optional_text(email, "email"),
            "phone": optional_text(phone, "phone"),
            "referral_source": optional_text(referral_source, "referral_source"),
        }
        participant_id = uuid.uuid4()

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            key = await self.keys.create(participant_id)
            ciphertext = encrypt(key, participant_id, personal)
            uow.add(Participant.register(participant_id, ciphertext))
            return ids(participant_id=participant_id)

        return await self._run(ctx, "registerParticipant", decide)

    async def enrol_participant(
        self, ctx: CommandContext, cohort_id: UUID | str, participant_id: UUID | str
    ) -> CommandResult:
        """Enrol a consenting person, or waitlist them when the cohort is full."""
        cid = as_uuid(cohort_id, "cohort_id")
        pid = as_uuid(participant_id, "participant_id")
        today = self.today()

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            cohort = await uow.get(cid, Cohort)
            require_programme(ctx.actor, cohort.programme_id)
            programme = await uow.get(cohort.programme_id, Programme)
            programme.require_active()
            participant = await uow.get(pid, Participant)
            for purpose in programme.required_consent_purposes:
                consent = await uow.find(Consent.create_id(pid, purpose), Consent)
                if consent is None or not consent.is_valid_on(today):
                    raise ConsentRequired(pid, purpose)
            status = cohort.enrol(pid)
            participant.join_cohort(cid, cohort.programme_id)
            return {**ids(cohort_id=cid, participant_id=pid), "status": str(status)}

        return await self._run(ctx, "enrolParticipant", decide, key=cid)

    async def withdraw_participant(
        self, ctx: CommandContext, cohort_id: UUID | str, participant_id: UUID | str, reason: str = ""
    ) -> CommandResult:
        """Take a person out of a cohort; a freed place promotes the head of the waitlist."""
        cid = as_uuid(cohort_id, "cohort_id")
        pid = as_uuid(participant_id, "participant_id")

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            cohort = await uow.get(cid, Cohort)
            require_programme(ctx.actor, cohort.programme_id)
            participant = await uow.get(pid, Participant)
            head = next(iter(cohort.waitlist_head(1)), None)
            cohort.withdraw(pid, reason)
            participant.leave_cohort(cid)
            promoted = head if head is not None and cohort.is_enrolled(head) else None
            return ids(cohort_id=cid, participant_id=pid, promoted_participant_id=promoted)

        return await self._run(ctx, "withdrawParticipant", decide, key=cid)

    async def record_outcome(
        self,
        ctx: CommandContext,
        participant_id: UUID | str,
        cohort_id: UUID | str,
        measure: str,
        timepoint: str,
        score: float,
    ) -> CommandResult:
        """Record an outcome score (e.g. Herth Hope Index at baseline) for a cohort member."""
        cid = as_uuid(cohort_id, "cohort_id")
        pid = as_uuid(participant_id, "participant_id")

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            cohort = await uow.get(cid, Cohort)
            require_cohort_work(ctx.actor, cohort.programme_id, cohort.facilitators)
            programme = await uow.get(cohort.programme_id, Programme)
            participant = await uow.get(pid, Participant)
            participant.record_outcome(cid, measure, timepoint, score, programme.outcome_measures)
            return ids(participant_id=pid, cohort_id=cid)

        return await self._run(ctx, "recordOutcome", decide, key=pid)

    async def erase_participant(self, ctx: CommandContext, participant_id: UUID | str) -> CommandResult:
        """Erase a person: destroy their data key (crypto-shredding) and record the erasure."""
        require_role(ctx.actor, Role.ADMIN)
        pid = as_uuid(participant_id, "participant_id")

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            participant = await uow.get(pid, Participant)
            participant.require_not_erased("erase again")
            for cohort_id in list(participant.cohorts):
                await leave_cohort(uow, participant, cohort_id, "erased", None)
            participant.erase()
            await self.keys.destroy(pid)
            return ids(participant_id=pid)

        return await self._run(ctx, "eraseParticipant", decide, key=pid)

    async def personal_data(
        self, participant_ids: list[UUID], ciphertexts: dict[UUID, str | None]
    ) -> dict[UUID, dict[str, Any] | None]:
        """Decrypt personal data with live keys; erased people come back as None."""
        keys = await self.keys.get_many(participant_ids)
        out: dict[UUID, dict[str, Any] | None] = {}
        for pid in participant_ids:
            ct = ciphertexts.get(pid)
            try:
                out[pid] = decrypt(keys.get(pid), pid, ct) if ct else None
            except KeyErased:
                out[pid] = None
        return out
