"""Load one record through the request's DataLoaders and ask the access policy whether the
caller may read it: the view comes back only if they may.

Root query fields and nested fields both come here, so each read asks the policy once;
each type module builds its own GraphQL objects from the views (``types.registry``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Hashable, Iterable
from typing import TypeVar
from uuid import UUID

from strawberry.types import Info

from program.api.graphql.context import context_of
from program.api.graphql.errors import NotFound
from program.api.graphql.loaders import RequestLoader
from program.application import policy
from program.application.policy import Act
from program.projections.cohort_dashboard import CohortView
from program.projections.facilitator_load import FacilitatorView
from program.projections.participant_state import ParticipantView
from program.projections.programme_overview import ProgrammeView

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _load(info: Info, loader: RequestLoader[K, V], key: K) -> Awaitable[V]:
    """The only field at the root of a query reads at once (nothing could batch with it);
    any other batches through the loader."""
    alone = info.path.prev is None and len(info.operation.selection_set.selections) == 1
    return loader.load_now(key) if alone else loader.load(key)


async def programme(info: Info, programme_id: UUID) -> ProgrammeView:
    ctx = context_of(info)
    policy.require(ctx.actor, Act.READ_PROGRAMME, policy.programme(programme_id))
    view = await _load(info, ctx.loaders.programmes, programme_id)
    if view is None:
        raise NotFound("programme", programme_id)
    return view


async def cohort(info: Info, cohort_id: UUID, *, missing_ok: bool = False) -> CohortView | None:
    ctx = context_of(info)
    policy.require_role_may(ctx.actor, Act.READ_COHORT)
    view = await _load(info, ctx.loaders.cohorts, cohort_id)
    if view is None:
        if missing_ok:
            return None
        raise NotFound("cohort", cohort_id)
    policy.require(ctx.actor, Act.READ_COHORT, policy.cohort(
        view.programme_id, (f.facilitator_id for f in view.facilitators)))
    return view


async def facilitator(
    info: Info, facilitator_id: UUID, *, of_cohort: Iterable[UUID] | None = None
) -> FacilitatorView | None:
    """A facilitator's record; ``of_cohort`` (the facilitators of a cohort the caller
    read) lets a facilitator read their co-facilitators there."""
    ctx = context_of(info)
    team = frozenset(of_cohort) if of_cohort is not None else frozenset({facilitator_id})
    policy.require(ctx.actor, Act.READ_FACILITATOR, policy.Target(facilitator_ids=team))
    view = await _load(info, ctx.loaders.facilitators, facilitator_id)
    if view is None:
        if of_cohort is not None:
            return None
        raise NotFound("facilitator", facilitator_id)
    return view


async def participant(info: Info, participant_id: UUID, *, missing_ok: bool = False) -> ParticipantView | None:
    ctx = context_of(info)
    policy.require_role_may(ctx.actor, Act.READ_PERSON)
    view = await _load(info, ctx.loaders.participants, participant_id)
    if view is None:
        if missing_ok:
            return None
        raise NotFound("participant", participant_id)
    policy.require(ctx.actor, Act.READ_PERSON, policy.person(view.programme_ids))
    return view
