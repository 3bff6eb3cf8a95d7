"""Load one record through the request's DataLoaders and check the caller may read it.

Root query fields and nested fields both come here, so a rule is written once.
"""

from __future__ import annotations

from uuid import UUID

from strawberry.types import Info

from program.api.graphql.context import context_of
from program.api.graphql.errors import NotFound
from program.api.graphql.permissions import (
    require_cohort_read,
    require_person_read,
    require_programme_read,
)
from program.api.graphql.types.cohort import Cohort
from program.api.graphql.types.facilitator import Facilitator
from program.api.graphql.types.participant import Participant
from program.api.graphql.types.programme import Programme
from program.application.access import Forbidden
from program.application.context import Role


async def programme(info: Info, programme_id: UUID) -> Programme:
    ctx = context_of(info)
    require_programme_read(ctx.actor, programme_id)
    view = await ctx.loaders.programmes.load(programme_id)
    if view is None:
        raise NotFound("programme", programme_id)
    return Programme.from_view(view)


async def cohort(info: Info, cohort_id: UUID, *, missing_ok: bool = False) -> Cohort | None:
    ctx = context_of(info)
    actor = ctx.actor
    if actor.role is Role.PARTNER:
        raise Forbidden("partners read only their feed")
    view = await ctx.loaders.cohorts.load(cohort_id)
    if view is None:
        if missing_ok:
            return None
        raise NotFound("cohort", cohort_id)
    require_cohort_read(actor, view.programme_id, (f.facilitator_id for f in view.facilitators))
    return Cohort.from_view(view, info)


async def facilitator(info: Info, facilitator_id: UUID, *, via_cohort: bool = False) -> Facilitator | None:
    """A facilitator's record: admins, managers, auditors, the facilitator themself, and
    (``via_cohort``) anyone who may read a cohort they are assigned to."""
    ctx = context_of(info)
    actor = ctx.actor
    allowed = actor.role in (Role.ADMIN, Role.PROGRAMME_MANAGER, Role.AUDITOR) or (
        actor.role is Role.FACILITATOR and (via_cohort or actor.facilitator_id == facilitator_id)
    )
    if not allowed:
        raise Forbidden("not allowed to read this facilitator")
    view = await ctx.loaders.facilitators.load(facilitator_id)
    if view is None:
        if via_cohort:
            return None
        raise NotFound("facilitator", facilitator_id)
    return Facilitator.from_view(view, info)


async def participant(info: Info, participant_id: UUID, *, missing_ok: bool = False) -> Participant | None:
    ctx = context_of(info)
    actor = ctx.actor
    if actor.role not in (Role.ADMIN, Role.PROGRAMME_MANAGER, Role.AUDITOR):
        raise Forbidden(f"role {actor.role.value} may not read people")
    view = await ctx.loaders.participants.load(participant_id)
    if view is None:
        if missing_ok:
            return None
        raise NotFound("participant", participant_id)
    require_person_read(actor, view.programme_ids)
    return Participant.from_view(view, info)
