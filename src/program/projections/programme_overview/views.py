"""What the programme overview queries return: frozen dataclasses built from its rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True)
class ProgrammeView:
    id: UUID
    name: str
    description: str
    status: str
    required_consent_purposes: tuple[str, ...]
    outcome_measures: tuple[str, ...]
    min_facilitators_per_cohort: int
    created_at: datetime
    updated_at: datetime
    cohort_count: int
    cohorts_by_status: dict[str, int]
    # Places taken and waiting in cohorts not yet completed or cancelled (a person in two
    # of the programme's cohorts counts in each).
    enrolled: int
    waitlisted: int
    attendance_present: int
    attendance_recorded: int
    attendance_rate: float | None  # present / recorded, None before any mark
