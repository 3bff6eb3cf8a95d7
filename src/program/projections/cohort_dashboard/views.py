"""What the cohort dashboard queries return: frozen dataclasses built from its rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID


@dataclass(frozen=True)
class CohortFacilitatorView:
    facilitator_id: UUID
    role: str
    assigned_at: datetime


@dataclass(frozen=True)
class SessionView:
    id: UUID
    starts_at: datetime


@dataclass(frozen=True)
class AbsenceView:
    participant_id: UUID
    consecutive: int


@dataclass(frozen=True)
class OutcomeView:
    """Raw figures: the API suppresses small cells (``people`` and the counts say how small)."""

    measure: str
    baseline_count: int
    follow_up_count: int
    people: int  # with both timepoints: the people ``mean_change`` covers
    mean_change: float | None


@dataclass(frozen=True)
class CohortView:
    id: UUID
    programme_id: UUID
    name: str
    status: str
    format: str
    capacity: int | None
    starts_on: date
    venue: str | None
    min_facilitators: int
    started_on: date | None
    cancel_reason: str | None
    planned_at: datetime
    updated_at: datetime
    # The people themselves: ``queries.cohort_members`` (a page of them, in order).
    enrolled_count: int
    waitlist_count: int
    places_left: int | None
    facilitators: tuple[CohortFacilitatorView, ...]
    session_ids: tuple[UUID, ...]  # by start time, with ``session_starts``
    session_starts: tuple[datetime, ...]
    next_session: SessionView | None  # the first starting after ``now``
    attendance_present: int
    attendance_recorded: int
    attendance_rate: float | None
    consecutive_absences: tuple[AbsenceView, ...]  # 3 or more absences in a row, most first
    outcomes: tuple[OutcomeView, ...]

    @property
    def sessions(self) -> tuple[SessionView, ...]:
        """By start time; made when asked for (a dashboard usually shows the next one, and
        a cohort meeting weekly for a year has fifty)."""
        return tuple(map(SessionView, self.session_ids, self.session_starts))
