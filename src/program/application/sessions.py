"""Commands on a cohort's sessions: schedule them and record attendance."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from program.application.access import require_cohort_work
from program.application.base import Handlers, as_uuid, ids
from program.application.context import CommandContext
from program.application.unit import CommandResult, UnitOfWork
from program.domain.cohort import Cohort


class SessionCommands(Handlers):
    async def schedule_session(
        self, ctx: CommandContext, cohort_id: UUID | str, starts_at: datetime
    ) -> CommandResult:
        """Schedule a session of a cohort (its managers or assigned facilitators)."""
        cid = as_uuid(cohort_id, "cohort_id")
        session_id = uuid.uuid4()

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            cohort = await uow.get(cid, Cohort)
            require_cohort_work(ctx.actor, cohort.programme_id, cohort.facilitators)
            cohort.schedule_session(session_id, starts_at)
            return ids(cohort_id=cid, session_id=session_id)

        return await self._run(ctx, "scheduleSession", decide, key=cid)

    async def record_attendance(
        self,
        ctx: CommandContext,
        cohort_id: UUID | str,
        session_id: UUID | str,
        participant_id: UUID | str,
        status: str,
    ) -> CommandResult:
        """Record a person's attendance at a session."""
        cid = as_uuid(cohort_id, "cohort_id")
        sid = as_uuid(session_id, "session_id")
        pid = as_uuid(participant_id, "participant_id")

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            cohort = await uow.get(cid, Cohort)
            require_cohort_work(ctx.actor, cohort.programme_id, cohort.facilitators)
            cohort.record_attendance(sid, pid, status)
            return ids(cohort_id=cid, session_id=sid, participant_id=pid)

        return await self._run(ctx, "recordAttendance", decide, key=cid)
