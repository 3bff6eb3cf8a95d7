"""Costs as the log grows: the same measurements at 10,000 and at 1,000,000 events.

One realistic history (``read.generate``: programmes, facilitators, cohorts run week by
week with enrolment, waitlists, sessions, attendance, outcomes and consent), appended
through the store in large batches: the first ``--small`` events, then measured; the
rest up to ``--large``, then measured again. At each size:

- ``append_eps``: events/s appended by 64 concurrent appenders (one event each, group
  commit), a fixed number of events so the log barely grows while measured;
- ``load_p99_ms``: loading a cohort aggregate from the store (no in-process cache);
- ``dashboard_p99_ms``: reading a cohort's dashboard from its read model;
- ``catchup_eps``: events/s for the cohort dashboard to catch up from zero over the log.

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
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Server, say, settle  # noqa: E402
from read import append_all, generate  # noqa: E402

from program.projections import checkpoint  # noqa: E402
from program.projections.cohort_dashboard import get_cohorts  # noqa: E402
from program.projections.rebuild import rebuild  # noqa: E402
from program.store.database import create_pool  # noqa: E402
from program.store.eventstore import EventStore  # noqa: E402
from program.store.mapping import create_mapper  # noqa: E402
from program.store.records import NewEvent  # noqa: E402
from program.store.repository import Repository  # noqa: E402
from program.store.schema import migrate  # noqa: E402

APPENDERS = 64
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


async def load_p99(store: EventStore, cohort_ids: list[uuid.UUID], n: int = 2000) -> float:
    repository = Repository(store, create_mapper(), cache_size=0)
    rng = random.Random(1)
    samples = []
    for _ in range(n):
        cid = rng.choice(cohort_ids)
        started = time.perf_counter()
        await repository.get(cid)
        samples.append((time.perf_counter() - started) * 1000)
    return p99(samples)


async def dashboard_p99(pool: Any, cohort_ids: list[uuid.UUID], n: int = 2000) -> float:
    rng = random.Random(2)
    now = datetime.now(UTC)
    samples = []
    for _ in range(n):
        cid = rng.choice(cohort_ids)
        started = time.perf_counter()
        found = await get_cohorts(pool, [cid], now=now)
        samples.append((time.perf_counter() - started) * 1000)
        assert cid in found
    return p99(samples)


async def catchup_rate(pool: Any, store: EventStore) -> float:
    """The cohort dashboard rebuilt from the first event: its catch-up over the whole log."""
    repository = Repository(store, create_mapper())
    head = await store.max_position()
    started = time.perf_counter()
    await rebuild(pool, store, repository, ["cohort_dashboard"])
    seconds = time.perf_counter() - started
    assert await checkpoint.read(pool, "cohort_dashboard") == head
    return head / seconds


async def measure(pool: Any, store: EventStore, label: str, probes: list[uuid.UUID]
                  ) -> dict[str, float]:
    await settle(pool)
    say(f"[{label}] catching the cohort dashboard up from zero…")
    catchup = await catchup_rate(pool, store)
    await settle(pool)  # the rebuild wrote a whole read model
    cohort_ids = probes
    say(f"  {catchup:,.0f} events/s; loading aggregates and dashboards of "
        f"{len(cohort_ids):,} probe cohorts…")
    gc.collect()
    gc.freeze()  # this process's own collector pauses are not the store's latency
    try:
        figures = {
            "catchup_eps": catchup,
            "load_p99_ms": await load_p99(store, cohort_ids),
            "dashboard_p99_ms": await dashboard_p99(pool, cohort_ids),
        }
    finally:
        gc.unfreeze()
    say(f"  load p99 {figures['load_p99_ms']:.2f} ms, dashboard p99 "
        f"{figures['dashboard_p99_ms']:.2f} ms; appending with {APPENDERS} appenders…")
    figures["append_eps"] = await append_rate(store)
    say(f"  {figures['append_eps']:,.0f} events/s")
    return figures


async def main(small: int, large: int) -> dict[str, Any]:
    server = Server()
    try:
        url = await server.database("scale")
        pool = await create_pool(url, min_size=4, max_size=16)
        async with pool.acquire() as conn:
            await migrate(conn)
        store = EventStore(pool)
        await store.start()
        say(f"generating at least {large:,} events with the domain aggregates…")
        started = time.perf_counter()
        probe_events = generate(200, seed=11, programmes=2, per_programme=5)
        probes = sorted({e.originator_id for e in probe_events
                         if e.topic.endswith("Cohort.Planned")})
        events: list[NewEvent] = generate(large - len(probe_events))
        say(f"  {len(events):,} in {time.perf_counter() - started:.0f}s")
        await append_all(store, probe_events, chunk=2000)
        head = small - len(probe_events)
        await append_all(store, events[:head], chunk=2000)
        at_small = await measure(pool, store, f"{await store.max_position():,} events", probes)
        rest = events[head:]
        del events
        say(f"appending {len(rest):,} more…")
        started = time.perf_counter()
        await append_all(store, rest, chunk=5000)
        del rest
        gc.collect()
        say(f"  in {time.perf_counter() - started:.0f}s")
        size_large = await store.max_position()
        at_large = await measure(pool, store, f"{size_large:,} events", probes)
        await store.close()
        await pool.close()
    finally:
        server.close()
    out: dict[str, Any] = {"small_events": small, "large_events": size_large}
    for name in ("append_eps", "load_p99_ms", "dashboard_p99_ms", "catchup_eps"):
        out[f"{name}_small"] = round(at_small[name], 3)
        out[f"{name}_large"] = round(at_large[name], 3)
        out[f"{name}_ratio"] = round(at_large[name] / at_small[name], 3)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=10_000, help="first size (default 10,000)")
    parser.add_argument("--large", type=int, default=1_000_000,
                        help="second size (default 1,000,000)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.small, args.large))), flush=True)
