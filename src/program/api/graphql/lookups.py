"""Load one record through the request's DataLoaders and ask the access policy whether the
caller may read it.

Root query fields and nested fields both come here, so each read asks the policy once.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from strawberry.types import Info

from program.api.graphql.context import context_of
from program.api.graphql.errors import NotFound
from program.api.graphql.types.cohort import Cohort
from program.api.graphql.types.facilitator import Facilitator
from program.api.graphql.types.participant import Participant
from program.api.graphql.types.programme import Programme
from program.application import policy
from program.application.policy import Act


async def programme(info: Info, programme_id: UUID) -> Programme:
    ctx = context_of(info)
    policy.require(ctx.actor, Act.READ_PROGRAMME, policy.programme(programme_id))
    view = await ctx.loaders.programmes.load(programme_id)
    if view is None:
        raise NotFound("programme", programme_id)
    return Programme.from_view(view)


async def cohort(info: Info, cohort_id: UUID, *, missing_ok: bool = False) -> Cohort | None:
    ctx = context_of(info)
    policy.require_role_may(ctx.actor, Act.READ_COHORT)
    view = await ctx.loaders.cohorts.load(cohort_id)
    if view is None:
        if missing_ok:
            return None
        raise NotFound("cohort", cohort_id)
    policy.require(ctx.actor, Act.READ_COHORT, policy.cohort(
        view.programme_id, (f.facilitator_id for f in view.facilitators)))
    return Cohort.from_view(view, info)


async def facilitator(
    info: Info, facilitator_id: UUID, *, of_cohort: Iterable[UUID] | None = None
) -> Facilitator | None:
    """A facilitator's record; ``of_cohort`` (the facilitators of a cohort the caller
    read) lets a facilitator read their co-facilitators there."""
    ctx = context_of(info)
    team = frozenset(of_cohort) if of_cohort is not None else frozenset({facilitator_id})
    policy.require(ctx.actor, Act.READ_FACILITATOR, policy.Target(facilitator_ids=team))
    view = await ctx.loaders.facilitators.load(facilitator_id)
    if view is None:
        if of_cohort is not None:
            return None
        raise NotFound("facilitator", facilitator_id)
    return Facilitator.from_view(view, info)


async def participant(info: Info, participant_id: UUID, *, missing_ok: bool = False) -> Participant | None:
    ctx = context_of(info)
    policy.require_role_may(ctx.actor, Act.READ_PERSON)
    view = await ctx.loaders.participants.load(participant_id)
    if view is None:
        if missing_ok:
            return None
        raise NotFound("participant", participant_id)
    policy.require(ctx.actor, Act.READ_PERSON, policy.person(view.programme_ids))
    return Participant.from_view(view, info)
