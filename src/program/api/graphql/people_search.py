"""The ``participants`` query: people within the caller's reach, optionally found by a
fragment of their name or email through the blind index (never by reading names in clear)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from strawberry.types import Info

from program.api.graphql.context import GraphQLContext
from program.api.graphql.errors import BadInput
from program.application import policy
from program.application.policy import Act
from program.projections.cohort_dashboard import cohort_ids_for_facilitator
from program.projections.paging import Page
from program.projections.participant_search import (
    cursor_of,
    find_participant_ids,
    index_key,
    matches,
    query_tokens,
)
from program.projections.participant_state import ParticipantView, get_participants


async def _index_key(ctx: GraphQLContext) -> bytes:
    services = ctx.services
    if services.search_index_key is None:
        async with services.pool.acquire() as conn:
            services.search_index_key = await index_key(conn)
    return services.search_index_key


async def _cohort_scope(ctx: GraphQLContext, reach: policy.PeopleReach,
                        cohort_id: UUID | None) -> list[UUID] | None:
    if reach.display_names_only:
        assigned = (await cohort_ids_for_facilitator(ctx.services.pool, reach.facilitator_id)
                    if reach.facilitator_id is not None else [])
        if cohort_id is not None and cohort_id not in assigned:
            raise policy.Forbidden("may list only the people of the cohorts you are assigned to")
        return [cohort_id] if cohort_id is not None else list(assigned)
    if cohort_id is None:
        return None
    cohort = await ctx.loaders.cohorts.load(cohort_id)
    if cohort is not None and reach.programme_ids is not None \
            and cohort.programme_id not in reach.programme_ids:
        raise policy.Forbidden("may list only the people of your programmes' cohorts")
    return [cohort_id]


def _programme_scope(reach: policy.PeopleReach, programme_id: UUID | None) -> list[UUID] | None:
    if programme_id is None:
        return None if reach.programme_ids is None else list(reach.programme_ids)
    if reach.programme_ids is not None and programme_id not in reach.programme_ids:
        raise policy.Forbidden("may list only the people of your programmes")
    return [programme_id]


async def find_people(
    info: Info, ctx: GraphQLContext, programme_id: UUID | None, cohort_id: UUID | None,
    search: str | None, first: int, after: str | None,
) -> tuple[Page[ParticipantView], bool]:
    """A page of people, and whether the caller sees display names only."""
    reach = policy.findable_people(ctx.actor)
    programmes = _programme_scope(reach, programme_id)
    cohorts = await _cohort_scope(ctx, reach, cohort_id)
    tokens = None
    if search is not None and search.strip():
        tokens = query_tokens(await _index_key(ctx), search)
        if not tokens:
            raise BadInput("search must hold at least one letter or digit")
    if cohorts == [] or programmes == []:
        return Page(items=(), cursors=(), has_next=False, end_cursor=None), reach.display_names_only
    found, more = await find_participant_ids(
        ctx.services.pool, tokens=tokens, programme_ids=programmes, cohort_ids=cohorts,
        first=first, after=after)
    views = await get_participants(ctx.services.pool, found)
    people = [views[p] for p in found if p in views and not views[p].erased]
    if tokens is not None:
        people = await _confirmed(ctx, people, search or "")
    cursors = tuple(cursor_of(v.id) for v in people)
    end = cursor_of(found[-1]) if found else None
    return Page(items=tuple(people), cursors=cursors, has_next=more, end_cursor=end), \
        reach.display_names_only


async def _confirmed(ctx: GraphQLContext, people: list[ParticipantView], search: str
                     ) -> list[ParticipantView]:
    """Only people whose decrypted name or email really holds the fragment."""
    plain: dict[UUID, Any] = await ctx.services.application.personal_data(
        [v.id for v in people], {v.id: v.personal_data for v in people})
    for v in people:  # the name and email fields read these, not the keys again
        if v.personal_data:
            ctx.loaders.personal_data.prime((v.id, v.personal_data), plain.get(v.id))
    return [v for v in people if matches(plain.get(v.id), search)]
