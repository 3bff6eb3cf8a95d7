"""Commands on a cohort's sessions: schedule them and record attendance."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from program.application import policy, targets
from program.application.base import Handlers, as_uuid, ids
from program.application.context import CommandContext
from program.application.policy import Act
from program.application.sealing import seal_reason
from program.application.unit import CommandResult, UnitOfWork
from program.domain.cohort import Cohort
from program.domain.participant import Participant
from program.domain.values import AttendanceStatus, CohortFormat, parse_enum


class SessionCommands(Handlers):
    async def schedule_session(
        self, ctx: CommandContext, cohort_id: UUID | str, starts_at: datetime
    ) -> CommandResult:
        """Schedule a session of a cohort (its managers or assigned facilitators)."""
        policy.require_role_may(ctx.actor, Act.WORK_IN_COHORT)
        cid = as_uuid(cohort_id, "cohort_id")
        session_id = uuid.uuid4()

        async def authorise(uow: UnitOfWork) -> None:
            policy.require(ctx.actor, Act.WORK_IN_COHORT, await targets.of_cohort(uow, cid))

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            (await uow.get(cid, Cohort)).schedule_session(session_id, starts_at)
            return ids(cohort_id=cid, session_id=session_id)

        return await self._run(ctx, "scheduleSession", decide, authorise=authorise, key=cid)

    async def record_attendance(
        self,
        ctx: CommandContext,
        cohort_id: UUID | str,
        session_id: UUID | str,
        participant_id: UUID | str,
        status: str,
    ) -> CommandResult:
        """Record a person's attendance at a session: an enrolled member, or in a drop-in
        cohort a registered person the actor may record (who then has joined it)."""
        policy.require_role_may(ctx.actor, Act.WORK_IN_COHORT)
        cid = as_uuid(cohort_id, "cohort_id")
        sid = as_uuid(session_id, "session_id")
        pid = as_uuid(participant_id, "participant_id")

        async def authorise(uow: UnitOfWork) -> None:
            cohort = await uow.get(cid, Cohort)
            who = None
            if cohort.format is CohortFormat.DROP_IN:
                who = await targets.of_person(uow, pid)
            if not policy.may_record_attendance(ctx.actor, await targets.of_cohort(uow, cid), who):
                raise policy.Forbidden("may record attendance only in your cohorts, "
                                       "of people you may act for")

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            cohort = await uow.get(cid, Cohort)
            cohort.record_attendance(sid, pid, status, self.clock.now())
            present = parse_enum(AttendanceStatus, status, "status") is AttendanceStatus.PRESENT
            if cohort.format is CohortFormat.DROP_IN and present:
                # Being present at a drop-in is joining it (recorded once): outcomes may follow.
                participant = await uow.get(pid, Participant)
                participant.join_cohort(cid, cohort.programme_id)
            return ids(cohort_id=cid, session_id=sid, participant_id=pid)

        return await self._run(ctx, "recordAttendance", decide, authorise=authorise, key=cid)

    async def reschedule_session(
        self, ctx: CommandContext, cohort_id: UUID | str, session_id: UUID | str,
        starts_at: datetime,
    ) -> CommandResult:
        """Move a session to another time (its managers or assigned facilitators)."""
        return await self._session_step(
            ctx, cohort_id, "rescheduleSession",
            lambda cohort, sid: cohort.reschedule_session(sid, starts_at), session_id)

    async def cancel_session(
        self, ctx: CommandContext, cohort_id: UUID | str, session_id: UUID | str,
        reason: str | None = None,
    ) -> CommandResult:
        """Cancel a session; no attendance is taken at it. The reason is sealed under the
        cohort's key."""
        sealed = await seal_reason(self.keys, as_uuid(cohort_id, "cohort_id"), reason)
        return await self._session_step(
            ctx, cohort_id, "cancelSession",
            lambda cohort, sid: cohort.cancel_session(sid, sealed), session_id)

    async def correct_attendance(
        self, ctx: CommandContext, cohort_id: UUID | str, session_id: UUID | str,
        participant_id: UUID | str, status: str, reason: str | None = None,
    ) -> CommandResult:
        """Correct a recorded attendance mark; the reason is sealed under the person's key."""
        pid = as_uuid(participant_id, "participant_id")
        sealed = await seal_reason(self.keys, pid, reason)
        return await self._session_step(
            ctx, cohort_id, "correctAttendance",
            lambda cohort, sid: cohort.correct_attendance(sid, pid, status, sealed), session_id,
            participant_id=pid)

    async def _session_step(
        self, ctx: CommandContext, cohort_id: UUID | str, command: str, step: Any,
        session_id: UUID | str, participant_id: UUID | None = None,
    ) -> CommandResult:
        policy.require_role_may(ctx.actor, Act.WORK_IN_COHORT)
        cid = as_uuid(cohort_id, "cohort_id")
        sid = as_uuid(session_id, "session_id")

        async def authorise(uow: UnitOfWork) -> None:
            policy.require(ctx.actor, Act.WORK_IN_COHORT, await targets.of_cohort(uow, cid))

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            step(await uow.get(cid, Cohort), sid)
            return ids(cohort_id=cid, session_id=sid, participant_id=participant_id)

        return await self._run(ctx, command, decide, authorise=authorise, key=cid)
