"""Read side: rebuild throughput against a raw asyncpg baseline, and projection lag.

Generates a realistic history (programmes, facilitators, cohorts run week by week with
enrolment, waitlists, sessions, attendance, outcomes and consent) with the real domain
aggregates, appends it through the event store, then measures:

- ``rebuild_eps``: events/s to rebuild every read model from zero;
- ``rebuild_ratio_vs_raw``: that against a raw asyncpg loop in the same run that reads
  the same events in the same batches and writes as many rows (the read models' rows);
  the two are measured in turn for three rounds and each is the median of its rounds;
- ``lag_p50_ms`` / ``lag_p99_ms``: commit to visible in the cohort dashboard under a
  steady 500 commands/s through the application;
- the HTTP figures come from ``measure_http`` (a hook for the API benchmark).

Prints progress on stderr and one JSON line of figures at the end on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import os
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import asyncpg  # noqa: E402
from _common import Server, say, settle  # noqa: E402

from program.application.context import Actor, CommandContext, FixedClock  # noqa: E402
from program.application.services import Application  # noqa: E402
from program.domain.cohort import Cohort  # noqa: E402
from program.domain.consent import Consent  # noqa: E402
from program.domain.facilitator import Facilitator  # noqa: E402
from program.domain.participant import Participant  # noqa: E402
from program.domain.programme import Programme  # noqa: E402
from program.projections.rebuild import BATCH, RebuildProgress, rebuild  # noqa: E402
from program.projections.registry import all_projections  # noqa: E402
from program.projections.runner import ProjectionRunner  # noqa: E402
from program.store.database import create_pool  # noqa: E402
from program.store.eventstore import EventStore  # noqa: E402
from program.store.keys import KeyStore  # noqa: E402
from program.store.mapping import create_mapper  # noqa: E402
from program.store.records import NewEvent  # noqa: E402
from program.store.repository import Repository, event_id  # noqa: E402
from program.store.schema import migrate  # noqa: E402
from program.store.subscription import LogListener  # noqa: E402

KINDS = ("PEER_SUPPORT_TRAINING", "SAFEGUARDING", "BACKGROUND_CHECK")
MEASURES = ("HHI", "WEMWBS")
RANGES = {"HHI": [12.0, 48.0], "WEMWBS": [14.0, 70.0]}  # the instruments' valid ranges
PURPOSE = "programme-participation"
START = date(2025, 1, 6)
WEEKS = 12
REBUILD_ROUNDS = 3  # the rebuild and its raw baseline, measured in turn this many times


# -- history ---------------------------------------------------------------------


class History:
    """Events as the commands would record them: real aggregates, real metadata."""

    def __init__(self) -> None:
        self.mapper = create_mapper()
        self.events: list[NewEvent] = []

    def record(self, command: str, *aggregates: Any, actor: str = "manager-1",
               role: str = "PROGRAMME_MANAGER") -> None:
        meta = {"actor": actor, "role": role, "correlation_id": str(uuid.uuid4()),
                "command": command}
        for aggregate in aggregates:
            for domain_event in aggregate.collect_events():
                s = self.mapper.to_stored_event(domain_event)
                m = dict(meta, event_id=str(event_id(s.originator_id, s.originator_version)))
                self.events.append(NewEvent(s.originator_id, s.originator_version, s.topic,
                                            s.state, m))


@dataclass
class Running:
    cohort: Cohort
    leads: list[Facilitator]
    people: list[Participant] = field(default_factory=list)
    sessions: list[uuid.UUID] = field(default_factory=list)


def _ciphertext(rng: random.Random) -> str:
    return "aesgcm1:" + base64.b64encode(rng.randbytes(90)).decode()


def _plan_wave(h: History, rng: random.Random, programme: Programme, leads: list[Facilitator],
               starts_on: date, per_programme: int) -> list[Running]:
    wave = []
    for i in range(per_programme):
        cohort = Cohort.plan(programme.id, f"Group {i}", "ENROLLED", 12, starts_on,
                             "Community hall", programme.min_facilitators_per_cohort)
        cohort.open_enrolment()
        h.record("planCohort", cohort)
        pair = leads[2 * i: 2 * i + 2]
        for role, f in zip(("LEAD", "CO"), pair, strict=True):
            cohort.assign_facilitator(f.id, role)
            f.assign_to_cohort(cohort.id, starts_on)
            h.record("assignFacilitator", cohort, f)
        run = Running(cohort, pair)
        for _ in range(14):
            person = Participant.register(uuid.uuid4(), _ciphertext(rng), programme.id)
            consent = Consent.record(person.id, PURPOSE)
            consent.give("notice-1", "v2", "en", "consent", ["evaluator-a"], "paper-form",
                         "manager-1", starts_on + timedelta(days=365),
                         datetime(2025, 1, 1, tzinfo=UTC))
            h.record("registerParticipant", person)
            h.record("giveConsent", consent)
            cohort.enrol(person.id)
            person.join_cohort(cohort.id, programme.id)
            h.record("enrolParticipant", cohort, person)
            run.people.append(person)
        wave.append(run)
    return wave


def _run_week(h: History, rng: random.Random, run: Running, week: int, on: date) -> None:
    cohort = run.cohort
    if week == 0:
        cohort.start(on, [f.id for f in run.leads])
        h.record("startCohort", cohort)
        for w in range(WEEKS):
            sid = uuid.uuid4()
            cohort.schedule_session(sid, datetime.combine(on + timedelta(weeks=w),
                                                          datetime.min.time(), UTC))
            run.sessions.append(sid)
        h.record("scheduleSession", cohort)
    if week == 2:
        leaver = cohort.enrolled[rng.randrange(len(cohort.enrolled))]
        cohort.withdraw(leaver, "moved away")
        person = next(p for p in run.people if p.id == leaver)
        person.leave_cohort(cohort.id)
        h.record("withdrawParticipant", cohort, person)
    for pid in cohort.enrolled:
        roll = rng.random()
        status = "PRESENT" if roll < 0.8 else "ABSENT_EXCUSED" if roll < 0.9 else "ABSENT_UNEXCUSED"
        cohort.record_attendance(run.sessions[week], pid, status)
        h.record("recordAttendance", cohort, actor=f"facilitator-{run.leads[0].id}",
                 role="FACILITATOR")
    if week in (0, WEEKS - 1):
        timepoint = "BASELINE" if week == 0 else "FOLLOW_UP"
        for person in run.people:
            if person.id in cohort.enrolled and (week == 0 or rng.random() < 0.8):
                for measure in MEASURES:
                    low, high = RANGES[measure]
                    person.record_outcome(cohort.id, measure, timepoint,
                                          round(rng.uniform(low, high), 1), RANGES)
                h.record("recordOutcome", person)
    if week == WEEKS - 1:
        cohort.complete()
        for f in run.leads:
            f.release_from_cohort(cohort.id)
        h.record("completeCohort", cohort, *run.leads)


def generate(target: int, seed: int = 7, programmes: int = 20, per_programme: int = 6
             ) -> list[NewEvent]:
    """At least ``target`` events: waves of cohorts, each run week by week, interleaved."""
    rng = random.Random(seed)
    h = History()
    progs, leads = [], {}
    for p in range(programmes):
        programme = Programme.create(f"Programme {p}", "peer support", None, MEASURES, 2)
        programme.activate()
        h.record("createProgramme", programme, actor="admin-1", role="ADMIN")
        progs.append(programme)
        leads[programme.id] = []
        for i in range(2 * per_programme):
            # Names are ciphertext under a data key the service would create; a generated
            # history has no keys, so its facilitators read as erased (names null).
            sealed = "aesgcm1:" + base64.b64encode(os.urandom(48)).decode()
            f = Facilitator.register(uuid.uuid4(), sealed, 2)
            f.begin_training()
            for kind in KINDS:
                f.record_credential(kind, date(2099, 1, 1))  # long runs span years
            f.activate(START)
            h.record("registerFacilitator", f)
            leads[programme.id].append(f)
    wave = 0
    while len(h.events) < target:
        starts_on = START + timedelta(weeks=wave * (WEEKS + 2))
        runs = [r for p in progs
                for r in _plan_wave(h, rng, p, leads[p.id], starts_on, per_programme)]
        for week in range(WEEKS):
            for run in runs:
                _run_week(h, rng, run, week, starts_on + timedelta(weeks=week))
        wave += 1
        say(f"  generated wave {wave}: {len(h.events):,} events")
    return h.events


async def append_all(store: EventStore, events: list[NewEvent], chunk: int = 2000) -> None:
    """Append in order, several chunks in flight (the store's writer keeps their order)."""
    window: list[asyncio.Task[Any]] = []
    for i in range(0, len(events), chunk):
        window.append(asyncio.create_task(store.append(events[i:i + chunk])))
        if len(window) >= 8:
            await window.pop(0)
    await asyncio.gather(*window)


# -- rebuild and the raw baseline ---------------------------------------------------


async def read_model_rows(pool: asyncpg.Pool) -> int:
    total = 0
    for p in all_projections():
        for t in p.tables:
            total += await pool.fetchval(f"SELECT count(*) FROM {p.schema}.{t.name}")
    return total


async def measure_rebuild(pool: asyncpg.Pool, store: EventStore, repository: Repository,
                          events: int) -> tuple[float, float]:
    last = [0.0]

    def progress(p: RebuildProgress) -> None:
        now = time.perf_counter()
        if p.phase != "build" or now - last[0] > 2:
            last[0] = now
            say(f"  rebuild {p.phase} {p.name or ''} {p.done:,}/{p.total:,}")

    started = time.perf_counter()
    result = await rebuild(pool, store, repository, progress=progress)
    seconds = time.perf_counter() - started
    assert result.events == events, (result.events, events)
    return events / seconds, seconds


RAW_TABLE = """CREATE TABLE raw_rows (id bigint PRIMARY KEY, originator_id uuid, kind text,
    recorded_at timestamptz, data jsonb)"""
# The columns a rebuild reads; each row written carries the event's state as jsonb.
RAW_READ = """SELECT notification_id, originator_id, originator_version, topic, state,
    recorded_at FROM stored_events WHERE notification_id > $1 AND notification_id <= $2
    ORDER BY notification_id"""
RAW_INSERT = """INSERT INTO raw_rows SELECT i, o, k, r, convert_from(d, 'UTF8')::jsonb
    FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::timestamptz[], $5::bytea[])
    AS x(i, o, k, r, d)"""


async def raw_baseline(pool: asyncpg.Pool, rows: int, head: int, batch: int = BATCH) -> float:
    """Plain asyncpg, nothing else: read every event in the rebuild's batches (the next batch
    read while this one is written) and write ``rows`` rows in batches; events/s."""
    async with pool.acquire() as conn:
        await conn.execute("DROP TABLE IF EXISTS raw_rows")
        await conn.execute(RAW_TABLE)
    per_event = rows / head
    written = 0
    started = time.perf_counter()
    reading = asyncio.create_task(pool.fetch(RAW_READ, 0, batch))
    position = 0
    while position < head:
        events = await reading
        position = events[-1][0]
        if position < head:
            reading = asyncio.create_task(pool.fetch(RAW_READ, position, position + batch))
        target = round(position * per_event)
        picked = [events[i % len(events)] for i in range(target - written)]
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL synchronous_commit TO off")
            await conn.execute(RAW_INSERT, list(range(written, target)),
                               [e[1] for e in picked], [e[3] for e in picked],
                               [e[5] for e in picked], [e[4] for e in picked])
        written = target
    return head / (time.perf_counter() - started)


# -- lag ----------------------------------------------------------------------------


async def measure_lag(pool: asyncpg.Pool, store: EventStore, url: str, seconds: float,
                      rate: int = 500) -> tuple[float, float, int]:
    """Commands at a steady rate; per command, commit to cohort dashboard checkpoint."""
    repository = Repository(store, create_mapper())
    clock = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    app = Application(repository, KeyStore(pool), clock=clock)
    listener = LogListener(url)
    await listener.start()
    runner = ProjectionRunner(pool, store, listener, repository)
    await runner.start()
    try:
        targets = await _lag_setup(app, clock)
        clock.at += timedelta(weeks=5)  # every session has started: attendance may be taken
        assert await runner.wait_for(await store.max_position(), timeout=120)
        lags: list[float] = []
        ctx = CommandContext(Actor.system("bench"))

        async def one(i: int) -> None:
            cohort, session, person = targets[i % len(targets)]
            status = "PRESENT" if i % 3 else "ABSENT_EXCUSED"
            result = await app.record_attendance(ctx, cohort, session, person, status)
            committed = time.perf_counter()
            assert await runner.wait_for(result.position, timeout=10, names=["cohort_dashboard"])
            lags.append((time.perf_counter() - committed) * 1000)

        tasks = []
        started = time.perf_counter()
        for i in range(int(seconds * rate)):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
        lags.sort()
        return lags[len(lags) // 2], lags[min(len(lags) - 1, int(len(lags) * 0.99))], len(lags)
    finally:
        await runner.stop()
        await listener.close()


async def _lag_setup(app: Application, clock: FixedClock) -> list[tuple[str, str, str]]:
    """Twenty running cohorts of twelve, with sessions: (cohort, session, person) to mark."""
    ctx = CommandContext(Actor.system("bench"))
    pid = (await app.create_programme(ctx, "Lag", "", None, list(MEASURES), 2))["programme_id"]
    await app.activate_programme(ctx, pid)
    targets = []
    for c in range(20):
        leads = []
        for i in range(2):
            fid = (await app.register_facilitator(ctx, f"Lag {c}-{i}", f"l{c}{i}@example.org", 2)
                   )["facilitator_id"]
            for kind in KINDS:
                await app.record_facilitator_credential(ctx, fid, kind, date(2030, 1, 1))
            await app.activate_facilitator(ctx, fid)
            leads.append(fid)
        cid = (await app.plan_cohort(ctx, pid, f"Lag {c}", "ENROLLED", 12, clock.today(),
                                     "Hall"))["cohort_id"]
        await app.open_cohort_enrolment(ctx, cid)
        for i, fid in enumerate(leads):
            await app.assign_facilitator(ctx, cid, fid, "LEAD" if i == 0 else "CO")
        people = []
        for i in range(12):
            person = (await app.register_participant(ctx, f"Lag {c}-{i}", programme_id=pid)
                      )["participant_id"]
            await app.give_consent(ctx, person, PURPOSE, "notice-1", "v2", "consent", "web-form",
                                   [], date(2030, 1, 1))
            await app.enrol_participant(ctx, cid, person)
            people.append(person)
        await app.start_cohort(ctx, cid)
        sessions = [(await app.schedule_session(
            ctx, cid, clock.now() + timedelta(weeks=w)))["session_id"] for w in range(4)]
        targets += [(cid, s, p) for s in sessions for p in people]
    random.Random(3).shuffle(targets)
    return targets


# -- HTTP (hook) ------------------------------------------------------------------------


async def measure_http(url: str, seconds: float) -> dict[str, float]:
    """The API part (``gql_rps``, ``gql_p99_ms``, ``bare_rps``, ``gql_ratio_vs_bare``; the
    same with the cache off, ``gql_uncached_*``; and ``gql_mixed_*``: cache on, 50
    dashboards read while 200 commands/s change other cohorts), from
    ``bench/_http_read.py``, measured once the database has settled (``settle``)."""
    import _http_read  # type: ignore[import-not-found]

    from program.bootstrap import open_services
    from program.settings import Settings
    from program.store.database import Database

    services = await open_services(Settings(), database=Database(url=url), run_projections=True)
    try:
        cohort_id = await _http_read.seed_cohort(services)
        cohorts, targets = await _http_read.seed_mixed(services)
        assert await services.projections.wait_for(await services.store.max_position(), 60)
        await settle(services.pool)
    finally:
        await services.close()
    # The load generator runs in this process, beside what generating the log left:
    # kept out of the collector's way, so its own pauses do not land in either side.
    gc.collect()
    gc.freeze()
    try:
        figures = await _http_read.measure(url, str(cohort_id), seconds)
        figures.update(await _http_read.measure_mixed(url, cohorts, targets, seconds))
    finally:
        gc.unfreeze()
    return figures


async def measure_search(url: str, seconds: float) -> dict[str, float]:
    """``search_p99_ms`` (and p50, rps) from ``bench/_search.py``."""
    import _search  # type: ignore[import-not-found]

    return await _search.measure(url, seconds)


# -- main -----------------------------------------------------------------------------


async def main(events_target: int, seconds: float) -> dict[str, float]:
    server = Server()
    figures: dict[str, float] = {}
    try:
        url = await server.database("read")
        pool = await create_pool(url, min_size=4, max_size=16)
        async with pool.acquire() as conn:
            await migrate(conn)
        store = EventStore(pool)
        await store.start()
        repository = Repository(store, create_mapper())
        say(f"generating at least {events_target:,} events with the domain aggregates…")
        started = time.perf_counter()
        events = generate(events_target)
        say(f"  {len(events):,} events in {time.perf_counter() - started:.1f}s; appending…")
        started = time.perf_counter()
        await append_all(store, events)
        del events  # millions of objects the collector would otherwise keep walking
        gc.collect()
        head = await store.max_position()
        say(f"  appended {head:,} events in {time.perf_counter() - started:.1f}s")
        await pool.execute("VACUUM ANALYZE stored_events")

        # The rebuild and its baseline in turn, each settled first, for a few rounds; each
        # figure is the median of its rounds (a slow stretch of the machine falls in one).
        rebuilds, raws = [], []
        for r in range(REBUILD_ROUNDS):
            await settle(pool)
            say(f"rebuilding every read model from zero ({r + 1}/{REBUILD_ROUNDS})…")
            eps, took = await measure_rebuild(pool, store, repository, head)
            rows = await read_model_rows(pool)
            say(f"  {eps:,.0f} events/s ({took:.1f}s), {rows:,} read-model rows")
            rebuilds.append((eps, took))
            await settle(pool)
            say("raw asyncpg baseline: same events, same batches, as many rows…")
            raws.append(await raw_baseline(pool, rows, head))
            say(f"  {raws[-1]:,.0f} events/s")
        eps, took = sorted(rebuilds)[len(rebuilds) // 2]
        raw = statistics.median(raws)
        figures.update(events=head, rebuild_eps=eps, rebuild_seconds=took, read_model_rows=rows,
                       raw_eps=raw, rebuild_ratio_vs_raw=eps / raw)

        if seconds > 0:
            say(f"lag under 500 commands/s for {seconds:.0f}s…")
            p50, p99, n = await measure_lag(pool, store, url, seconds)
            say(f"  p50 {p50:.1f} ms, p99 {p99:.1f} ms over {n:,} commands")
            figures.update(lag_p50_ms=p50, lag_p99_ms=p99)
            say("API: a cohort dashboard over HTTP, 32 clients…")
            figures.update(await measure_http(url, seconds))
            say("search: a manager's name search over 20,000 people, 16 clients…")
            figures.update(await measure_search(url, seconds))
        await store.close()
        await pool.close()
    finally:
        server.close()
    return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in figures.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=int(os.environ.get("BENCH_EVENTS", 200_000)),
                        help="generate at least this many events (default 200,000)")
    parser.add_argument("--seconds", type=float,
                        default=float(os.environ.get("BENCH_SECONDS", 10)),
                        help="how long each timed load runs: the lag, then the API "
                        "(0 skips both; default 10)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.events, args.seconds))), flush=True)
