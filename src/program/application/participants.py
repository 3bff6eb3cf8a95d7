"""Commands on participants: register, enrol, withdraw, outcomes, erasure."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from program.application import policy, targets
from program.application.base import Handlers, as_uuid, ids
from program.application.context import CommandContext
from program.application.membership import leave_cohort
from program.application.policy import Act
from program.application.ports import KeyErased, decrypt, encrypt
from program.application.sealing import seal_reason
from program.application.unit import Authorise, CommandResult, UnitOfWork, authorised_before_running
from program.domain.cohort import Cohort
from program.domain.cohort_errors import NotEnrolled
from program.domain.consent import Consent, ConsentRequired
from program.domain.participant import Participant
from program.domain.programme import Programme
from program.domain.errors import InvalidInput
from program.domain.values import CohortFormat, optional_text, require_text


def may_enrol(ctx: CommandContext, cohort_id: UUID, participant_id: UUID) -> Authorise:
    """The cohort's programme is the actor's, and so is one of the person's."""

    async def authorise(uow: UnitOfWork) -> None:
        who = await targets.of_person(uow, participant_id)
        if not policy.may_enrol(ctx.actor, who, await targets.of_cohort(uow, cohort_id)):
            raise policy.Forbidden("may act only for people of your programmes, "
                                   "in cohorts of your programmes")

    return authorise


def _may_act_for(ctx: CommandContext, participant_id: UUID) -> Authorise:
    async def authorise(uow: UnitOfWork) -> None:
        policy.require(ctx.actor, Act.ACT_FOR_PERSON, await targets.of_person(uow, participant_id))

    return authorise


_PERSONAL_FIELDS = ("name", "email", "phone", "referral_source", "chosen_name")


def _personal_changes(changes: dict[str, str | None]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for field, value in changes.items():
        if field not in _PERSONAL_FIELDS:
            raise InvalidInput(field, "is not a personal data field")
        out[field] = (require_text(value, field) if field == "name"
                      else optional_text(value, field))
    return out


class ParticipantCommands(Handlers):
    async def register_participant(
        self,
        ctx: CommandContext,
        name: str,
        email: str | None = None,
        phone: str | None = None,
        referral_source: str | None = None,
        *,
        programme_id: UUID | str,
        chosen_name: str | None = None,
    ) -> CommandResult:
        """Register a person into a programme under a pseudonymous id; their personal
        data is stored encrypted."""
        policy.require_role_may(ctx.actor, Act.REGISTER_PERSON)
        into = as_uuid(programme_id, "programme_id")
        policy.require(ctx.actor, Act.REGISTER_PERSON, policy.programme(into))
        personal = {
            "name": require_text(name, "name"),
            "email": optional_text(email, "email"),
            "phone": optional_text(phone, "phone"),
            "referral_source": optional_text(referral_source, "referral_source"),
            "chosen_name": optional_text(chosen_name, "chosen_name"),
        }
        participant_id = uuid.uuid4()

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            await uow.get(into, Programme)  # it exists
            key = await self.keys.create(participant_id)
            ciphertext = encrypt(key, participant_id, personal)
            uow.add(Participant.register(participant_id, ciphertext, into))
            return ids(participant_id=participant_id, programme_id=into)

        return await self._run(ctx, "registerParticipant", decide,
                               authorise=authorised_before_running)

    async def update_participant(
        self,
        ctx: CommandContext,
        participant_id: UUID | str,
        changes: dict[str, str | None],
    ) -> CommandResult:
        """Correct a person's personal data (rectification): the fields given replace
        theirs (a blank optional field clears it); the rest stay."""
        policy.require_role_may(ctx.actor, Act.ACT_FOR_PERSON)
        pid = as_uuid(participant_id, "participant_id")
        checked = _personal_changes(changes)

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            participant = await uow.get(pid, Participant)
            participant.require_not_erased("update personal data")
            key = await self.keys.get(pid)
            if key is None:
                raise KeyErased(str(pid))
            current = decrypt(key, pid, participant.personal_data) if participant.personal_data else {}
            merged = {**current, **checked}
            if not merged.get("name"):
                raise InvalidInput("name", "must be a non-empty string")
            ciphertext = encrypt(key, pid, merged)
            participant.update_personal_data(ciphertext)
            return ids(participant_id=pid)

        return await self._run(ctx, "updateParticipant", decide,
                               authorise=_may_act_for(ctx, pid), key=pid)

    async def enrol_participant(
        self, ctx: CommandContext, cohort_id: UUID | str, participant_id: UUID | str
    ) -> CommandResult:
        """Enrol a consenting person, or waitlist them when the cohort is full."""
        policy.require_role_may(ctx.actor, Act.RUN_PROGRAMME)
        cid = as_uuid(cohort_id, "cohort_id")
        pid = as_uuid(participant_id, "participant_id")
        today = self.today()

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            cohort = await uow.get(cid, Cohort)
            programme = await uow.get(cohort.programme_id, Programme)
            programme.require_active()
            participant = await uow.get(pid, Participant)
            for purpose in programme.required_consent_purposes:
                consent = await uow.find(Consent.create_id(pid, purpose), Consent)
                # A GIVEN consent past its valid-until reads EXPIRED and blocks like a withdrawn one.
                if consent is None or not consent.is_valid_on(today):
                    raise ConsentRequired(pid, purpose)
            status = cohort.enrol(pid)
            participant.join_cohort(cid, cohort.programme_id)
            return {**ids(cohort_id=cid, participant_id=pid), "status": str(status)}

        return await self._run(ctx, "enrolParticipant", decide,
                               authorise=may_enrol(ctx, cid, pid), key=cid)

    async def withdraw_participant(
        self, ctx: CommandContext, cohort_id: UUID | str, participant_id: UUID | str, reason: str = ""
    ) -> CommandResult:
        """Take a person out of a cohort; a freed place promotes the head of the waitlist."""
        policy.require_role_may(ctx.actor, Act.RUN_PROGRAMME)
        cid = as_uuid(cohort_id, "cohort_id")
        pid = as_uuid(participant_id, "participant_id")
        from program.domain.values import optional_text as _plain

        _plain(reason, "reason")

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            cohort = await uow.get(cid, Cohort)
            participant = await uow.get(pid, Participant)
            participant.require_not_erased("withdraw them")
            head = next(iter(cohort.waitlist_head(1)), None)
            cohort.withdraw(pid, await seal_reason(self.keys, pid, reason))
            participant.leave_cohort(cid)
            promoted = head if head is not None and cohort.is_enrolled(head) else None
            return ids(cohort_id=cid, participant_id=pid, promoted_participant_id=promoted)

        return await self._run(ctx, "withdrawParticipant", decide,
                               authorise=may_enrol(ctx, cid, pid), key=cid)

    async def record_outcome(
        self,
        ctx: CommandContext,
        participant_id: UUID | str,
        cohort_id: UUID | str,
        measure: str,
        timepoint: str,
        score: float,
    ) -> CommandResult:
        """Record an outcome score (e.g. Herth Hope Index at baseline) for a cohort member:
        enrolled, or in a drop-in cohort present at one of its sessions."""
        policy.require_role_may(ctx.actor, Act.RUN_PROGRAMME)
        cid = as_uuid(cohort_id, "cohort_id")
        pid = as_uuid(participant_id, "participant_id")

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            cohort = await uow.get(cid, Cohort)
            programme = await uow.get(cohort.programme_id, Programme)
            participant = await uow.get(pid, Participant)
            member = (participant.is_member_of(cid) if cohort.format is CohortFormat.DROP_IN
                      else cohort.is_enrolled(pid))
            if not member:
                raise NotEnrolled(cohort_id=cid, participant_id=pid)
            participant.record_outcome(cid, measure, timepoint, score, programme.measure_ranges)
            return ids(participant_id=pid, cohort_id=cid)

        return await self._run(ctx, "recordOutcome", decide,
                               authorise=may_enrol(ctx, cid, pid), key=pid)

    async def amend_outcome(
        self,
        ctx: CommandContext,
        participant_id: UUID | str,
        cohort_id: UUID | str,
        measure: str,
        timepoint: str,
        score: float,
        reason: str,
    ) -> CommandResult:
        """Correct a recorded score, with a reason (sealed under the person's key); the
        original stays in the history."""
        policy.require_role_may(ctx.actor, Act.RUN_PROGRAMME)
        cid = as_uuid(cohort_id, "cohort_id")
        pid = as_uuid(participant_id, "participant_id")
        require_text(reason, "reason")

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            cohort = await uow.get(cid, Cohort)
            programme = await uow.get(cohort.programme_id, Programme)
            participant = await uow.get(pid, Participant)
            participant.require_not_erased("amend outcomes")
            sealed = await seal_reason(self.keys, pid, reason)
            participant.amend_outcome(cid, measure, timepoint, score, programme.measure_ranges,
                                      sealed or "")
            return ids(participant_id=pid, cohort_id=cid)

        return await self._run(ctx, "amendOutcome", decide,
                               authorise=may_enrol(ctx, cid, pid), key=pid)

    async def erase_participant(self, ctx: CommandContext, participant_id: UUID | str) -> CommandResult:
        """Erase a person: destroy their data key (crypto-shredding) and record the erasure."""
        policy.require(ctx.actor, Act.ERASE_PERSON)
        pid = as_uuid(participant_id, "participant_id")

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            participant = await uow.get(pid, Participant)
            participant.require_not_erased("erase again")
            for cohort_id in list(participant.cohorts):
                await leave_cohort(uow, participant, cohort_id, "erased", None)
            participant.erase()
            await self.keys.destroy(pid)
            return ids(participant_id=pid)

        return await self._run(ctx, "eraseParticipant", decide,
                               authorise=authorised_before_running, key=pid)

    async def personal_data(
        self, participant_ids: list[UUID], ciphertexts: dict[UUID, str | None],
        live_keys: Mapping[UUID, bytes] | None = None,
    ) -> dict[UUID, dict[str, Any] | None]:
        """Decrypt personal data with live keys (``live_keys``: as just read with the rows,
        so no second read); erased people come back as None."""
        keys = live_keys if live_keys is not None else await self.keys.get_many(participant_ids)
        out: dict[UUID, dict[str, Any] | None] = {}
        for pid in participant_ids:
            ct = ciphertexts.get(pid)
            try:
                out[pid] = decrypt(keys.get(pid), pid, ct) if ct else None
            except KeyErased:
                out[pid] = None
        return out
