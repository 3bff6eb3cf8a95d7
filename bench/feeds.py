"""Partner feeds: webhook delivery from a backlog, commit-to-receipt lag, SSE catch-up.

Generates, with the real domain aggregates appended through the event store, 8
programmes each followed by its own partner (one webhook endpoint each) and one more
partner following all 8 (read over SSE); people consent naming both; enrolments and
withdrawals make the events. Then, on the embedded server:

- ``build_eps``: feed events/s the builder writes from the log (all 9 partners);
- ``webhook_eps``: events/s delivered from the backlog (at least ``--events`` over the 8
  endpoints, ordered per endpoint, every signature verified by local receivers);
- ``raw_post_eps``: the same signed request bodies POSTed with httpx, one sender per
  endpoint as the dispatcher has, with no consent check, disclosure log or bookkeeping;
- ``webhook_ratio_vs_raw`` (the issue's figure, against that httpx baseline);
- ``raw_same_client_post_eps`` and ``webhook_ratio_vs_same_client``: the same again with
  aiohttp, the client the dispatcher sends with, so the cost of the bookkeeping alone is
  seen too (the httpx baseline also holds httpx's own cost, which the dispatcher no
  longer pays);
- ``webhook_lag_p50_ms`` / ``webhook_lag_p99_ms``: from the
  event's commit (its CloudEvents ``time``) to its receipt, under a steady 200
  commands/s through the application;
- ``sse_catchup_eps``: the all-programmes partner reading its feed over SSE from 0.

Progress on stderr, one JSON line of figures on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp  # noqa: E402
import httpx  # noqa: E402
import uvicorn  # noqa: E402
from _common import Server, say  # noqa: E402
from standardwebhooks.webhooks import Webhook  # noqa: E402

from program.api.app import create_app  # noqa: E402
from program.api.auth import mint_token  # noqa: E402
from program.application.context import Actor, CommandContext, Role  # noqa: E402
from program.bootstrap import open_services  # noqa: E402
from program.domain.cohort import Cohort  # noqa: E402
from program.domain.consent import Consent  # noqa: E402
from program.domain.participant import Participant  # noqa: E402
from program.domain.partner import Partner  # noqa: E402
from program.domain.programme import Programme  # noqa: E402
from program.feeds import webhooks  # noqa: E402
from program.feeds.envelope import batch  # noqa: E402
from program.feeds.runtime import FeedService  # noqa: E402
from program.feeds.settings import FeedSettings  # noqa: E402
from program.settings import Settings  # noqa: E402
from program.store.database import Database  # noqa: E402

PURPOSE = "evaluation"
PROGRAMMES = 8
PEOPLE = 40  # per programme
SECRET = "bench-" + "x" * 42
ADMIN = CommandContext(Actor("bench", Role.ADMIN))


class Receivers:
    """One local server for every endpoint (``/hook/N``): verifies each signature, notes
    each event's receipt time, answers 204."""

    def __init__(self) -> None:
        self.hooks: dict[str, Webhook] = {}
        self.received = 0
        self.bad = 0
        self.lags: list[float] = []
        self.measure = False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        now = time.time()
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        try:
            events = self.hooks[scope["path"]].verify(body, headers)
        except Exception:
            self.bad += 1
            events = []
        self.received += len(events)
        if self.measure:
            self.lags += [now - datetime.fromisoformat(e["time"]).timestamp() for e in events]
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def serve(app: Any, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on" if hasattr(app, "state") else "off"))
    asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    return server


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def append(services: Any, aggregates: list[Any]) -> None:
    await services.repository.save(*aggregates, metadata={"actor": "bench", "role": "ADMIN"})


async def generate(services: Any, receivers: Receivers, port: int, events: int) -> dict[str, Any]:
    """The world and a log giving at least ``events`` feed events over the 8 endpoints."""
    app = services.application
    programmes = [Programme.create(f"P{i}", "", None, ["HHI"], 1) for i in range(PROGRAMMES)]
    for p in programmes:
        p.activate()
    partners = [Partner.register(f"Partner {i}", [PURPOSE], [p.id]) for i, p in
                enumerate(programmes)]
    everyone = Partner.register("Evaluator (SSE)", [PURPOSE], [p.id for p in programmes])
    await append(services, [*programmes, *partners, everyone])
    for i, partner in enumerate(partners):
        added = await app.add_webhook_endpoint(ADMIN, partner.id,
                                               f"http://127.0.0.1:{port}/hook/{i}")
        receivers.hooks[f"/hook/{i}"] = Webhook(added["secret"])
    now = datetime.now(UTC)
    cohorts, people = [], []
    for programme, partner in zip(programmes, partners, strict=True):
        cohort = Cohort.plan(programme.id, "Group", "ENROLLED", 10_000, now.date(), "Hall", 1)
        cohort.open_enrolment()
        cohorts.append(cohort)
        batch_ = [cohort]
        for _ in range(PEOPLE):
            person = Participant.register(uuid.uuid4(), "aesgcm1:bench", programme.id)
            consents = []
            for purpose, to in (("programme-participation", []),
                                (PURPOSE, [str(partner.id), str(everyone.id)])):
                consent = Consent.record(person.id, purpose)
                consent.give("n1", "v1", "en", "consent", to, "paper-form", "bench",
                             now.date() + timedelta(days=365), now)
                consents.append(consent)
            people.append((cohort, person))
            batch_ += [person, *consents]
        await append(services, batch_)
    rounds = max(1, -(-events // (2 * len(people))))
    for r in range(rounds):
        for cohort in cohorts:
            for c, person in people:
                if c is cohort:
                    cohort.enrol(person.id)
                    cohort.withdraw(person.id, None)
            await append(services, [cohort])
        say(f"  log: round {r + 1}/{rounds}")
    return {"people": people, "everyone": everyone.id, "partners": [p.id for p in partners]}


async def build_backlog(feeds: FeedService) -> tuple[int, float]:
    builder = feeds.builder
    await builder.load()
    started, built = time.perf_counter(), 0
    while rows := await builder.read():
        await builder.build(rows)
    built = await feeds.pool.fetchval("SELECT count(*) FROM feed_events")
    return int(built), time.perf_counter() - started


async def deliver_backlog(services: Any, feeds: FeedService, receivers: Receivers,
                          target: int) -> float:
    started = time.perf_counter()
    await feeds.start()
    while receivers.received < target:
        await asyncio.sleep(0.01)
    return time.perf_counter() - started


async def raw_posts(services: Any, receivers: Receivers, port: int, size: int,
                    client: str = "httpx") -> tuple[int, float]:
    """The same bodies, signed, one sender per endpoint, nothing else; with ``client``
    (``httpx`` or ``aiohttp``)."""
    rows = await services.pool.fetch(
        "SELECT e.partner_id, e.sequence, e.body FROM feed_events e JOIN feed_endpoints p "
        "USING (partner_id) ORDER BY e.partner_id, e.sequence")
    by_partner: dict[Any, list[bytes]] = {}
    for r in rows:
        by_partner.setdefault(r[0], []).append(bytes(r[2]))
    secrets, paths = {}, {}
    for r in await services.pool.fetch("SELECT endpoint_id, partner_id, secrets, version, url "
                                       "FROM feed_endpoints"):
        secrets[r[1]] = await services.feeds.secrets.signing_secrets(r[0], r[2], r[3])
        paths[r[1]] = httpx.URL(r[4]).path  # the receiver checks each path's own secret

    def signed(partner_id: Any, i: int, body: bytes) -> dict[str, str]:
        msg, at = f"msg_raw_{partner_id}_{i}", datetime.now(UTC)
        return {"webhook-id": msg, "webhook-timestamp": str(int(at.timestamp())),
                "webhook-signature": webhooks.signature_header(secrets[partner_id], msg, at,
                                                               body.decode()),
                "content-type": "application/cloudevents-batch+json"}

    def batches(partner_id: Any) -> Any:
        bodies = by_partner[partner_id]
        for i in range(0, len(bodies), size):
            body = batch(bodies[i:i + size])
            yield f"http://127.0.0.1:{port}{paths[partner_id]}", body, signed(partner_id, i, body)

    if client == "httpx":
        async with httpx.AsyncClient(timeout=15) as http:
            async def sender(partner_id: Any) -> None:
                for url, body, headers in batches(partner_id):
                    await http.post(url, content=body, headers=headers)

            started = time.perf_counter()
            await asyncio.gather(*(sender(p) for p in by_partner))
    else:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
            async def sender(partner_id: Any) -> None:
                for url, body, headers in batches(partner_id):
                    async with session.post(url, data=body, headers=headers) as answer:
                        await answer.read()

            started = time.perf_counter()
            await asyncio.gather(*(sender(p) for p in by_partner))
    return sum(len(b) for b in by_partner.values()), time.perf_counter() - started


async def steady_load(services: Any, world: dict[str, Any], rate: float, seconds: float) -> int:
    """``rate`` commands/s (enrol, then withdraw, person by person) for ``seconds``."""
    app = services.application
    people = world["people"]
    interval, sent, tasks = 1.0 / rate, 0, []
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        cohort, person = people[(sent // 2) % len(people)]
        if sent % 2 == 0:
            tasks.append(asyncio.create_task(app.enrol_participant(ADMIN, cohort.id, person.id)))
        else:
            tasks.append(asyncio.create_task(app.withdraw_participant(ADMIN, cohort.id, person.id)))
        sent += 1
        await asyncio.sleep(max(0.0, started + sent * interval - time.perf_counter()))
    await asyncio.gather(*tasks, return_exceptions=True)
    return sent


async def sse_catchup(url: str, partner_id: Any, head: int) -> float:
    token = mint_token(SECRET, role="PARTNER", subject="bench-sse", partner_id=str(partner_id))
    seen = 0
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=60) as client, client.stream(
            "GET", f"{url}/feeds/stream", headers={"Authorization": f"Bearer {token}",
                                                   "Last-Event-ID": "0"}) as response:
        tail = b""
        async for chunk in response.aiter_bytes():
            text = tail + chunk  # a marker may straddle two chunks
            seen += text.count(b"\ndata: ")
            tail = text[-6:] if not text.endswith(b"\ndata: ") else b""
            if seen >= head:
                break
    return time.perf_counter() - started


async def main(events: int, lag_seconds: float, rate: float) -> dict[str, Any]:
    server = Server()
    figures: dict[str, Any] = {}
    try:
        url = await server.database("feeds")
        data_dir = Path(server._tmp.name) / "data"
        settings = Settings(database_url=url, data_dir=data_dir, jwt_secret=SECRET,
                            pool_max_size=30, feeds=FeedSettings(
                                allow_private_urls=True, pseudonym_key="bench-pseudonym-key-0123"))
        services = await open_services(settings, database=Database(url=url),
                                       run_projections=False, run_feeds=False)
        receivers, port = Receivers(), free_port()
        hooks = await serve(receivers, port)
        say(f"generating a log for at least {events} feed events over 8 endpoints…")
        world = await generate(services, receivers, port, events)
        say("building the feeds…")
        feeds = FeedService(services, run=True)
        built, seconds = await build_backlog(feeds)
        figures["build_eps"] = built / seconds
        target = int(await services.pool.fetchval(
            "SELECT sum(head) FROM feed_partners WHERE partner_id <> $1", world["everyone"]))
        figures["webhook_backlog_events"] = int(target)
        say(f"delivering {target} events to 8 endpoints…")
        figures["webhook_eps"] = target / await deliver_backlog(services, feeds, receivers, target)
        say("raw httpx POSTs of the same bodies…")
        sent, seconds = await raw_posts(services, receivers, port, settings.feeds.batch_size)
        figures["raw_post_eps"] = sent / seconds
        figures["webhook_ratio_vs_raw"] = figures["webhook_eps"] / figures["raw_post_eps"]
        say("raw aiohttp POSTs of the same bodies…")
        sent, seconds = await raw_posts(services, receivers, port, settings.feeds.batch_size,
                                        "aiohttp")
        figures["raw_same_client_post_eps"] = sent / seconds
        figures["webhook_ratio_vs_same_client"] = (figures["webhook_eps"]
                                                   / figures["raw_same_client_post_eps"])
        if lag_seconds > 0:
            say(f"steady {rate:g} commands/s for {lag_seconds:g} s…")
            receivers.measure = True
            await steady_load(services, world, rate, lag_seconds)
            await asyncio.sleep(1.0)
            receivers.measure = False
            lags = sorted(receivers.lags)
            figures["webhook_lag_events"] = len(lags)
            figures["webhook_lag_p50_ms"] = lags[len(lags) // 2] * 1000 if lags else None
            figures["webhook_lag_p99_ms"] = lags[int(len(lags) * 0.99)] * 1000 if lags else None
        head = await services.pool.fetchval("SELECT head FROM feed_partners WHERE partner_id = $1",
                                            world["everyone"])
        say(f"SSE: one partner reading {head} events from 0…")
        await feeds.close()  # the catch-up alone, not beside a dispatcher
        api_port = free_port()
        api = await serve(create_app(settings, services=services), api_port)
        figures["sse_events"] = int(head)
        figures["sse_catchup_eps"] = head / await sse_catchup(f"http://127.0.0.1:{api_port}",
                                                              world["everyone"], head)
        figures["bad_signatures"] = receivers.bad
        api.should_exit = hooks.should_exit = True
        await asyncio.sleep(0.2)
        await services.close()
    finally:
        server.close()
    return {k: (round(v, 3 if "_ratio_vs_" in k else 1) if isinstance(v, float) else v)
            for k, v in figures.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=int(os.environ.get("BENCH_EVENTS", 50_000)),
                        help="webhook backlog: at least this many feed events (default 50,000)")
    parser.add_argument("--lag-seconds", type=float,
                        default=float(os.environ.get("BENCH_SECONDS", 10)),
                        help="how long the steady load for the lag runs (0 skips it; default 10)")
    parser.add_argument("--rate", type=float, default=200.0,
                        help="commands/s of the steady load (default 200)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.events, args.lag_seconds, args.rate))), flush=True)
