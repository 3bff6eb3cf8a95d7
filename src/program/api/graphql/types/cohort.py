"""The cohort dashboard."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import strawberry
from strawberry.types import Info

from program.api.graphql import lookups
from program.api.graphql.context import context_of
from program.api.graphql.disclosure import cell
from program.api.graphql.enums import CohortFormat, CohortStatus, FacilitatorRole, to_enum
from program.api.graphql.types.common import Attendance, MaybeAwaitable
from program.api.graphql.types.programme import Programme
from program.api.graphql.types.registry import register, wrap
from program.application.context import Actor
from program.projections.cohort_dashboard import CohortView, OutcomeView
from program.projections.cohort_dashboard.projection import ENROLLED, WAITLISTED
from program.projections.paging import InvalidQuery

if TYPE_CHECKING:
    from program.api.graphql.loaders import Loaders

_FACILITATOR = strawberry.lazy("program.api.graphql.types.facilitator")
_PARTICIPANT = strawberry.lazy("program.api.graphql.types.participant")


@strawberry.type
class Session:
    id: UUID
    starts_at: datetime


@strawberry.type(description="A person in a cohort, by pseudonymous id.")
class CohortMember:
    participant_id: UUID
    place: int = strawberry.field(description="1-based place in the enrolment or waitlist order.")

    @strawberry.field(description="The person's record (FORBIDDEN for roles that may not read people).")
    async def participant(self, info: Info) -> Annotated["Participant", _PARTICIPANT] | None:
        view = await lookups.participant(info, self.participant_id, missing_ok=True)
        return wrap(view, info)  # type: ignore[return-value]


Among = Annotated[int | None, strawberry.argument(
    description="Only the first this many; default: all of them.")]


def _members(info: Info, cohort_id: UUID, standing: str,
             first: int | None) -> MaybeAwaitable[list[CohortMember]]:
    """The people at once when the dashboard read them already (the usual case);
    otherwise read through the loader."""
    if first is not None and first < 0:
        raise InvalidQuery("first must not be negative")
    loaders = context_of(info).loaders
    people = loaders.known_members(cohort_id, standing, first)
    if people is not None:
        return _as_members(people)
    return _load_members(loaders, (cohort_id, standing, first))


async def _load_members(loaders: Loaders, key: tuple[UUID, str, int | None]) -> list[CohortMember]:
    return _as_members(await loaders.members.load(key))


def _as_members(people: Iterable[UUID] | None) -> list[CohortMember]:
    return [CohortMember(participant_id=p, place=i + 1) for i, p in enumerate(people or ())]


@strawberry.type
class Absence:
    participant_id: UUID
    consecutive: int = strawberry.field(description="Absences in a row up to the latest session.")

    @strawberry.field(description="The person's record (FORBIDDEN for roles that may not read people).")
    async def participant(self, info: Info) -> Annotated["Participant", _PARTICIPANT] | None:
        view = await lookups.participant(info, self.participant_id, missing_ok=True)
        return wrap(view, info)  # type: ignore[return-value]


@strawberry.type
class CohortFacilitator:
    facilitator_id: UUID
    role: FacilitatorRole
    assigned_at: datetime
    team: strawberry.Private[tuple[UUID, ...]]  # the cohort's facilitators

    @strawberry.field
    async def facilitator(self, info: Info) -> Annotated["Facilitator", _FACILITATOR] | None:
        view = await lookups.facilitator(info, self.facilitator_id, of_cohort=self.team)
        return wrap(view, info)  # type: ignore[return-value]


@strawberry.type(description=(
    "Outcome completion and mean change for one measure. Figures over fewer than 5 people "
    "are null, with suppressed: true, for every role but ADMIN."
))
class OutcomeSummary:
    measure: str
    baseline_count: int | None
    follow_up_count: int | None
    people: int | None = strawberry.field(description="People with both timepoints.")
    mean_change: float | None = strawberry.field(description="Mean of follow-up minus baseline.")
    suppressed: bool

    @classmethod
    def from_view(cls, v: OutcomeView, actor: Actor) -> OutcomeSummary:
        baseline = cell(v.baseline_count, v.baseline_count, actor)
        follow_up = cell(v.follow_up_count, v.follow_up_count, actor)
        people = cell(v.people, v.people, actor)
        change = cell(v.mean_change, v.people, actor)
        return cls(
            measure=v.measure, baseline_count=baseline.value, follow_up_count=follow_up.value,  # type: ignore[arg-type]
            people=people.value, mean_change=change.value,  # type: ignore[arg-type]
            suppressed=any(c.suppressed for c in (baseline, follow_up, people, change)),
        )


@strawberry.type(description="A cohort and its dashboard.")
class Cohort:
    id: UUID
    programme_id: UUID
    name: str
    status: CohortStatus
    format: CohortFormat
    capacity: int | None
    starts_on: date
    venue: str | None
    min_facilitators: int
    started_on: date | None
    sealed_cancel_reason: strawberry.Private[str | None]
    planned_at: datetime
    updated_at: datetime
    enrolled_count: int
    waitlist_count: int
    places_left: int | None

    @strawberry.field(description="Why it was cancelled: for admins and its managers only.")
    async def cancel_reason(self, info: Info) -> str | None:
        from program.api.graphql.reasons import opened
        from program.application import policy

        return await opened(info, self.id, self.sealed_cancel_reason,
                            policy.cohort(self.programme_id))

    @strawberry.field(graphql_type=list[CohortMember],
                      description="In enrolment order; the first ``first`` of them when given.")
    def enrolled(self, info: Info, first: Among = None) -> MaybeAwaitable[list[CohortMember]]:
        return _members(info, self.id, ENROLLED, first)

    @strawberry.field(graphql_type=list[CohortMember],
                      description="Head first; the first ``first`` of them when given.")
    def waitlist(self, info: Info, first: Among = None) -> MaybeAwaitable[list[CohortMember]]:
        return _members(info, self.id, WAITLISTED, first)

    facilitators: list[CohortFacilitator]
    session_ids: strawberry.Private[tuple[UUID, ...]]
    session_starts: strawberry.Private[tuple[datetime, ...]]

    @strawberry.field(description="By start time.")
    def sessions(self) -> list[Session]:
        return [Session(id=i, starts_at=at) for i, at in zip(self.session_ids,
                                                              self.session_starts, strict=True)]

    next_session: Session | None
    attendance: Attendance
    consecutive_absences: list[Absence] = strawberry.field(
        description="People absent from 3 or more sessions in a row, most absences first."
    )
    outcomes: list[OutcomeSummary]

    @strawberry.field
    async def programme(self, info: Info) -> Programme:
        return Programme.from_view(await lookups.programme(info, self.programme_id))

    @classmethod
    def from_view(cls, v: CohortView, info: Info) -> Cohort:
        actor = context_of(info).actor
        team = tuple(f.facilitator_id for f in v.facilitators)
        return cls(
            id=v.id, programme_id=v.programme_id, name=v.name,
            status=to_enum(CohortStatus, v.status),  # type: ignore[arg-type]
            format=to_enum(CohortFormat, v.format),  # type: ignore[arg-type]
            capacity=v.capacity, starts_on=v.starts_on, venue=v.venue,
            min_facilitators=v.min_facilitators, started_on=v.started_on,
            sealed_cancel_reason=v.cancel_reason, planned_at=v.planned_at, updated_at=v.updated_at,
            enrolled_count=v.enrolled_count, waitlist_count=v.waitlist_count,
            places_left=v.places_left,
            facilitators=[
                CohortFacilitator(facilitator_id=f.facilitator_id,
                                  role=to_enum(FacilitatorRole, f.role),  # type: ignore[arg-type]
                                  assigned_at=f.assigned_at, team=team)
                for f in v.facilitators
            ],
            session_ids=v.session_ids, session_starts=v.session_starts,
            next_session=Session(id=v.next_session.id, starts_at=v.next_session.starts_at)
            if v.next_session else None,
            attendance=Attendance(present=v.attendance_present,
                                  recorded=v.attendance_recorded, rate=v.attendance_rate),
            consecutive_absences=[Absence(participant_id=a.participant_id,
                                          consecutive=a.consecutive)
                                  for a in v.consecutive_absences],
            outcomes=[OutcomeSummary.from_view(o, actor) for o in v.outcomes],
        )


register(CohortView, Cohort.from_view)
