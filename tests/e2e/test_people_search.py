"""Finding people (issue 7): a manager finds a person they registered and never enrolled
by a fragment of the name or the email, whatever the case and accents; a manager of another
programme, an auditor and a facilitator outside the cohort find nothing; no name or email
is stored in clear in any table."""

from __future__ import annotations

import re

import asyncpg
import httpx
import pytest

from program.bootstrap import Services
from test_graphql_support import Gql, TokenFactory, build_world

QUERY = """query Q($search: String, $cohortId: UUID) {
  participants(search: $search, cohortId: $cohortId) {
    edges { node { id name displayName email } } } }"""


# Ciphertext as stored (lower-cased by the scan): base64 after its prefix.
_CIPHERTEXT = re.compile(r"aesgcm1:[a-z0-9+/=]+")


@pytest.fixture(scope="module")
async def world(http: httpx.AsyncClient, token: TokenFactory) -> dict[str, str]:
    admin = Gql(http, token("ADMIN"))
    a = await build_world(admin, people=1, name="Alpha")
    b = await build_world(admin, people=0, name="Beta")
    zoe = (await admin.mutate("registerParticipant", {
        "programmeId": a.programme_id, "name": "Zoë Ó Briain-Kowalczyk",
        "email": "zob.unique@example.org", "chosenName": "Zo"}, "participantId position"))
    await admin.data("{ participants(first: 1, consistentWith: %d) { edges { cursor } } }"
                     % zoe["position"])
    return {"a": a.programme_id, "b": b.programme_id, "zoe": zoe["participantId"],
            "cohort": a.cohort_id, "fac_in": a.facilitator_ids[0], "fac_out": b.facilitator_ids[0],
            "member": a.participant_ids[0]}


async def found(gql: Gql, search: str, cohort: str | None = None) -> list[dict[str, object]]:
    body = await gql.post(QUERY, {"search": search, "cohortId": cohort})
    if body.get("errors"):
        return []
    return [e["node"] for e in body["data"]["participants"]["edges"]]


@pytest.mark.parametrize("fragment", ["briain", "ZOË", "zoe", "kowal", "o bri", "zob.uni",
                                      "@example.org zob"])
async def test_manager_finds_a_not_yet_enrolled_person_by_a_fragment_of_name_or_email(
    http: httpx.AsyncClient, token: TokenFactory, world: dict[str, str], fragment: str
) -> None:
    manager = Gql(http, token("PROGRAMME_MANAGER", programme_ids=[world["a"]]))

    people = await found(manager, fragment)

    assert [p["id"] for p in people] == [world["zoe"]]
    assert people[0]["name"] == "Zoë Ó Briain-Kowalczyk" and people[0]["displayName"] == "Zo"


async def test_search_when_fragment_is_not_in_any_name_finds_nobody(
    http: httpx.AsyncClient, token: TokenFactory, world: dict[str, str]
) -> None:
    manager = Gql(http, token("PROGRAMME_MANAGER", programme_ids=[world["a"]]))

    assert await found(manager, "briainx") == []


@pytest.mark.parametrize("who", ["other manager", "auditor", "facilitator outside"])
async def test_search_when_caller_is_outside_finds_nothing(
    http: httpx.AsyncClient, token: TokenFactory, world: dict[str, str], who: str
) -> None:
    caller = {
        "other manager": token("PROGRAMME_MANAGER", programme_ids=[world["b"]]),
        "auditor": token("AUDITOR"),
        "facilitator outside": token("FACILITATOR", facilitator_id=world["fac_out"]),
    }[who]

    assert await found(Gql(http, caller), "briain") == []
    assert await found(Gql(http, caller), "person") == []


async def test_facilitator_of_the_cohort_sees_display_names_only(
    http: httpx.AsyncClient, token: TokenFactory, world: dict[str, str]
) -> None:
    facilitator = Gql(http, token("FACILITATOR", facilitator_id=world["fac_in"]))

    people = await found(facilitator, "", world["cohort"])

    assert people == [{"id": world["member"], "name": None, "displayName": "Person0",
                       "email": None}]
    assert await found(facilitator, "briain") == []  # registered, but not in their cohort


async def test_no_name_or_email_is_stored_in_clear_in_any_table(
    services: Services, world: dict[str, str]
) -> None:
    needles = ["zoë", "zoe", "briain", "kowalczyk", "zob.unique", "person0"]
    async with services.pool.acquire() as conn:
        tables = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
            "AND table_type = 'BASE TABLE'")
        hits = []
        for t in tables:
            name = f'"{t["table_schema"]}"."{t["table_name"]}"'
            try:
                text = await conn.fetchval(
                    f"SELECT coalesce(string_agg(lower(x::text), ' '), '') FROM {name} x")
            except asyncpg.PostgresError:
                continue
            text = _CIPHERTEXT.sub(" ", text)  # random base64 may spell "zoe" by chance
            hits += [(name, n) for n in needles if n in text]
        # Events and snapshots hold their state as bytes: read them as the text they encode.
        for table in ("stored_events", "snapshots"):
            text = await conn.fetchval(
                f"SELECT coalesce(string_agg(lower(convert_from(state, 'UTF8')), ' '), '') "
                f"FROM {table}")
            text = _CIPHERTEXT.sub(" ", text)
            hits += [(table, n) for n in needles if n in text]
    assert hits == []
