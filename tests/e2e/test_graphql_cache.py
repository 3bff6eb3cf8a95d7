"""The GraphQL result cache over real HTTP: what is served again, to whom, and for how long.

Each test gets a fresh cache with a long time-to-live, so only what the test does (a
write, another caller, a clock moved by hand) can make an answer fresh again; the hit
and miss counters show whether an answer came from the cache.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest

from program.api.graphql import cache
from program.api.graphql.cache import ResultCache
from program.application.context import Actor, CommandContext
from program.bootstrap import Services
from test_graphql_support import Gql, TokenFactory, World, at, build_world, consenting_person

DASHBOARD = """query C($id: UUID!, $p: Int) { cohort(id: $id, consistentWith: $p) {
  id capacity enrolledCount placesLeft
  enrolled { participantId participant { name } }
  outcomes { measure followUpCount people meanChange suppressed } } }"""

FACILITATOR = """query F($id: UUID!) { facilitator(id: $id) { id displayName email } }"""


@dataclass
class Counts:
    hits: int
    misses: int


class Watched:
    """The cache under test, and how its counters moved since the last look."""

    def __init__(self, results: ResultCache) -> None:
        self.results = results
        self._seen = Counts(0, 0)

    def moved(self) -> Counts:
        now = Counts(self.results.hits, self.results.misses)
        moved = Counts(now.hits - self._seen.hits, now.misses - self._seen.misses)
        self._seen = now
        return moved


@pytest.fixture
def watched(monkeypatch: pytest.MonkeyPatch) -> Iterator[Watched]:
    results = ResultCache(ttl=3600)
    monkeypatch.setattr(cache, "results", results)
    yield Watched(results)


@pytest.fixture(scope="module")
def admin(http: httpx.AsyncClient, token: TokenFactory) -> Gql:
    return Gql(http, token("ADMIN", subject="admin-1"))


@pytest.fixture(scope="module")
async def world(admin: Gql) -> World:
    """A running cohort of six with outcomes for three (a small cell) and one session."""
    world = await build_world(admin, people=6, capacity=10, name="Cached")
    await admin.mutate("startCohort", {"id": world.cohort_id})
    await admin.mutate("scheduleSession", {"cohortId": world.cohort_id, "startsAt": at(-1)})
    for i, pid in enumerate(world.participant_ids):
        await admin.mutate("recordOutcome", {"participantId": pid, "cohortId": world.cohort_id,
                                             "measure": "HHI", "timepoint": "BASELINE",
                                             "score": 20 + i})
    for pid in world.participant_ids[:3]:
        await admin.mutate("recordOutcome", {"participantId": pid, "cohortId": world.cohort_id,
                                             "measure": "HHI", "timepoint": "FOLLOW_UP",
                                             "score": 30})
    return world


async def settled(services: Services) -> None:
    """Every read model at the head of the log, so positions stand still until the next
    write, and what each batch changed heard (it arrives by NOTIFY, just after)."""
    runner = services.projections
    head = await services.store.max_position()
    assert await runner.wait_for(head, timeout=30)
    assert await runner.wait_until(
        lambda: all(runner.changes.heard(n) >= head for n in runner.projections), 30)


def dashboard(world: World, position: int | None = None) -> dict[str, object]:
    return {"id": world.cohort_id, "p": position}


# -- served again --------------------------------------------------------------------------


async def test_a_repeated_query_is_answered_from_the_cache(
    admin: Gql, world: World, services: Services, watched: Watched
) -> None:
    await settled(services)
    first = await admin.post(DASHBOARD, dashboard(world))
    assert watched.moved() == Counts(hits=0, misses=1)
    second = await admin.post(DASHBOARD, dashboard(world))
    assert watched.moved() == Counts(hits=1, misses=0)
    assert second == first and "errors" not in first
    # The same variables in another order are the same request.
    response = await admin.http.post(
        "/graphql", json={"variables": {"p": None, "id": world.cohort_id}, "query": DASHBOARD},
        headers={"authorization": f"Bearer {admin.token}"})
    assert response.json() == first
    assert watched.moved() == Counts(hits=1, misses=0)


async def test_metrics_report_the_cache_counters(
    admin: Gql, world: World, services: Services, watched: Watched
) -> None:
    await settled(services)
    for _ in range(3):
        await admin.post(DASHBOARD, dashboard(world))
    assert watched.moved() == Counts(hits=2, misses=1)
    text = (await admin.http.get("/metrics")).text
    assert f'program_graphql_cache{{measure="hits"}} {float(watched.results.hits)}' in text
    assert f'program_graphql_cache{{measure="misses"}} {float(watched.results.misses)}' in text
    assert f'program_graphql_cache{{measure="bytes"}} {float(watched.results.bytes)}' in text


async def test_another_operation_or_other_variables_are_other_answers(
    admin: Gql, world: World, services: Services, watched: Watched
) -> None:
    await settled(services)
    two = "query A { me { subject } } query B { me { role } }"
    a = await admin.http.post("/graphql", json={"query": two, "operationName": "A"},
                              headers={"authorization": f"Bearer {admin.token}"})
    b = await admin.http.post("/graphql", json={"query": two, "operationName": "B"},
                              headers={"authorization": f"Bearer {admin.token}"})
    assert a.json() == {"data": {"me": {"subject": "admin-1"}}}
    assert b.json() == {"data": {"me": {"role": "ADMIN"}}}
    fac = [await admin.data(FACILITATOR, {"id": fid}) for fid in world.facilitator_ids]
    assert [f["facilitator"]["id"] for f in fac] == world.facilitator_ids
    assert watched.moved() == Counts(hits=0, misses=4)


# -- invalidated by writes -------------------------------------------------------------------


async def test_a_write_elsewhere_is_seen_once_the_read_models_apply_it(
    admin: Gql, world: World, services: Services, watched: Watched
) -> None:
    """A write that never went through this API (another process, the CLI) moves the read
    models' positions, and that alone makes the cached answer stale."""
    await settled(services)
    before = (await admin.data(DASHBOARD, dashboard(world)))["cohort"]
    assert (await admin.data(DASHBOARD, dashboard(world)))["cohort"] == before
    assert watched.moved() == Counts(hits=1, misses=1)

    result = await services.application.change_cohort_capacity(
        CommandContext(Actor.system("elsewhere")), world.cohort_id, before["capacity"] + 1)
    assert await services.projections.wait_for(result.position, timeout=30)
    after = (await admin.data(DASHBOARD, dashboard(world)))["cohort"]
    assert after["capacity"] == before["capacity"] + 1
    assert after["placesLeft"] == before["placesLeft"] + 1
    assert watched.moved() == Counts(hits=0, misses=1)


async def test_a_mutation_then_the_same_query_with_consistent_with_shows_the_new_state(
    admin: Gql, world: World, services: Services, watched: Watched
) -> None:
    await settled(services)
    head = await services.store.max_position()
    before = (await admin.data(DASHBOARD, dashboard(world, head)))["cohort"]
    assert (await admin.data(DASHBOARD, dashboard(world, head)))["cohort"] == before
    assert watched.moved() == Counts(hits=1, misses=1)

    position = (await admin.mutate("changeCohortCapacity",
                                   {"id": world.cohort_id, "capacity": before["capacity"] + 1}))["position"]
    after = (await admin.data(DASHBOARD, dashboard(world, position)))["cohort"]
    assert after["capacity"] == before["capacity"] + 1
    assert watched.moved() == Counts(hits=0, misses=1)
    # Asked again once nothing moves, the caught-up answer is served again.
    await settled(services)
    await admin.data(DASHBOARD, dashboard(world, position))
    assert (await admin.data(DASHBOARD, dashboard(world, position)))["cohort"] == after
    assert watched.moved().hits >= 1


async def test_an_erasure_forgets_every_cached_answer_at_once(
    admin: Gql, world: World, services: Services, watched: Watched
) -> None:
    """Not only once the read models move: an erasure shreds the key before they apply it."""
    await settled(services)
    person, _ = await consenting_person(admin, "Forget Me Soon", world.programme_id)
    await settled(services)
    query = "query P($id: UUID!) { participant(id: $id) { name erased } }"
    assert (await admin.data(query, {"id": person}))["participant"]["name"] == "Forget Me Soon"
    assert (await admin.data(query, {"id": person}))["participant"]["name"] == "Forget Me Soon"
    assert watched.moved() == Counts(hits=1, misses=1) and len(watched.results) == 1

    await admin.mutate("eraseParticipant", {"id": person})
    assert len(watched.results) == 0
    seen = (await admin.data(query, {"id": person}))["participant"]
    assert seen["name"] is None
    assert watched.moved() == Counts(hits=0, misses=1)


async def test_a_mutation_without_consistent_with_is_seen_once_applied(
    admin: Gql, world: World, services: Services, watched: Watched
) -> None:
    await settled(services)
    before = (await admin.data(DASHBOARD, dashboard(world)))["cohort"]
    position = (await admin.mutate("changeCohortCapacity",
                                   {"id": world.cohort_id, "capacity": before["capacity"] + 1}))["position"]
    assert await services.projections.wait_for(position, timeout=30)
    assert (await admin.data(DASHBOARD, dashboard(world)))["cohort"]["capacity"] == before["capacity"] + 1
    assert (await admin.data(DASHBOARD, dashboard(world)))["cohort"]["capacity"] == before["capacity"] + 1
    assert watched.moved() == Counts(hits=1, misses=2)


# -- per caller --------------------------------------------------------------------------------


async def test_callers_never_see_each_others_cached_answers(
    http: httpx.AsyncClient, token: TokenFactory, world: World, services: Services,
    watched: Watched,
) -> None:
    await settled(services)
    pid = world.programme_id
    callers = {
        "admin": Gql(http, token("ADMIN", subject="admin-1")),
        "auditor": Gql(http, token("AUDITOR", subject="auditor-1")),
        "own-manager": Gql(http, token("PROGRAMME_MANAGER", subject="pm", programme_ids=[pid])),
        "other-manager": Gql(http, token("PROGRAMME_MANAGER", subject="pm",
                                         programme_ids=["00000000-0000-0000-0000-000000000001"])),
        "facilitator": Gql(http, token("FACILITATOR", subject="fac",
                                       facilitator_id=world.facilitator_ids[0])),
    }
    for round in range(2):
        seen = {name: await gql.post(DASHBOARD, dashboard(world)) for name, gql in callers.items()}

        admin = seen["admin"]["data"]["cohort"]
        assert "errors" not in seen["admin"]
        assert admin["outcomes"] == [{"measure": "HHI", "followUpCount": 3, "people": 3,
                                      "meanChange": pytest.approx(9.0),
                                      "suppressed": False}]
        assert {m["participant"]["name"] for m in admin["enrolled"]} >= {"Person0", "Person5"}

        for name in ("auditor", "own-manager"):
            cohort = seen[name]["data"]["cohort"]
            assert "errors" not in seen[name], name
            assert cohort["outcomes"][0]["suppressed"] is True, name
            assert cohort["outcomes"][0]["meanChange"] is None, name
        assert {m["participant"]["name"] for m in seen["auditor"]["data"]["cohort"]["enrolled"]} == {None}
        assert None not in {m["participant"]["name"]
                            for m in seen["own-manager"]["data"]["cohort"]["enrolled"]}

        assert seen["other-manager"]["data"] is None
        assert seen["other-manager"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        # A facilitator reads the cohort but not its people: data and errors, never kept.
        assert seen["facilitator"]["data"]["cohort"]["enrolled"][0]["participant"] is None
        assert {e["extensions"]["code"] for e in seen["facilitator"]["errors"]} == {"FORBIDDEN"}

        moved = watched.moved()
        assert moved == (Counts(hits=0, misses=5) if round == 0 else Counts(hits=3, misses=2))


async def test_the_same_claims_in_another_token_share_answers_but_another_subject_does_not(
    http: httpx.AsyncClient, token: TokenFactory, world: World, services: Services,
    watched: Watched,
) -> None:
    await settled(services)
    query = "{ me { subject role } }"
    first = Gql(http, token("AUDITOR", subject="auditor-a"))
    again = Gql(http, token("AUDITOR", subject="auditor-a", ttl=timedelta(minutes=7)))
    other = Gql(http, token("AUDITOR", subject="auditor-b"))
    assert first.token != again.token
    assert (await first.data(query))["me"]["subject"] == "auditor-a"
    assert (await again.data(query))["me"]["subject"] == "auditor-a"
    assert (await other.data(query))["me"]["subject"] == "auditor-b"
    assert watched.moved() == Counts(hits=1, misses=2)


# -- never kept ---------------------------------------------------------------------------------


async def test_errors_are_not_cached(
    admin: Gql, services: Services, watched: Watched
) -> None:
    await settled(services)
    missing = {"id": "00000000-0000-0000-0000-00000000000f"}
    for _ in range(2):
        assert await admin.code(DASHBOARD, missing) == "NOT_FOUND"
    assert watched.moved() == Counts(hits=0, misses=2)
    assert len(watched.results) == 0


async def test_mutations_are_not_cached(
    admin: Gql, services: Services, watched: Watched
) -> None:
    await settled(services)
    input = {"name": "Twice", "idempotencyKey": "cache-twice"}
    first = await admin.mutate("createProgramme", input, "programmeId replayed")
    second = await admin.mutate("createProgramme", input, "programmeId replayed")
    assert (first["replayed"], second["replayed"]) == (False, True)
    assert second["programmeId"] == first["programmeId"]
    assert watched.moved() == Counts(hits=0, misses=0)
    assert len(watched.results) == 0


async def test_callers_without_a_valid_token_are_never_cached(
    http: httpx.AsyncClient, services: Services, watched: Watched
) -> None:
    await settled(services)
    for header in ({}, {"authorization": "Bearer nope"}):
        for _ in range(2):
            body = (await http.post("/graphql", json={"query": "{ me { subject } }"},
                                    headers=header)).json()
            assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert watched.moved() == Counts(hits=0, misses=0)


# -- bounded --------------------------------------------------------------------------------------


async def test_an_answer_expires_after_its_time_to_live(
    admin: Gql, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    results = ResultCache(ttl=1.0, clock=lambda: now[0])
    monkeypatch.setattr(cache, "results", results)
    watched = Watched(results)
    await settled(services)
    query = "{ me { subject } }"
    await admin.data(query)
    now[0] += 0.5
    await admin.data(query)
    assert watched.moved() == Counts(hits=1, misses=1)
    now[0] += 0.6  # 1.1 s after the answer was computed
    await admin.data(query)
    await admin.data(query)
    assert watched.moved() == Counts(hits=1, misses=1)


async def test_the_least_recently_used_answer_goes_first(
    admin: Gql, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = ResultCache(size=2, ttl=3600)
    monkeypatch.setattr(cache, "results", results)
    watched = Watched(results)
    await settled(services)
    a, b, c = "{ me { subject } }", "{ me { role } }", "{ me { programmeIds } }"
    for query in (a, b, a, c):  # c pushes out b, the least recently used
        await admin.data(query)
    assert watched.moved() == Counts(hits=1, misses=3) and len(results) == 2
    await admin.data(a)
    await admin.data(b)
    assert watched.moved() == Counts(hits=1, misses=1)


async def test_the_answers_kept_are_bounded_in_bytes_too(
    admin: Gql, world: World, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = ResultCache(ttl=3600, max_bytes=300, max_body=300)
    monkeypatch.setattr(cache, "results", results)
    watched = Watched(results)
    await settled(services)
    small = [f"{{ me {{ {field} }} }}" for field in ("subject", "role", "programmeIds")]
    for query in small:
        await admin.data(query)
    assert len(results) == 3 and 0 < results.bytes <= 300
    big = await admin.post(DASHBOARD, dashboard(world))  # over max_body: never kept
    assert len(json.dumps(big, separators=(",", ":"))) > 300 and len(results) == 3
    filler = "{ me { subject role programmeIds facilitatorId " + " ".join(
        f"a{i}: subject" for i in range(12)) + " } }"
    await admin.data(filler)  # the oldest go until the bytes fit
    assert results.bytes <= 300 and len(results) < 4
    await admin.data(filler)
    assert watched.moved().hits == 1


async def test_an_answer_outlives_writes_to_what_it_did_not_read(
    admin: Gql, world: World, services: Services, watched: Watched
) -> None:
    """Writes to another cohort, by any process, leave a dashboard's answer standing; a
    write to its own cohort does not (``test_a_write_elsewhere_is_seen_once_…``)."""
    other = await build_world(admin, people=1, name="Elsewhere")
    await settled(services)
    before = await admin.data(DASHBOARD, dashboard(world))
    await admin.data("{ me { subject } }")
    assert len(watched.results) == 2
    watched.moved()
    position = (await admin.mutate("changeCohortCapacity",
                                   {"id": other.cohort_id, "capacity": 17}))["position"]
    result = await services.application.change_cohort_capacity(
        CommandContext(Actor.system("elsewhere")), other.cohort_id, 18)
    assert result.position > position
    await settled(services)
    assert await admin.data(DASHBOARD, dashboard(world)) == before
    assert watched.moved() == Counts(hits=1, misses=0)
    await admin.data("{ me { subject } }")
    assert watched.moved() == Counts(hits=1, misses=0)


async def test_a_crowd_asking_at_once_is_answered_by_one_computation(
    admin: Gql, world: World, services: Services, watched: Watched
) -> None:
    """Many callers polling one dashboard the moment its answer expired: one of them
    computes it, the others are served that answer."""
    await settled(services)
    answers = await asyncio.gather(*(admin.data(DASHBOARD, dashboard(world)) for _ in range(10)))
    assert all(a == answers[0] for a in answers)
    assert watched.moved() == Counts(hits=9, misses=1)


async def test_an_answer_that_read_a_whole_list_goes_with_any_change_to_its_read_model(
    admin: Gql, world: World, services: Services, watched: Watched
) -> None:
    listing = "{ cohorts(first: 50) { edges { node { id capacity } } } }"
    await settled(services)
    await admin.data(listing)
    assert (await admin.data(listing)) and watched.moved() == Counts(hits=1, misses=1)
    result = await services.application.change_cohort_capacity(
        CommandContext(Actor.system("elsewhere")), world.cohort_id, 31)
    assert await services.projections.wait_for(result.position, timeout=30)
    capacities = [e["node"]["capacity"] for e in (await admin.data(listing))["cohorts"]["edges"]]
    assert 31 in capacities
    assert watched.moved() == Counts(hits=0, misses=1)


async def test_a_batch_this_process_did_not_hear_of_counts_as_a_change(
    admin: Gql, world: World, services: Services, watched: Watched,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A lost notification leaves a gap in the change log: the answer is computed again."""
    await settled(services)
    before = (await admin.data(DASHBOARD, dashboard(world)))["cohort"]
    monkeypatch.setattr(services.projections.changes, "record", lambda *a: None)
    result = await services.application.change_cohort_capacity(
        CommandContext(Actor.system("elsewhere")), world.cohort_id, before["capacity"] + 2)
    assert await services.projections.wait_for(result.position, timeout=30)
    after = (await admin.data(DASHBOARD, dashboard(world)))["cohort"]
    assert after["capacity"] == before["capacity"] + 2
    assert watched.moved() == Counts(hits=0, misses=2)
    monkeypatch.undo()  # heard again from the next batch on
    result = await services.application.change_cohort_capacity(
        CommandContext(Actor.system("elsewhere")), world.cohort_id, before["capacity"])
    await settled(services)


async def test_a_disabled_cache_answers_every_request_afresh(
    admin: Gql, world: World, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = ResultCache.from_env({cache.ENV_SWITCH: "0"})
    monkeypatch.setattr(cache, "results", results)
    await settled(services)
    first = await admin.data(DASHBOARD, dashboard(world))
    assert await admin.data(DASHBOARD, dashboard(world)) == first
    assert (results.hits, results.misses, len(results)) == (0, 0, 0)


def test_the_switch_reads_its_environment_variable() -> None:
    assert ResultCache.from_env({}).enabled is True
    assert ResultCache.from_env({cache.ENV_SWITCH: "1"}).enabled is True
    assert ResultCache.from_env({cache.ENV_SWITCH: " off "}).enabled is False
    with pytest.raises(ValueError, match=cache.ENV_SWITCH):
        ResultCache.from_env({cache.ENV_SWITCH: "sometimes"})


async def test_without_a_runner_that_hears_every_change_nothing_is_cached(
    admin: Gql, services: Services, watched: Watched, monkeypatch: pytest.MonkeyPatch
) -> None:
    await settled(services)
    query = "{ me { subject } }"
    monkeypatch.setattr(services.projections, "_watch", None)  # LISTEN lost: positions may lag
    await admin.data(query)
    await admin.data(query)
    monkeypatch.setattr(services, "projections", None)  # projections run in no process we know
    await admin.data(query)
    await admin.data(query)
    assert watched.moved() == Counts(hits=0, misses=0)
