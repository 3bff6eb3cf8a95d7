"""A request's objects are freed when its answer is sent, not left for the cycle collector.

A reference cycle anywhere in a request (the execution's helpers holding the execution,
a loader's function holding its loaders) keeps everything the request read alive until a
garbage collection; collecting a few hundred requests' worth at once stopped the server
for 30 to 60 ms, the longest wait any search or dashboard met under load."""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable
import httpx
import pytest

from test_graphql_support import Gql, TokenFactory, build_world

DASHBOARD = """query D($id: UUID!) { cohort(id: $id) {
  id name enrolledCount attendance { rate } enrolled(first: 5) { participantId }
  facilitators { facilitatorId facilitator { id } } } }"""
SEARCH = """query S($q: String) { participants(search: $q, first: 5) {
  edges { node { id name email displayName } } pageInfo { hasNextPage } } }"""
# Objects made for one request and no longer: none of them may be cyclic garbage.
PER_REQUEST = {"_Run", "GraphQLContext", "Loaders", "DataLoader", "Participant", "Cohort",
               "GraphQLResolveInfo", "ParticipantView", "CohortView", "ProgramExecutionContext",
               "CollectedErrors", "MiddlewareManager", "CommandContext"}


async def _left_behind(requests: Callable[[], Awaitable[None]]) -> list[str]:
    """The per-request types among what the cycle collector finds after ``requests``."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        await requests()
        gc.collect()
        return sorted({type(o).__name__ for o in gc.garbage} & PER_REQUEST)
    finally:
        gc.garbage.clear()
        gc.set_debug(0)


@pytest.mark.single_execution  # the byte-for-byte shadow run makes its own objects
async def test_answered_queries_leave_no_cyclic_garbage(
    http: httpx.AsyncClient, token: TokenFactory
) -> None:
    admin = Gql(http, token("ADMIN"))
    world = await build_world(admin, people=3, name="Garbage")
    await admin.data(SEARCH, {"q": "person"})  # plans compiled, documents cached
    await admin.data(DASHBOARD, {"id": world.cohort_id})

    async def read() -> None:
        for _ in range(10):
            await admin.data(SEARCH, {"q": "person"})
            await admin.data(DASHBOARD, {"id": world.cohort_id})
            await admin.data("{ __typename me { subject } }")  # answered by Strawberry

    assert await _left_behind(read) == []


@pytest.mark.single_execution
async def test_answered_mutations_leave_no_cyclic_garbage(
    http: httpx.AsyncClient, token: TokenFactory
) -> None:
    admin = Gql(http, token("ADMIN"))
    world = await build_world(admin, people=0, name="Garbage writes")

    async def register(n: int) -> None:
        await admin.mutate("registerParticipant", {"programmeId": world.programme_id,
                                                   "name": f"Person {n}"}, "participantId")

    async def write() -> None:
        for n in range(1, 11):
            await register(n)

    await register(0)
    assert await _left_behind(write) == []
