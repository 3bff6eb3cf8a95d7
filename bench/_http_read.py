"""GraphQL cohort-dashboard load vs a bare Litestar endpoint, both over real HTTP."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from _common import say
from _load import LoadResult, graphql_body, run_load

from program.api.auth import mint_token
from program.application.context import Actor, CommandContext
from program.bootstrap import Services

HERE = Path(__file__).resolve().parent
SECRET = "bench-secret-" + "b" * 40
ROUNDS = 4  # bare and GraphQL measured in turn, this many times each

DASHBOARD = """
query Dashboard($id: UUID!) {
  cohort(id: $id) {
    id name status format capacity startsOn venue
    enrolledCount waitlistCount
    waitlist { participantId place }
    facilitators { facilitatorId role }
    nextSession { id startsAt }
    attendance { rate present recorded }
    consecutiveAbsences { participantId consecutive }
    outcomes { measure baselineCount followUpCount people meanChange suppressed }
  }
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def seed_cohort(services: Services) -> str:
    """One running cohort of 12 with a waitlist, 2 facilitators, sessions, attendance, outcomes."""
    app = services.application
    ctx = CommandContext(Actor.system("bench"))
    today = datetime.now(UTC).date()
    pid = (await app.create_programme(ctx, "Hope", "bench", None, ["HHI"], 2))["programme_id"]
    await app.activate_programme(ctx, pid)
    cid = (await app.plan_cohort(ctx, pid, "Tuesdays", "ENROLLED", 12, today - timedelta(days=35),
                                 "Hall"))["cohort_id"]  # its sessions began five weeks ago
    await app.open_cohort_enrolment(ctx, cid)
    for n in range(2):
        fid = (await app.register_facilitator(ctx, f"F{n}", f"f{n}@example.org", 3))["facilitator_id"]
        for kind in ("PEER_SUPPORT_TRAINING", "SAFEGUARDING", "BACKGROUND_CHECK"):
            await app.record_facilitator_credential(ctx, fid, kind, today + timedelta(365))
        await app.activate_facilitator(ctx, fid)
        await app.assign_facilitator(ctx, cid, fid, "LEAD" if n == 0 else "CO")
    people = []
    for n in range(15):
        person = (await app.register_participant(ctx, f"P{n}", programme_id=pid))["participant_id"]
        await app.give_consent(ctx, person, "programme-participation", "n1", "v1", "consent",
                               "paper-form", [], today + timedelta(365))
        await app.enrol_participant(ctx, cid, person)
        people.append(person)
    await app.start_cohort(ctx, cid)
    start = datetime.now(UTC) - timedelta(days=35)
    for week in range(6):
        sid = (await app.schedule_session(ctx, cid, start + timedelta(weeks=week)))["session_id"]
        if week < 5:
            for i, person in enumerate(people[:12]):
                status = "PRESENT" if (i + week) % 4 else "ABSENT_UNEXCUSED"
                await app.record_attendance(ctx, cid, sid, person, status)
    for i, person in enumerate(people[:12]):
        await app.record_outcome(ctx, person, cid, "HHI", "BASELINE", 20 + i)
        last = await app.record_outcome(ctx, person, cid, "HHI", "FOLLOW_UP", 24 + i)
    await services.projections.wait_for(last.position, 30)
    return str(cid)


async def measure(db_url: str, cohort_id: str, seconds: float, connections: int = 32) -> dict[str, float]:
    """The figures as served (result cache on, the default), then with the cache off."""
    figures: dict[str, float] = {}
    for cache, prefix in (("1", "gql"), ("0", "gql_uncached")):
        say(f"  GraphQL result cache {'on' if cache == '1' else 'off'}:")
        bare, gql = await _serve_and_load(db_url, cohort_id, seconds, connections, cache)
        figures[f"{prefix}_rps"] = gql.rps
        figures[f"{prefix}_p50_ms"] = gql.percentile(50)
        figures[f"{prefix}_p99_ms"] = gql.percentile(99)
        figures[f"{prefix}_ratio_vs_bare"] = gql.rps / bare.rps
        if cache == "1":
            figures["bare_rps"] = bare.rps
            figures["bare_p99_ms"] = bare.percentile(99)
    return figures


async def _serve_and_load(
    db_url: str, cohort_id: str, seconds: float, connections: int, cache: str
) -> tuple[LoadResult, LoadResult]:
    port = free_port()
    env = {**os.environ, "PROGRAM_DATABASE_URL": db_url, "PROGRAM_JWT_SECRET": SECRET,
           "PROGRAM_LOG_LEVEL": "WARNING", "PROGRAM_GRAPHQL_CACHE": cache,
           "PROGRAM_POOL_MAX_SIZE": str(connections)}
    server = subprocess.Popen([sys.executable, str(HERE / "_bench_server.py"), str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        await _wait_ready(base)
        token = mint_token(SECRET, role="ADMIN", subject="bench")
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        body = graphql_body(DASHBOARD, {"id": cohort_id})
        await _check(base, headers, body)
        say(f"  warming up, then {seconds:.0f} s each of bare and GraphQL, {connections} "
            f"clients, in {ROUNDS} rounds taken in turn…")
        await run_load(f"{base}/bench/bare/{cohort_id}", connections=connections, seconds=1)
        await run_load(f"{base}/graphql", connections=connections, seconds=1, method="POST",
                       headers=headers, body=body)
        # Rounds of each in turn: a slow stretch of the machine falls on both sides.
        bares, gqls = [], []
        for _ in range(ROUNDS):
            bares.append(await run_load(f"{base}/bench/bare/{cohort_id}",
                                        connections=connections, seconds=seconds / ROUNDS))
            gqls.append(await run_load(f"{base}/graphql", connections=connections,
                                       seconds=seconds / ROUNDS, method="POST",
                                       headers=headers, body=body, check_graphql=True))
        bare, gql = LoadResult.pooled(bares), LoadResult.pooled(gqls)
    finally:
        server.terminate()
        server.wait(10)
    if bare.errors or gql.errors:
        raise RuntimeError(f"errors under load: bare {bare.errors}, graphql {gql.errors}")
    return bare, gql


async def _wait_ready(base: str) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{base}/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("bench server did not become ready")


async def _check(base: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        answer = (await client.post(f"{base}/graphql", headers=headers, content=body)).json()
    if answer.get("errors") or not answer.get("data", {}).get("cohort"):
        raise RuntimeError(f"dashboard query failed: {answer}")
    return answer


# -- mixed: many dashboards read while other cohorts change ---------------------------------


async def seed_mixed(services: Services, readers: int = 50, busy: int = 10
                     ) -> tuple[list[str], list[tuple[str, str, str]]]:
    """``readers`` small running cohorts to read, and (cohort, session, person) marks to
    record in ``busy`` other cohorts."""
    app = services.application
    ctx = CommandContext(Actor.system("bench"))
    today = datetime.now(UTC).date()
    pid = (await app.create_programme(ctx, "Mixed", "bench", None, ["HHI"], 2))["programme_id"]
    await app.activate_programme(ctx, pid)
    leads: list[str] = []
    cohorts, targets = [], []
    for c in range(readers + busy):
        if c % 40 == 0:  # a facilitator serves at most 50 cohorts
            leads = []
            for n in range(2):
                fid = (await app.register_facilitator(ctx, f"M{c}-{n}", f"m{c}.{n}@example.org",
                                                      50))["facilitator_id"]
                for kind in ("PEER_SUPPORT_TRAINING", "SAFEGUARDING", "BACKGROUND_CHECK"):
                    await app.record_facilitator_credential(ctx, fid, kind, today + timedelta(365))
                await app.activate_facilitator(ctx, fid)
                leads.append(fid)
        cid = (await app.plan_cohort(ctx, pid, f"Mixed {c}", "ENROLLED", 8, today - timedelta(days=1),
                                     "Hall"))["cohort_id"]  # began yesterday, with a session
        await app.open_cohort_enrolment(ctx, cid)
        for n, fid in enumerate(leads):
            await app.assign_facilitator(ctx, cid, fid, "LEAD" if n == 0 else "CO")
        people = []
        for n in range(4):
            person = (await app.register_participant(ctx, f"P{c}-{n}", programme_id=pid))["participant_id"]
            await app.give_consent(ctx, person, "programme-participation", "n1", "v1", "consent",
                                   "paper-form", [], today + timedelta(365))
            await app.enrol_participant(ctx, cid, person)
            people.append(person)
        await app.start_cohort(ctx, cid)
        sid = (await app.schedule_session(ctx, cid, datetime.now(UTC) - timedelta(days=1)))["session_id"]
        if c < readers:
            cohorts.append(str(cid))
        else:
            targets += [(str(cid), str(sid), str(p)) for p in people]
    return cohorts, targets


async def measure_mixed(db_url: str, cohorts: list[str], targets: list[tuple[str, str, str]],
                        seconds: float, connections: int = 32, rate: int = 200) -> dict[str, float]:
    """Cache on: ``connections`` clients reading the ``cohorts`` dashboards while ``rate``
    commands/s record attendance in other cohorts; against bare in the same server under
    the same writes."""
    from program.bootstrap import open_services
    from program.settings import Settings
    from program.store.database import Database

    port = free_port()
    env = {**os.environ, "PROGRAM_DATABASE_URL": db_url, "PROGRAM_JWT_SECRET": SECRET,
           "PROGRAM_LOG_LEVEL": "WARNING", "PROGRAM_GRAPHQL_CACHE": "1",
           "PROGRAM_POOL_MAX_SIZE": str(connections)}
    server = subprocess.Popen([sys.executable, str(HERE / "_bench_server.py"), str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    writer = await open_services(Settings(), database=Database(url=db_url), run_projections=False)
    try:
        await _wait_ready(base)
        token = mint_token(SECRET, role="ADMIN", subject="bench")
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        bodies = [graphql_body(DASHBOARD, {"id": c}) for c in cohorts]
        await _check(base, headers, bodies[0])
        say(f"  mixed: {len(cohorts)} dashboards read by {connections} clients while {rate} "
            f"commands/s change {len(targets) // 4} other cohorts…")
        stop = asyncio.Event()
        written = [0]

        async def write() -> None:
            ctx = CommandContext(Actor.system("bench"))
            started, i = time.perf_counter(), 0
            pending: set[asyncio.Task[Any]] = set()
            while not stop.is_set():
                delay = started + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                cid, sid, person = targets[i % len(targets)]
                status = "PRESENT" if (i // len(targets)) % 2 else "ABSENT_EXCUSED"
                task = asyncio.create_task(writer.application.record_attendance(
                    ctx, cid, sid, person, status))
                pending.add(task)
                task.add_done_callback(pending.discard)
                i += 1
                written[0] = i
            await asyncio.gather(*pending, return_exceptions=True)

        # Both under the same writes: the commands, their projection and their
        # invalidations load the machine alike for the baseline and for GraphQL.
        writing = asyncio.create_task(write())
        await run_load(f"{base}/bench/bare/{cohorts[0]}", connections=connections, seconds=1)
        bare = await run_load(f"{base}/bench/bare/{cohorts[0]}", connections=connections,
                              seconds=seconds)
        await run_load(f"{base}/graphql", connections=connections, seconds=1, method="POST",
                       headers=headers, bodies=bodies)
        gql = await run_load(f"{base}/graphql", connections=connections, seconds=seconds,
                             method="POST", headers=headers, bodies=bodies, check_graphql=True)
        stop.set()
        await writing
        say(f"  {written[0]:,} commands written")
    finally:
        server.terminate()
        server.wait(10)
        await writer.close()
    if bare.errors or gql.errors:
        raise RuntimeError(f"errors under load: bare {bare.errors}, graphql {gql.errors}")
    return {"gql_mixed_rps": gql.rps, "gql_mixed_p50_ms": gql.percentile(50),
            "gql_mixed_p99_ms": gql.percentile(99), "gql_mixed_bare_rps": bare.rps,
            "gql_mixed_ratio_vs_bare": gql.rps / bare.rps}
