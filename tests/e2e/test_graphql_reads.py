"""GraphQL reads: read-your-writes, connections and filters, bounded SQL, limits."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date
from typing import Any

import httpx
import pytest

from program.application.context import Actor, CommandContext, Role
from program.bootstrap import Services
from test_graphql_support import Gql, TokenFactory, World, build_world, days

COHORT_DASHBOARD = """
query C($id: UUID!, $p: Int) {
  cohort(id: $id, consistentWith: $p) {
    id name status format capacity enrolledCount waitlistCount placesLeft
    enrolled { participantId place } waitlist { participantId place }
    facilitators { role facilitatorId facilitator { id displayName status } }
    sessions { id startsAt } nextSession { id }
    attendance { present recorded rate }
    consecutiveAbsences { participantId consecutive }
    outcomes { measure baselineCount followUpCount people meanChange suppressed }
    programme { id name status }
  }
}"""


@pytest.fixture(scope="module")
def admin(http: httpx.AsyncClient, token: TokenFactory) -> Gql:
    return Gql(http, token("ADMIN", subject="admin-1"))


@pytest.fixture(scope="module")
async def world(admin: Gql) -> World:
    return await build_world(admin, people=3, capacity=2)


# -- read your writes ------------------------------------------------------------------


async def test_consistent_with_reads_the_mutation_it_names(admin: Gql, world: World) -> None:
    result = await admin.mutate("changeCohortCapacity", {"id": world.cohort_id, "capacity": 3},
                                "position promotedParticipantIds")
    assert result["promotedParticipantIds"] == [world.participant_ids[2]]
    cohort = (await admin.data(COHORT_DASHBOARD,
                               {"id": world.cohort_id, "p": result["position"]}))["cohort"]
    assert cohort["capacity"] == 3
    assert [m["participantId"] for m in cohort["enrolled"]] == world.participant_ids
    assert cohort["waitlist"] == [] and cohort["placesLeft"] == 0
    assert {f["role"] for f in cohort["facilitators"]} == {"LEAD", "CO"}
    assert all(f["facilitator"]["status"] == "ACTIVE" for f in cohort["facilitators"])
    assert cohort["programme"]["id"] == world.programme_id


async def test_a_position_not_reached_in_time_is_not_caught_up(
    admin: Gql, world: World, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def stalled(position: int, timeout: float = 5.0, names: Any = None) -> bool:
        return False

    monkeypatch.setattr(services.projections, "wait_for", stalled)
    error = await admin.error(COHORT_DASHBOARD, {"id": world.cohort_id, "p": world.position})
    assert error["extensions"]["code"] == "NOT_CAUGHT_UP"
    assert error["path"] == ["cohort"]


@pytest.mark.parametrize("position", [-1, 10**9])
async def test_an_unreachable_position_is_bad_user_input(
    admin: Gql, world: World, position: int
) -> None:
    error = await admin.error(COHORT_DASHBOARD, {"id": world.cohort_id, "p": position})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


# -- connections and filters -------------------------------------------------------------


PROGRAMMES = """
query P($first: Int!, $after: String, $status: ProgrammeStatus, $p: Int) {
  programmes(first: $first, after: $after, status: $status, consistentWith: $p) {
    edges { cursor node { id name status cohortCount } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_programmes_page_forward_with_cursors_and_filter_by_status(admin: Gql) -> None:
    names = [f"Paged {i}" for i in range(5)]
    position = 0
    for name in names:
        pid = (await admin.mutate("createProgramme", {"name": name}, "programmeId"))["programmeId"]
        if name != names[-1]:
            position = (await admin.mutate("activateProgramme", {"id": pid}))["position"]
    seen: list[str] = []
    after = None
    while True:
        page = (await admin.data(PROGRAMMES, {"first": 2, "after": after, "status": "ACTIVE",
                                              "p": position}))["programmes"]
        seen += [e["node"]["name"] for e in page["edges"]]
        assert all(e["node"]["status"] == "ACTIVE" for e in page["edges"])
        if page["edges"]:
            assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [n for n in seen if n.startswith("Paged")] == names[:-1]
    drafts = (await admin.data(PROGRAMMES, {"first": 50, "status": "DRAFT"}))["programmes"]
    assert "Paged 4" in [e["node"]["name"] for e in drafts["edges"]]
    # Resuming from any edge's cursor continues right after that edge.
    first_two = (await admin.data(PROGRAMMES, {"first": 2, "status": "ACTIVE"}))["programmes"]
    resumed = (await admin.data(PROGRAMMES, {"first": 1, "status": "ACTIVE",
                                             "after": first_two["edges"][0]["cursor"]}))
    assert resumed["programmes"]["edges"][0]["node"]["id"] == first_two["edges"][1]["node"]["id"]


@pytest.mark.parametrize(("first", "after"), [(101, None), (-1, None), (5, "garbage!")])
async def test_bad_page_arguments_are_bad_user_input(admin: Gql, first: int, after: str | None) -> None:
    error = await admin.error(PROGRAMMES, {"first": first, "after": after})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_cohorts_filter_by_programme_and_status(admin: Gql, world: World) -> None:
    other = await build_world(admin, name="Filter group", open=False, facilitators=0)
    query = """query Q($pid: UUID, $status: CohortStatus, $p: Int) {
      cohorts(programmeId: $pid, status: $status, first: 50, consistentWith: $p) {
        edges { node { id programmeId status } } } }"""
    mine = (await admin.data(query, {"pid": world.programme_id, "p": other.position or None}))
    assert {e["node"]["id"] for e in mine["cohorts"]["edges"]} == {world.cohort_id}
    planned = await admin.data(query, {"status": "PLANNED"})
    ids = {e["node"]["id"] for e in planned["cohorts"]["edges"]}
    assert other.cohort_id in ids and world.cohort_id not in ids


# -- bounded SQL ------------------------------------------------------------------------------


class CountingPool:
    """The services' pool (or read lane), counting every statement the API sends through it."""

    def __init__(self, pool: Any, statements: Counter[str] | None = None) -> None:
        self._pool = pool
        self.statements: Counter[str] = Counter() if statements is None else statements

    def _count(self, sql: str) -> None:
        self.statements[" ".join(sql.split())[:80]] += 1

    async def fetch(self, sql: str, *args: Any, **kw: Any) -> Any:
        self._count(sql)
        return await self._pool.fetch(sql, *args, **kw)

    async def fetchrow(self, sql: str, *args: Any, **kw: Any) -> Any:
        self._count(sql)
        return await self._pool.fetchrow(sql, *args, **kw)

    async def fetchval(self, sql: str, *args: Any, **kw: Any) -> Any:
        self._count(sql)
        return await self._pool.fetchval(sql, *args, **kw)

    async def execute(self, sql: str, *args: Any, **kw: Any) -> Any:
        self._count(sql)
        return await self._pool.execute(sql, *args, **kw)

    def acquire(self, *args: Any, **kw: Any) -> Any:
        raise AssertionError("reads should not hold a connection of their own")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)

    @property
    def total(self) -> int:
        return sum(self.statements.values())


def count_statements(services: Services, monkeypatch: pytest.MonkeyPatch) -> CountingPool:
    """Every statement the API sends, through the pool or the read lane, in one count."""
    counting = CountingPool(services.pool)
    monkeypatch.setattr(services, "pool", counting)
    if services.reads is not None:
        monkeypatch.setattr(services, "reads", CountingPool(services.reads, counting.statements))
    return counting


FIFTY = """
query F($pid: UUID!, $first: Int!) {
  cohorts(programmeId: $pid, first: $first) {
    edges { node {
      id name enrolledCount
      programme { name }
      facilitators { role facilitator { displayName activeCohortCount
                                        credentials { kind daysToExpiry } } }
    } }
  }
}"""


@pytest.mark.single_execution
async def test_fifty_cohorts_with_their_facilitators_take_a_bounded_number_of_statements(
    admin: Gql, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = services.application
    ctx = CommandContext(Actor("admin-1", Role.ADMIN))
    pid = (await app.create_programme(ctx, "Fifty", "", None, ["HHI"], 2))["programme_id"]
    await app.activate_programme(ctx, pid)
    cohort_ids = [r["cohort_id"] for r in await asyncio.gather(*(
        app.plan_cohort(ctx, pid, f"Cohort {i:02}", "ENROLLED", 8,
                        date.fromisoformat(days(i)), None)
        for i in range(50)))]
    facilitators = []
    for i in range(10):
        fid = (await app.register_facilitator(ctx, f"Bulk {i}", f"bulk{i}@example.org", 10))[
            "facilitator_id"]
        for kind in ("PEER_SUPPORT_TRAINING", "SAFEGUARDING", "BACKGROUND_CHECK"):
            await app.record_facilitator_credential(
                ctx, fid, kind, date.fromisoformat(days(400)))
        await app.activate_facilitator(ctx, fid)
        facilitators.append(fid)
    last = 0
    for i, cid in enumerate(cohort_ids):
        for j, role in ((i % 10, "LEAD"), ((i + 1) % 10, "CO")):
            last = (await app.assign_facilitator(ctx, cid, facilitators[j], role)).position
    assert await services.projections.wait_for(last, 10)

    counting = count_statements(services, monkeypatch)
    page = (await admin.data(FIFTY, {"pid": pid, "first": 50}))["cohorts"]
    assert len(page["edges"]) == 50
    assert all(len(e["node"]["facilitators"]) == 2 for e in page["edges"])
    assert all(f["facilitator"]["activeCohortCount"] == 10
               for e in page["edges"] for f in e["node"]["facilitators"])
    fifty = counting.total
    # One statement for the page, one for all programmes, one for all facilitators.
    assert fifty == 3, counting.statements

    counting.statements.clear()
    await admin.data(FIFTY, {"pid": pid, "first": 5})
    assert counting.total == fifty  # the count does not grow with the page


# -- limits ---------------------------------------------------------------------------------


async def test_queries_nested_too_deep_are_refused(admin: Gql, world: World) -> None:
    deep = "id"
    for _ in range(6):
        deep = f"facilitators {{ facilitator {{ cohorts {{ cohort {{ {deep} }} }} }} }}"
    error = await admin.error(f'{{ cohort(id: "{world.cohort_id}") {{ {deep} }} }}')
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "depth" in error["message"]


async def test_a_waitlist_longer_than_the_dashboards_head_when_read_is_whole_and_in_order(
    admin: Gql,
) -> None:
    from program.projections.cohort_dashboard.queries import HEAD

    world = await build_world(admin, people=HEAD + 4, capacity=2, name="Long waitlist")
    query = """query C($id: UUID!, $p: Int, $n: Int, $m: Int) {
      cohort(id: $id, consistentWith: $p) {
        enrolled { participantId place } waitlist { participantId place }
        few: waitlist(first: $n) { participantId } many: waitlist(first: $m) { participantId }
      } }"""
    cohort = (await admin.data(query, {"id": world.cohort_id, "p": world.position, "n": 3,
                                       "m": HEAD + 1}))["cohort"]
    waiting = world.participant_ids[2:]
    assert [m["participantId"] for m in cohort["enrolled"]] == world.participant_ids[:2]
    assert [m["participantId"] for m in cohort["waitlist"]] == waiting
    assert [m["place"] for m in cohort["waitlist"]] == list(range(1, len(waiting) + 1))
    assert [m["participantId"] for m in cohort["few"]] == waiting[:3]
    assert [m["participantId"] for m in cohort["many"]] == waiting[:HEAD + 1]


@pytest.mark.single_execution
async def test_a_cohort_dashboard_with_its_people_when_read_takes_one_statement(
    admin: Gql, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await build_world(admin, people=5, capacity=3, name="One statement")
    assert await services.projections.wait_for(world.position, 10)
    counting = count_statements(services, monkeypatch)
    cohort = (await admin.data(
        "query C($id: UUID!) { cohort(id: $id) { enrolledCount enrolled { participantId } "
        "waitlist { participantId place } few: waitlist(first: 1) { participantId } "
        "consecutiveAbsences { participantId } facilitators { role } } }",
        {"id": world.cohort_id}))["cohort"]
    assert [m["participantId"] for m in cohort["enrolled"]] == world.participant_ids[:3]
    assert [m["participantId"] for m in cohort["waitlist"]] == world.participant_ids[3:]
    assert [m["participantId"] for m in cohort["few"]] == world.participant_ids[3:4]
    assert counting.total == 1, counting.statements


@pytest.mark.single_execution
async def test_root_fields_of_one_kind_side_by_side_still_read_in_one_statement(
    admin: Gql, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A query's only root field reads its record at once; several batch as before."""
    a = await build_world(admin, people=1, name="Side A")
    b = await build_world(admin, people=1, name="Side B")
    assert await services.projections.wait_for(max(a.position, b.position), 10)
    counting = count_statements(services, monkeypatch)
    both = await admin.data("query S($a: UUID!, $b: UUID!) { a: cohort(id: $a) { name } "
                            "b: cohort(id: $b) { name } }", {"a": a.cohort_id, "b": b.cohort_id})
    assert (both["a"]["name"], both["b"]["name"]) != (None, None)
    assert counting.total == 1, counting.statements
    counting.statements.clear()
    one = await admin.data("query O($a: UUID!) { cohort(id: $a) { name } }", {"a": a.cohort_id})
    assert one["cohort"]["name"] == both["a"]["name"]
    assert counting.total == 1, counting.statements
