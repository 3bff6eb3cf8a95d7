"""Membership rules several commands share: leaving a cohort that has not ended."""

from __future__ import annotations

from uuid import UUID

from program.application.unit import UnitOfWork
from program.domain.cohort import Cohort
from program.domain.participant import Participant
from program.domain.values import CohortStatus


async def leave_cohort(
    uow: UnitOfWork, participant: Participant, cohort_id: UUID, reason: str, cause: str | None
) -> bool:
    """Take a person out of a cohort that has not ended; False when it had ended."""
    cohort = await uow.get(cohort_id, Cohort)
    if cohort.status in (CohortStatus.COMPLETED, CohortStatus.CANCELLED):
        return False
    if cohort.is_member(participant.id):
        cohort.withdraw(participant.id, reason)
        if cause:
            uow.caused_by(cohort, cause)
    participant.leave_cohort(cohort_id)
    return True
