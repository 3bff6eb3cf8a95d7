"""Partner feeds over SSE, the GraphQL subscription and the pull API; pseudonyms; what a
PARTNER token and a webhook URL may not reach; every event against its schema."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import jsonschema
import pytest
import pytest_asyncio
import websockets

from feeds_support import (
    PURPOSE,
    TODAY,
    Receiver,
    Serving,
    admin,
    cohort,
    endpoint,
    partner,
    person,
    programme,
    wait_built,
)
from program.bootstrap import Services, open_services
from program.domain.errors import InvalidInput
from program.feeds import catalogue
from program.feeds.runtime import FeedTools
from program.feeds.settings import FeedSettings
from program.settings import Settings
from program.store.database import Database

JWT_SECRET = "test-secret-" + "x" * 40
FAST = FeedSettings(allow_private_urls=True, retry_schedule=(0.05,),
                    pseudonym_key="test-pseudonym-key-0123456789", heartbeat=0.2)
PERSONAL = ("Alexandra", "alexandra@example.org", "07700 900123", "GP surgery")


@pytest_asyncio.fixture(scope="module")
async def services(db_url: str, tmp_path_factory: pytest.TempPathFactory
                   ) -> AsyncIterator[Services]:
    settings = Settings(database_url=db_url, data_dir=Path(tmp_path_factory.mktemp("data")),
                        jwt_secret=JWT_SECRET, feeds=FAST)
    s = await open_services(settings, database=Database(url=db_url), run_projections=True)
    yield s
    await s.close()


@pytest_asyncio.fixture(scope="module")
async def feed(services: Services) -> dict[str, Any]:
    """Two partners named by Alexandra; events of many types about her and her cohort."""
    app = services.application
    prog = await programme(app)
    cid = await cohort(app, prog, capacity=1)
    a, b = await partner(app, prog, "A"), await partner(app, prog, "B")
    rx = Receiver()
    serving = Serving(rx)
    await serving.__aenter__()
    rx.port = serving.port
    await endpoint(app, a, rx)
    alex = await person(app, prog, PERSONAL[0], [a, b])
    sam = await person(app, prog, "Sam", [a, b])
    await app.enrol_participant(admin(), cid, sam)
    await app.enrol_participant(admin(), cid, alex)  # waitlisted
    await app.withdraw_participant(admin(), cid, sam, "moved")  # Alexandra promoted
    await app.record_outcome(admin(), alex, cid, "HHI", "BASELINE", 30)
    await app.cancel_cohort(admin(), cid, "venue closed")
    await app.withdraw_consent(admin(), sam, PURPOSE, "email")
    result = await app.erase_participant(admin(), sam)
    await wait_built(services, result.position)
    await rx.wait_for(lambda: bool(rx.delivered()) and
                      rx.delivered()[-1]["type"].endswith("participant.erased.v1"))
    yield {"a": a, "b": b, "alex": alex, "sam": sam, "rx": rx, "programme": prog}
    await serving.__aexit__()


def _bearer(token: Callable[..., str], role: str, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, **claims)}"}


async def _pull(http: httpx.AsyncClient, headers: dict[str, str], after: int = 0) -> list[dict]:
    events: list[dict] = []
    while True:
        r = await http.get("/feeds/events", params={"after": after, "limit": 3}, headers=headers)
        assert r.status_code == 200 and r.headers["content-type"].startswith(
            "application/cloudevents-batch+json")
        page = r.json()
        if not page:
            return events
        events += page
        after = int(r.headers["X-Feed-Next"])


async def test_sse_when_resumed_with_last_event_id_yields_exactly_the_events_after_it(
    http: httpx.AsyncClient, token: Callable[..., str], feed: dict[str, Any]
) -> None:
    headers = _bearer(token, "PARTNER", partner_id=feed["a"])
    pulled = await _pull(http, headers)
    head = pulled[-1]["sequence"]
    seen: list[dict] = []
    async with http.stream("GET", "/feeds/stream",
                           headers={**headers, "Last-Event-ID": "2"}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        async for line in r.aiter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line[6:]))
                if seen[-1]["sequence"] == head:
                    break
    assert [e["sequence"] for e in seen] == [e["sequence"] for e in pulled if e["sequence"] > 2]
    assert seen == [e for e in pulled if e["sequence"] > 2]


async def test_sse_when_position_is_past_the_head_says_it_is_unavailable(
    http: httpx.AsyncClient, token: Callable[..., str], feed: dict[str, Any]
) -> None:
    headers = _bearer(token, "PARTNER", partner_id=feed["a"], subject="sse-far")
    r = await http.get("/feeds/stream", headers={**headers, "Last-Event-ID": "99999"})
    assert "event: position-unavailable" in r.text


async def test_subscription_and_pull_when_read_from_zero_yield_the_same_sequence(
    base_url: str, http: httpx.AsyncClient, token: Callable[..., str], feed: dict[str, Any]
) -> None:
    headers = _bearer(token, "PARTNER", partner_id=feed["a"])
    pulled = await _pull(http, headers)
    got: list[dict] = []
    async with websockets.connect(base_url.replace("http", "ws") + "/graphql",
                                  subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": headers}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription { partnerEvents(after: 0) { sequence cloudEvent } }"}}))
        while len(got) < len(pulled):
            message = json.loads(await asyncio.wait_for(ws.recv(), 20))
            assert message["type"] == "next", message
            got.append(message["payload"]["data"]["partnerEvents"]["cloudEvent"])
    # Sam withdrew his consent: his earlier events are withheld now, on every channel alike
    assert got == pulled and [e["sequence"] for e in got] == [2, 4, 5, 6, 7, 8]


async def test_pseudonyms_when_two_partners_see_one_person_differ_and_stay_stable(
    http: httpx.AsyncClient, token: Callable[..., str], feed: dict[str, Any]
) -> None:
    a = await _pull(http, _bearer(token, "PARTNER", partner_id=feed["a"]))
    b = await _pull(http, _bearer(token, "PARTNER", partner_id=feed["b"]))
    about_alex_a = {e["subject"] for e in a if e["type"].endswith("outcome.recorded.v1")}
    about_alex_b = {e["subject"] for e in b if e["type"].endswith("outcome.recorded.v1")}
    assert len(about_alex_a) == len(about_alex_b) == 1 and about_alex_a != about_alex_b
    promoted = [e for e in a if e["type"].endswith("participant.enrolled.v1")
                and e["data"]["fromWaitlist"]]
    assert {e["subject"] for e in promoted} == about_alex_a  # the same pseudonym every time
    assert not ({e["id"] for e in a} & {e["id"] for e in b})  # ids do not link feeds either


async def test_feeds_when_scanned_carry_no_name_email_or_phone(
    services: Services, http: httpx.AsyncClient, token: Callable[..., str],
    feed: dict[str, Any]
) -> None:
    texts = [json.dumps(await _pull(http, _bearer(token, "PARTNER", partner_id=p)))
             for p in (feed["a"], feed["b"])]
    texts += [raw.decode() for raw in feed["rx"].raw]
    texts += [bytes(r[0]).decode() for r in await services.pool.fetch("SELECT body FROM feed_events")]
    texts += [json.dumps([dict(r) for r in await services.pool.fetch(
        "SELECT * FROM feed_attempts")], default=str)]
    for text in texts:
        for personal in (*PERSONAL, "Sam", "sam@example.org", "moved", "venue closed"):
            assert personal not in text


async def test_every_emitted_event_when_checked_validates_against_its_published_schema(
    http: httpx.AsyncClient, token: Callable[..., str], feed: dict[str, Any]
) -> None:
    events = [e for p in (feed["a"], feed["b"])
              for e in await _pull(http, _bearer(token, "PARTNER", partner_id=p))]
    admin_token = _bearer(token, "ADMIN")
    seen = set()
    for event in events:
        name = event["type"].removeprefix(catalogue.FEED_TYPE_PREFIX)
        schema = (await http.get(f"/feeds/schemas/{name}.json", headers=admin_token)).json()
        jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(event)
        seen.add(name)
    assert {"participant.enrolled.v1", "participant.waitlisted.v1", "outcome.recorded.v1", "cohort.cancelled.v1", "consent.withdrawn.v1",
            "participant.erased.v1"} <= seen
    doc = (await http.get("/feeds/catalogue", headers=admin_token)).json()
    assert doc["asyncapi"] == "3.0.0" and len(doc["components"]["schemas"]) == len(
        catalogue.PUBLIC_EVENT_TYPES)


FORBIDDEN_FOR_PARTNER = [
    "{ programmes(first: 5) { edges { node { id } } } }",
    "{ partners { id } }",
    "{ disclosures { edges { node { id } } } }",
    "{ auditTrail(first: 5) { edges { node { position } } } }",
    'mutation { registerPartner(input: {name: "x", purposes: ["p"], programmeIds: []}) '
    "{ partnerId } }",
]


@pytest.mark.parametrize("query", FORBIDDEN_FOR_PARTNER)
async def test_graphql_when_a_partner_asks_beyond_its_feed_is_forbidden(
    http: httpx.AsyncClient, token: Callable[..., str], feed: dict[str, Any], query: str
) -> None:
    r = await http.post("/graphql", json={"query": query},
                        headers=_bearer(token, "PARTNER", partner_id=feed["a"]))
    codes = {e["extensions"]["code"] for e in r.json().get("errors", [])}
    assert codes and codes <= {"FORBIDDEN", "BAD_USER_INPUT"}, r.text
    assert not r.json().get("data")


async def test_graphql_when_a_partner_reads_another_partner_or_a_person_is_forbidden(
    http: httpx.AsyncClient, token: Callable[..., str], feed: dict[str, Any]
) -> None:
    headers = _bearer(token, "PARTNER", partner_id=feed["a"])
    for query in (f'{{ partner(id: "{feed["b"]}") {{ id }} }}',
                  f'{{ participant(id: "{feed["alex"]}") {{ id }} }}'):
        r = await http.post("/graphql", json={"query": query}, headers=headers)
        assert r.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN", r.text
    own = await http.post("/graphql", json={"query": f'{{ partner(id: "{feed["a"]}") '
                                             "{ id endpoints { state } } }"}, headers=headers)
    assert own.json()["data"]["partner"]["id"] == feed["a"]


async def test_feed_routes_when_not_a_partner_or_no_token_are_refused(
    http: httpx.AsyncClient, token: Callable[..., str], feed: dict[str, Any]
) -> None:
    for path in ("/feeds/events", "/feeds/stream", "/feeds/catalogue"):
        assert (await http.get(path)).status_code == 401
    for role in ("ADMIN", "AUDITOR", "PROGRAMME_MANAGER"):
        r = await http.get("/feeds/events", headers=_bearer(token, role))
        assert r.status_code == 403
    r = await http.get("/feeds/catalogue", headers=_bearer(token, "FACILITATOR"))
    assert r.status_code == 403


async def test_disclosure_log_when_read_by_an_auditor_names_partner_and_consent(
    http: httpx.AsyncClient, token: Callable[..., str], feed: dict[str, Any]
) -> None:
    query = ("query($p: UUID) { disclosures(participantId: $p, first: 100) { edges { node { "
             "partnerId channel sequence outcome consentId consentVersion type } } } }")
    r = await http.post("/graphql", json={"query": query, "variables": {"p": feed["alex"]}},
                        headers=_bearer(token, "AUDITOR"))
    nodes = [e["node"] for e in r.json()["data"]["disclosures"]["edges"]]
    disclosed = [n for n in nodes if n["outcome"] == "DISCLOSED"]
    assert {n["channel"] for n in disclosed} >= {"WEBHOOK", "PULL"}
    assert all(n["consentId"] and n["consentVersion"] for n in disclosed)


async def test_add_webhook_endpoint_when_url_is_loopback_private_or_plain_http_is_refused(
    services: Services, feed: dict[str, Any]
) -> None:
    strict = FeedTools(services.feeds.secrets, allow_private=False, overlap_hours=1)
    app = services.application
    app.webhook_tools, tools = strict, app.webhook_tools
    try:
        for url in ("https://127.0.0.1/hook", "https://localhost/hook", "https://10.1.2.3/",
                    "https://192.168.0.10/", "https://169.254.169.254/latest", "https://[::1]/",
                    "http://example.org/hook", "https://user:pw@example.org/"):
            with pytest.raises(InvalidInput):
                await app.add_webhook_endpoint(admin(), feed["a"], url)
    finally:
        app.webhook_tools = tools


async def test_webhook_when_receiver_redirects_does_not_follow(
    services: Services, feed: dict[str, Any]
) -> None:
    target, hop = Receiver(), Receiver()
    async with Serving(target) as t, Serving(hop) as h:
        target.port, hop.port = t.port, h.port
        hop.default = 307
        hop.script = [(307, {"Location": target.url})] * 3
        app = services.application
        await endpoint(app, feed["b"], hop)
        await app.give_consent(admin(), feed["alex"], PURPOSE, "notice-2", "v2", "consent",
                               "paper-form", [feed["a"], feed["b"]], TODAY.replace(year=TODAY.year + 1))
        alex_again = await person(app, feed["programme"], "Kim", [feed["b"]])
        cid = await cohort(app, feed["programme"])
        await app.enrol_participant(admin(), cid, alex_again)
        await hop.wait_for(lambda: len(hop.receipts) >= 1)
    assert target.receipts == [] and hop.delivered() == []
