"""Costs as the log grows: the same measurements at 10,000 and at 1,000,000 events.

Realistic histories (``read.generate``: programmes, facilitators, cohorts run week by
week with enrolment, waitlists, sessions, attendance, outcomes and consent), appended
through the store in large batches: ``--small`` events into one database, and a copy of
it grown to ``--large`` events. Both histories have one shape (six programmes running five
cohorts each side by side, wave after wave), so that the two logs differ in length only. The
two are then measured in turn, round after round (``--rounds``), and each figure is the
median of its rounds, so that a pause of the machine lands in one round of one size
rather than in a ratio; the latencies are taken at both sizes request by request in
turn, for the same reason. At each size:

- ``append_eps``: events/s appended by 64 concurrent appenders (one event each, group
  commit) for a few seconds, into a copy of that database dropped afterwards (the log
  measured keeps its size whatever the rounds append), after two seconds of the same
  (``append_to_copy`` says why);
- ``load_p99_ms``: loading a cohort aggregate from the store (no in-process cache);
- ``dashboard_p99_ms``: reading a cohort's dashboard from its read model;
- ``catchup_eps``: events/s for the cohort dashboard to catch up from zero over the log
  (rebuilt again and again for at least two seconds: a small log takes a tenth of one).

Loads and dashboards are of the same probe cohorts at both sizes: ten cohorts run from
planning to completion, appended first, so their streams and rows are the same and only
the log around them (and how long ago they were written) differs.

Prints progress on stderr and one JSON line on stdout: each figure at both sizes and
the ratio large/small. Targets: throughput ratios >= 0.8, p99 ratios <= 1.25. It takes
several minutes; it is not part of ``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Server, say, settle  # noqa: E402
from read import append_all, generate  # noqa: E402

from program.projections import checkpoint  # noqa: E402
from program.projections.cohort_dashboard import get_cohorts  # noqa: E402
from program.projections.rebuild import rebuild  # noqa: E402
from program.store.database import (  # noqa: E402
    create_database,
    create_pool,
    drop_database,
    with_database,
)
from program.store.eventstore import EventStore  # noqa: E402
from program.store.mapping import create_mapper  # noqa: E402
from program.store.records import NewEvent  # noqa: E402
from program.store.repository import Repository  # noqa: E402
from program.store.schema import migrate  # noqa: E402

APPENDERS = 64
SHAPE = {"programmes": 6, "per_programme": 5}  # of both histories: 30 cohorts at a time
STATE = b'{"name":"Hope","description":"weekly peer support group","capacity":12}'


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


async def append_rate(store: EventStore, seconds: float = 3.0) -> float:
    """64 appenders, one new aggregate's event per append, for ``seconds`` (a few tens of
    thousands of events: the log barely grows, and a pause of the machine's does not
    decide the figure as it did over the fifth of a second 6,400 events took)."""
    meta = {"actor": "bench", "role": "ADMIN", "correlation_id": str(uuid.uuid4())}
    appended = [0]
    deadline = time.perf_counter() + seconds

    async def appender() -> None:
        while time.perf_counter() < deadline:
            await store.append([NewEvent(uuid.uuid4(), 1, "bench:Happened", STATE, meta)])
            appended[0] += 1

    started = time.perf_counter()
    await asyncio.gather(*(appender() for _ in range(APPENDERS)))
    return appended[0] / (time.perf_counter() - started)


async def latency_p99s(urls: dict[str, str], probes: list[uuid.UUID], n: int = 3000
                       ) -> dict[str, dict[str, float]]:
    """Per size: ``load_p99_ms`` (a probe cohort's aggregate from the store, no in-process
    cache) and ``dashboard_p99_ms`` (its dashboard from the read model). The sizes are
    asked in turn, request by request (which goes first alternating), so a hiccup of the
    machine falls on both alike: at a fifth of a millisecond a dashboard's p99 is decided
    by a few dozen waits, and rounds measured one size after the other read anywhere from
    0.16 to 0.28 ms at either size."""
    pools = {label: await create_pool(url, min_size=2, max_size=4) for label, url in urls.items()}
    stores = {label: EventStore(pool) for label, pool in pools.items()}
    try:
        for label, pool in pools.items():
            await stores[label].start()
            await settle(pool)
        repositories = {label: Repository(store, create_mapper(), cache_size=0)
                        for label, store in stores.items()}
        labels = list(urls)
        now = datetime.now(UTC)
        loads: dict[str, list[float]] = {label: [] for label in labels}
        dashboards: dict[str, list[float]] = {label: [] for label in labels}
        rng = random.Random(1)
        gc.collect()
        gc.freeze()  # this process's own collector pauses are not the store's latency
        try:
            for i in range(n):
                cid = rng.choice(probes)
                for label in (labels if i % 2 == 0 else labels[::-1]):
                    started = time.perf_counter()
                    await repositories[label].get(cid)
                    loads[label].append((time.perf_counter() - started) * 1000)
            for i in range(n):
                cid = rng.choice(probes)
                for label in (labels if i % 2 == 0 else labels[::-1]):
                    started = time.perf_counter()
                    found = await get_cohorts(pools[label], [cid], now=now)
                    dashboards[label].append((time.perf_counter() - started) * 1000)
                    assert cid in found
        finally:
            gc.unfreeze()
    finally:
        for label in urls:
            await stores[label].close()
            await pools[label].close()
    return {label: {"load_p99_ms": p99(loads[label]), "dashboard_p99_ms": p99(dashboards[label])}
            for label in labels}


async def catchup_rate(pool: Any, store: EventStore, at_least: float = 2.0) -> float:
    """The cohort dashboard rebuilt from the first event: its catch-up over the whole log,
    done again until ``at_least`` seconds have passed (a small log takes a tenth of one,
    too short a time to measure alone)."""
    repository = Repository(store, create_mapper())
    head = await store.max_position()
    done, started = 0, time.perf_counter()
    while done == 0 or time.perf_counter() - started < at_least:
        await rebuild(pool, store, repository, ["cohort_dashboard"])
        assert await checkpoint.read(pool, "cohort_dashboard") == head
        done += head
    return done / (time.perf_counter() - started)


async def measure(url: str) -> dict[str, float]:
    """One round of the throughput figures on the database at ``url``."""
    pool = await create_pool(url, min_size=4, max_size=16)
    store = EventStore(pool)
    await store.start()
    try:
        await settle(pool)
        figures = {"catchup_eps": await catchup_rate(pool, store)}
    finally:
        await store.close()
        await pool.close()
    figures["append_eps"] = await append_to_copy(url)
    return figures


async def append_to_copy(url: str) -> float:
    """``append_rate`` on a copy of the database, dropped afterwards: the log measured
    keeps its size however many rounds append to it."""
    source = urlsplit(url).path.lstrip("/")
    copy = await copy_database(url, source, f"{source}_append")
    pool = await create_pool(copy, min_size=4, max_size=16)
    store = EventStore(pool)
    await store.start()
    try:
        await settle(pool)
        # Settling ends with a checkpoint, after which the first write to each index page
        # logs the whole page. Appends to a large log each touch a different page of the
        # primary key, so for its first seconds the 1M log wrote 2.7-2.9 KB of WAL per
        # event against 0.57 KB afterwards (0.54-0.57 at 10k throughout). A server pays that
        # once per checkpoint interval (minutes), not on every append: measured after it.
        await append_rate(store, seconds=2.0)
        return await append_rate(store)
    finally:
        await store.close()
        await pool.close()
        await drop_database(with_database(url, "postgres"), f"{source}_append")


async def copy_database(url: str, source: str, name: str) -> str:
    return await create_database(with_database(url, "postgres"), name, template=source)


async def append_log(url: str, events: list[NewEvent], chunk: int) -> int:
    pool = await create_pool(url, min_size=4, max_size=16)
    store = EventStore(pool)
    await store.start()
    try:
        await append_all(store, events, chunk=chunk)
        return await store.max_position()
    finally:
        await store.close()
        await pool.close()


async def main(small: int, large: int, rounds: int) -> dict[str, Any]:
    server = Server()
    try:
        small_url = await server.database("scale_small")
        pool = await create_pool(small_url, min_size=1, max_size=2)
        async with pool.acquire() as conn:
            await migrate(conn)
        await pool.close()
        say(f"generating at least {large:,} events with the domain aggregates…")
        started = time.perf_counter()
        probe_events = generate(200, seed=11, programmes=2, per_programme=5)
        probes = sorted({e.originator_id for e in probe_events
                         if e.topic.endswith("Cohort.Planned")})
        head = small - len(probe_events)
        if head < 0:
            raise SystemExit(f"--small must be at least {len(probe_events):,}: the probe "
                             "cohorts' own history is that long")
        # Both logs are histories of one shape (programmes running cohorts side by side,
        # wave after wave), so the sizes differ in length only: the first ten thousand
        # events of a longer history would be mostly people and facilitators being
        # registered, and a projection catching up over 120 cohorts at once writes more
        # rows per event than over one: either would be measured as the log's size.
        size_small = await append_log(small_url, probe_events + generate(
            head, seed=12, **SHAPE), 2000)
        events: list[NewEvent] = generate(large - size_small, **SHAPE)
        say(f"  {len(events):,} in {time.perf_counter() - started:.0f}s")
        # The large log is the small one grown: the same probes, written as long ago.
        large_url = await copy_database(small_url, "scale_small", "scale_large")
        say(f"appending {len(events):,} more to a copy…")
        started = time.perf_counter()
        size_large = await append_log(large_url, events, 5000)
        del events
        gc.collect()
        say(f"  in {time.perf_counter() - started:.0f}s")
        # Both sizes measured in turn, round after round, and each figure taken as the
        # median of its rounds: a pause of the machine lands in one round of one size,
        # not in the ratio.
        at: dict[str, list[dict[str, float]]] = {"small": [], "large": []}
        for r in range(rounds):
            for label, url, size in (("small", small_url, size_small),
                                     ("large", large_url, size_large)):
                say(f"round {r + 1}/{rounds}, {size:,} events: catch-up, appending to a copy…")
                figures = await measure(url)
                say("  " + ", ".join(f"{k} {v:,.2f}" for k, v in figures.items()))
                at[label].append(figures)
            say(f"round {r + 1}/{rounds}: {len(probes)} probe cohorts' aggregates and "
                "dashboards at both sizes, request by request in turn…")
            latencies = await latency_p99s({"small": small_url, "large": large_url}, probes)
            for label, figures in latencies.items():
                say(f"  {label}: " + ", ".join(f"{k} {v:,.3f}" for k, v in figures.items()))
                at[label][-1].update(figures)
    finally:
        server.close()
    out: dict[str, Any] = {"small_events": size_small, "large_events": size_large,
                           "rounds": rounds}
    for name in ("append_eps", "load_p99_ms", "dashboard_p99_ms", "catchup_eps"):
        small_value = statistics.median(f[name] for f in at["small"])
        large_value = statistics.median(f[name] for f in at["large"])
        out[f"{name}_small"] = round(small_value, 3)
        out[f"{name}_large"] = round(large_value, 3)
        out[f"{name}_ratio"] = round(large_value / small_value, 3)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=10_000, help="first size (default 10,000)")
    parser.add_argument("--large", type=int, default=1_000_000,
                        help="second size (default 1,000,000)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of both sizes measured in turn; each figure is the "
                             "median of its rounds (default 3)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.small, args.large, args.rounds))), flush=True)
