"""The Query type: dashboards, people, consent histories, the audit trail, projections.

Every field authenticates first, then asks the access policy whether the caller's role
may read this at all, then (with ``consistentWith``) waits for the read models, then
reads, asking the policy about each record it returns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry
from strawberry.types import Info

from program.api.graphql import lookups
from program.api.graphql.arguments import After, ConsistentWith, First
from program.api.graphql.consistency import wait_until_consistent
from program.api.graphql.context import GraphQLContext, context_of
from program.api.graphql.ledger import LedgerQueries
from program.api.graphql.enums import CohortStatus, ProgrammeStatus, Role
from program.api.graphql.errors import BadInput, NotFound
from program.api.graphql.types.audit import AuditEntry, AuditTrailFilter, Projection
from program.api.graphql.types.cohort import Cohort
from program.api.graphql.types.common import Connection, connection
from program.api.graphql.types.consent import ConsentHistory
from program.api.graphql.types.facilitator import Facilitator
from program.api.graphql.types.participant import Participant
from program.api.graphql.types.programme import Programme
from program.application import policy
from program.application.policy import Act
from program.projections import projection_status
from program.projections.audit_trail import audit_trail
from program.projections.cohort_dashboard import cohort_ids_for_facilitator, list_cohorts
from program.projections.consent_history import consent_history
from program.projections.facilitator_load import list_facilitators
from program.projections.programme_overview import list_programmes

DEFAULT_PAGE = 20
MAX_PAGE = 100
Id = Annotated[UUID, strawberry.argument(description="Its id.")]


async def _ready(info: Info, consistent_with: int | None, act: Act | None) -> GraphQLContext:
    """``act`` is what the field reads (None: only who the caller is)."""
    ctx = context_of(info)
    actor = ctx.actor
    if act is not None:
        policy.require_role_may(actor, act)
    await wait_until_consistent(ctx.services, consistent_with)
    return ctx


def _first(first: int) -> int:
    if not 0 <= first <= MAX_PAGE:
        raise BadInput(f"first must be between 0 and {MAX_PAGE}")
    return first


@strawberry.type(description="The authenticated caller, as the token says.")
class Me:
    subject: str
    role: Role
    programme_ids: list[UUID]
    facilitator_id: UUID | None


@strawberry.type
class Query(LedgerQueries):
    @strawberry.field(description="Who the bearer token speaks for.")
    async def me(self, info: Info, consistent_with: ConsistentWith = None) -> Me:
        actor = (await _ready(info, consistent_with, None)).actor
        return Me(subject=actor.subject, role=Role(actor.role.value),
                  programme_ids=sorted(actor.programme_ids, key=str),
                  facilitator_id=actor.facilitator_id)

    @strawberry.field(description="A programme's overview.")
    async def programme(self, info: Info, id: Id,
                        consistent_with: ConsistentWith = None) -> Programme:
        await _ready(info, consistent_with, Act.READ_PROGRAMME)
        return Programme.from_view(await lookups.programme(info, id))

    @strawberry.field(description="Programmes by name (a manager sees their own).")
    async def programmes(
        self, info: Info,
        status: Annotated[ProgrammeStatus | None, strawberry.argument(
            description="Only programmes in this status.")] = None,
        first: First = DEFAULT_PAGE, after: After = None, consistent_with: ConsistentWith = None,
    ) -> Connection[Programme]:
        ctx = await _ready(info, consistent_with, Act.READ_PROGRAMME)
        page = await list_programmes(
            ctx.services.pool, scope=_as_set(policy.readable_programmes(ctx.actor)),
            status=status.value if status else None, first=_first(first), after=after)
        return connection(page, Programme.from_view)

    @strawberry.field(description="A cohort's dashboard.")
    async def cohort(self, info: Info, id: Id, consistent_with: ConsistentWith = None) -> Cohort:
        await _ready(info, consistent_with, Act.READ_COHORT)
        view = await lookups.cohort(info, id)
        assert view is not None  # missing raises NotFound
        return Cohort.from_view(view, info)

    @strawberry.field(description=(
        "Cohorts by start date. Managers see their programmes' cohorts, facilitators "
        "the cohorts they are assigned to."
    ))
    async def cohorts(
        self, info: Info,
        programme_id: Annotated[UUID | None, strawberry.argument(
            description="Only the cohorts of this programme.")] = None,
        status: Annotated[CohortStatus | None, strawberry.argument(
            description="Only cohorts in this status.")] = None,
        first: First = DEFAULT_PAGE, after: After = None, consistent_with: ConsistentWith = None,
    ) -> Connection[Cohort]:
        ctx = await _ready(info, consistent_with, Act.READ_COHORT)
        reach = policy.readable_cohorts(ctx.actor)
        scope = _as_set(reach.programme_ids)
        ids: set[UUID] | None = None
        if reach.facilitator_id is not None:
            ids = set(await cohort_ids_for_facilitator(ctx.services.pool, reach.facilitator_id))
        elif reach.only_assigned:
            ids = set()  # a facilitator token without a facilitator is assigned nowhere
        if programme_id is not None and scope is not None:
            policy.require(ctx.actor, Act.READ_PROGRAMME, policy.programme(programme_id))
        page = await list_cohorts(
            ctx.services.pool, scope=scope, ids=ids, programme_id=programme_id,
            status=status.value if status else None, first=_first(first), after=after,
            now=ctx.now)
        return connection(page, lambda v: Cohort.from_view(v, info))

    @strawberry.field(description="A facilitator's load and credentials.")
    async def facilitator(self, info: Info, id: Id,
                          consistent_with: ConsistentWith = None) -> Facilitator:
        await _ready(info, consistent_with, Act.READ_FACILITATOR)
        view = await lookups.facilitator(info, id)
        assert view is not None  # missing raises NotFound
        return Facilitator.from_view(view, info)

    @strawberry.field(description="Facilitators in the order they registered (names are stored encrypted).")
    async def facilitators(
        self, info: Info, first: First = DEFAULT_PAGE, after: After = None,
        consistent_with: ConsistentWith = None,
    ) -> Connection[Facilitator]:
        ctx = await _ready(info, consistent_with, Act.READ_FACILITATOR)
        policy.require_reads_every(ctx.actor, Act.READ_FACILITATOR)
        page = await list_facilitators(
            ctx.services.pool, first=_first(first), after=after, today=ctx.now.date(),
            now=ctx.now)
        return connection(page, lambda v: Facilitator.from_view(v, info))

    @strawberry.field(description="A person's consent state and cohorts.")
    async def participant(self, info: Info, id: Id,
                          consistent_with: ConsistentWith = None) -> Participant:
        await _ready(info, consistent_with, Act.READ_PERSON)
        view = await lookups.participant(info, id)
        assert view is not None  # missing raises NotFound
        return Participant.from_view(view, info)

    @strawberry.field(description=(
        "People within reach: a manager's, those registered into or ever in one of their "
        "programmes (enrolled or not); a facilitator's, those now in the cohorts they are "
        "assigned to, with their display name only. search finds a fragment of the name, "
        "chosen name or email, ignoring case and accents, through a keyed blind index."
    ))
    async def participants(
        self, info: Info,
        programme_id: Annotated[UUID | None, strawberry.argument(
            description="Only people of this programme.")] = None,
        cohort_id: Annotated[UUID | None, strawberry.argument(
            description="Only people now in this cohort.")] = None,
        search: Annotated[str | None, strawberry.argument(
            description="A fragment of a name or email (case and accents do not matter).")] = None,
        first: First = DEFAULT_PAGE, after: After = None,
        consistent_with: ConsistentWith = None,
    ) -> Connection[Participant]:
        from program.api.graphql.people_search import find_people

        ctx = await _ready(info, consistent_with, Act.FIND_PEOPLE)
        page, names_only, plain = await find_people(info, ctx, programme_id, cohort_id, search,
                                                    _first(first), after)
        return connection(page, lambda v: Participant.from_view(
            v, info, names_only=names_only, personal=plain.get(v.id)))

    @strawberry.field(description="Every consent change of a person, and the state as of a time.")
    async def consent_history(
        self, info: Info,
        participant_id: Annotated[UUID, strawberry.argument(description="The person.")],
        purpose: Annotated[str | None, strawberry.argument(
            description="Only the changes of this purpose.")] = None,
        as_of: Annotated[datetime | None, strawberry.argument(
            description="The time statesAsOf answers for (with a time zone); default: now.")
        ] = None,
        consistent_with: ConsistentWith = None,
    ) -> ConsentHistory:
        ctx = await _ready(info, consistent_with, Act.READ_PERSON)
        if as_of is not None and as_of.utcoffset() is None:
            raise BadInput("asOf must include a time zone")
        person = await ctx.loaders.participants.load(participant_id)
        if person is None:
            raise NotFound("participant", participant_id)
        # "is or was in": a person's programmes are never forgotten, so history stays readable.
        policy.require(ctx.actor, Act.READ_PERSON, policy.person(person.programme_ids))
        view = await consent_history(ctx.services.pool, participant_id,
                                     purpose=purpose, as_of=as_of)
        reasons = None
        if policy.may_read_reasons(ctx.actor, policy.person(person.programme_ids)):
            from program.application.sealing import open_reasons

            reasons = await open_reasons(ctx.services.keys,
                                         [(participant_id, c.reason) for c in view.changes])
        return ConsentHistory.from_view(view, reasons)

    @strawberry.field(description="Every stored event with who, when and why, in log order.")
    async def audit_trail(
        self, info: Info,
        filter: Annotated[AuditTrailFilter | None, strawberry.argument(
            description="Only the events that match every condition given.")] = None,
        first: First = DEFAULT_PAGE, after: After = None, consistent_with: ConsistentWith = None,
    ) -> Connection[AuditEntry]:
        ctx = await _ready(info, consistent_with, Act.READ_AUDIT_TRAIL)
        f = filter or AuditTrailFilter()
        page = await audit_trail(
            ctx.services.pool, aggregate_id=f.aggregate_id, actor=f.actor,
            event_type=f.event_type.value if f.event_type else None, since=f.since, until=f.until, first=_first(first),
            after=after)
        return connection(page, AuditEntry.from_view)

    @strawberry.field(description="Each projection's position and lag behind the log.")
    async def projections(self, info: Info,
                          consistent_with: ConsistentWith = None) -> list[Projection]:
        ctx = await _ready(info, consistent_with, Act.READ_PROJECTIONS)
        return [Projection.from_status(s) for s in await projection_status(ctx.services.pool)]


def _as_set(scope: frozenset[UUID] | None) -> set[UUID] | None:
    return None if scope is None else set(scope)
