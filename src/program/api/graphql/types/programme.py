"""The programme overview."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry

from program.api.graphql.enums import CohortStatus, ProgrammeStatus, to_enum
from program.api.graphql.types.common import Attendance, StatusCount
from program.projections.programme_overview import ProgrammeView


@strawberry.type(description="A programme and its overview: cohorts, people, attendance.")
class Programme:
    id: UUID
    name: str
    description: str
    status: ProgrammeStatus
    required_consent_purposes: list[str]
    outcome_measures: list[str]
    min_facilitators_per_cohort: int
    created_at: datetime
    updated_at: datetime
    cohort_count: int
    cohorts_by_status: list[StatusCount]
    enrolled: int = strawberry.field(description="People enrolled in cohorts not yet ended.")
    waitlisted: int = strawberry.field(description="People waiting in cohorts not yet ended.")
    attendance: Attendance

    @classmethod
    def from_view(cls, v: ProgrammeView) -> Programme:
        order = [s.value for s in CohortStatus]
        by_status = sorted((order.index(s), s, n) for s, n in v.cohorts_by_status.items()
                           if s in order)
        return cls(
            id=v.id, name=v.name, description=v.description,
            status=to_enum(ProgrammeStatus, v.status),  # type: ignore[arg-type]
            required_consent_purposes=list(v.required_consent_purposes),
            outcome_measures=list(v.outcome_measures),
            min_facilitators_per_cohort=v.min_facilitators_per_cohort,
            created_at=v.created_at, updated_at=v.updated_at, cohort_count=v.cohort_count,
            cohorts_by_status=[StatusCount(status=CohortStatus(s), count=n)
                               for _, s, n in by_status],
            enrolled=v.enrolled, waitlisted=v.waitlisted,
            attendance=Attendance(present=v.attendance_present,
                                  recorded=v.attendance_recorded, rate=v.attendance_rate),
        )
