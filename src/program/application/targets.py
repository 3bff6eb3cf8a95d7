"""What the access policy needs to know about an aggregate, loaded through the unit of work
(so the command's own decision reuses what was loaded)."""

from __future__ import annotations

from uuid import UUID

from program.application import policy
from program.application.policy import Target
from program.application.unit import UnitOfWork
from program.domain.cohort import Cohort
from program.domain.facilitator import Facilitator
from program.domain.participant import Participant


async def of_cohort(uow: UnitOfWork, cohort_id: UUID) -> Target:
    cohort = await uow.get(cohort_id, Cohort)
    return policy.cohort(cohort.programme_id, cohort.facilitators)


async def of_person(uow: UnitOfWork, participant_id: UUID) -> Target:
    participant = await uow.get(participant_id, Participant)
    return policy.person(participant.programme_ids)


async def of_facilitator(uow: UnitOfWork, facilitator_id: UUID) -> Target:
    """The programmes a facilitator serves now: those of the cohorts they are assigned to
    (at most their few ``max_cohorts``)."""
    facilitator = await uow.get(facilitator_id, Facilitator)
    serves = [(await uow.consult(c, Cohort)).programme_id for c in facilitator.cohort_ids]
    return policy.facilitator(facilitator_id, serves)
