"""A facilitator's record across programmes: a manager sees the facilitator (the staff
pool is shared) but only the cohorts of their own programmes, and contact details only
of facilitators serving their programmes or none yet."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from test_graphql_support import Gql, TokenFactory, accredited_facilitator, build_world

RECORD = """query F($id: UUID!, $p: Int) { facilitator(id: $id, consistentWith: $p) {
  displayName email activeCohortCount cohorts { cohortId } } }"""


@dataclass
class Two:
    a_programme: str
    a_cohort: str
    b_programme: str
    b_cohort: str
    shared: str  # serves a cohort of A and one of B
    free: str  # serves nothing yet
    position: int


@pytest.fixture(scope="module")
def admin(http: httpx.AsyncClient, token: TokenFactory) -> Gql:
    return Gql(http, token("ADMIN", subject="admin-scope"))


@pytest.fixture(scope="module")
async def two(admin: Gql) -> Two:
    a = await build_world(admin, name="Scope A", facilitators=0)
    b = await build_world(admin, name="Scope B", facilitators=0)
    shared, _ = await accredited_facilitator(admin, "Shared")
    free, _ = await accredited_facilitator(admin, "Free")
    await admin.mutate("assignFacilitator", {"cohortId": a.cohort_id, "facilitatorId": shared,
                                             "role": "LEAD"})
    position = (await admin.mutate("assignFacilitator", {
        "cohortId": b.cohort_id, "facilitatorId": shared, "role": "LEAD"}))["position"]
    return Two(a.programme_id, a.cohort_id, b.programme_id, b.cohort_id, shared, free, position)


async def _record(gql: Gql, two: Two, fid: str) -> dict:
    return (await gql.data(RECORD, {"id": fid, "p": two.position}))["facilitator"]


async def test_a_manager_of_one_programme_when_reading_a_shared_facilitator_sees_only_their_cohorts(
    http: httpx.AsyncClient, token: TokenFactory, two: Two
) -> None:
    manager = Gql(http, token("PROGRAMME_MANAGER", programme_ids=[two.a_programme]))
    record = await _record(manager, two, two.shared)
    assert [c["cohortId"] for c in record["cohorts"]] == [two.a_cohort]
    assert record["activeCohortCount"] == 2  # the load is the whole load
    assert record["email"] == "shared@example.org"  # they serve the manager's programme


async def test_a_manager_of_another_programme_when_reading_a_facilitator_sees_no_cohort_nor_contact(
    http: httpx.AsyncClient, token: TokenFactory, admin: Gql, two: Two
) -> None:
    other = await build_world(admin, name="Scope C", facilitators=0)
    manager = Gql(http, token("PROGRAMME_MANAGER", programme_ids=[other.programme_id]))
    record = await _record(manager, two, two.shared)
    assert record["cohorts"] == []
    assert record["email"] is None
    assert record["displayName"] == "Shared"


async def test_a_manager_when_reading_a_facilitator_serving_nobody_sees_their_contact(
    http: httpx.AsyncClient, token: TokenFactory, two: Two
) -> None:
    manager = Gql(http, token("PROGRAMME_MANAGER", programme_ids=[two.b_programme]))
    record = await _record(manager, two, two.free)
    assert record["email"] == "free@example.org" and record["cohorts"] == []


async def test_the_facilitator_and_an_admin_when_reading_the_record_see_every_cohort(
    http: httpx.AsyncClient, token: TokenFactory, admin: Gql, two: Two
) -> None:
    themself = Gql(http, token("FACILITATOR", facilitator_id=two.shared))
    for caller in (themself, admin):
        record = await _record(caller, two, two.shared)
        assert sorted(c["cohortId"] for c in record["cohorts"]) == sorted(
            [two.a_cohort, two.b_cohort])
        assert record["email"] == "shared@example.org"
