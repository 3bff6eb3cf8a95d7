"""The ``participants`` query: people within the caller's reach, optionally found by a
fragment of their name or email through the blind index (never by reading names in clear)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from strawberry.types import Info

from program.api.graphql.context import GraphQLContext
from program.api.graphql.errors import BadInput
from program.application import policy
from program.projections.cohort_dashboard import cohort_ids_for_facilitator
from program.projections.paging import Page
from program.projections.participant_search import (
    cursor_of,
    find_participants,
    index_key,
    matches,
    query_tokens,
)
from program.projections.participant_state import ParticipantView


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
) -> tuple[Page[ParticipantView], bool, dict[UUID, Any]]:
    """A page of people, whether the caller sees display names only, and the people's
    decrypted personal data (by id)."""
    reach = policy.findable_people(ctx.actor)
    programmes = _programme_scope(reach, programme_id)
    cohorts = await _cohort_scope(ctx, reach, cohort_id)
    tokens = None
    if search is not None and search.strip():
        tokens = query_tokens(await _index_key(ctx), search)
        if not tokens:
            raise BadInput("search must hold at least one letter or digit")
    if cohorts == [] or programmes == []:
        return (Page(items=(), cursors=(), has_next=False, end_cursor=None),
                reach.display_names_only, {})
    found = await find_participants(
        ctx.services.pool, tokens=tokens, programme_ids=programmes, cohort_ids=cohorts,
        first=first, after=after)
    people = [v for _, v in found.people if v is not None and not v.erased]
    plain = await _decrypted(ctx, people, found.keys)
    if tokens is not None:
        people = [v for v in people if matches(plain.get(v.id), search or "")]
    cursors = tuple(cursor_of(v.id) for v in people)
    end = cursor_of(found.people[-1][0]) if found.people else None
    return (Page(items=tuple(people), cursors=cursors, has_next=found.more, end_cursor=end),
            reach.display_names_only, plain)


async def _decrypted(ctx: GraphQLContext, people: list[ParticipantView],
                     keys: dict[UUID, bytes]) -> dict[UUID, Any]:
    """The people's personal data, decrypted with the keys read with them; primed into the
    request's loader too, so nothing reached from elsewhere in the answer decrypts again."""
    plain: dict[UUID, Any] = await ctx.services.application.personal_data(
        [v.id for v in people], {v.id: v.personal_data for v in people}, live_keys=keys)
    for v in people:
        if v.personal_data:
            ctx.loaders.personal_data.prime((v.id, v.personal_data), plain.get(v.id))
    return plain
