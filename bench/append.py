"""Append throughput: raw asyncpg baselines, the eventsourcing library, our store, full commands.

Prints progress on stderr and one JSON line of figures at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import asyncpg  # noqa: E402
from _common import Server, libpq_parts, run_for, say  # noqa: E402

from program.application.context import Actor, CommandContext  # noqa: E402
from program.application.services import Application  # noqa: E402
from program.store.database import create_pool  # noqa: E402
from program.store.eventstore import EventStore  # noqa: E402
from program.store.keys import KeyStore  # noqa: E402
from program.store.mapping import create_mapper  # noqa: E402
from program.store.records import NewEvent  # noqa: E402
from program.store.repository import Repository  # noqa: E402
from program.store.schema import migrate  # noqa: E402

STATE = b'{"name":"Hope","description":"weekly peer support group","capacity":12}'
RAW_TABLE = """CREATE TABLE raw_events (originator_id uuid, originator_version bigint,
    topic text, state bytea, notification_id bigint, PRIMARY KEY (originator_id, originator_version))"""


async def raw_lock_single(url: str, seconds: float) -> float:
    """One insert per transaction under the table lock, 64 concurrent connections."""
    pool = await asyncpg.create_pool(url, min_size=64, max_size=64)
    async with pool.acquire() as c:
        await c.execute(RAW_TABLE)

    async def step(_: int) -> int:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("LOCK TABLE raw_events IN EXCLUSIVE MODE")
            last = await conn.fetchval("SELECT coalesce(max(notification_id), 0) FROM raw_events")
            await conn.execute(
                "INSERT INTO raw_events VALUES ($1, 1, 'bench:Happened', $2, $3)",
                uuid.uuid4(), STATE, last + 1,
            )
        return 1

    n, elapsed = await run_for(seconds, 64, step)
    await pool.close()
    return n / elapsed


async def raw_batch64(url: str, seconds: float) -> float:
    """64 rows per transaction under the table lock, one statement per batch."""
    pool = await asyncpg.create_pool(url, min_size=4, max_size=4)
    async with pool.acquire() as c:
        await c.execute(RAW_TABLE.replace("raw_events", "raw_batch"))

    async def step(_: int) -> int:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("LOCK TABLE raw_batch IN EXCLUSIVE MODE")
            last = await conn.fetchval("SELECT coalesce(max(notification_id), 0) FROM raw_batch")
            await conn.execute(
                "INSERT INTO raw_batch SELECT i, 1, 'bench:Happened', s, n FROM "
                "unnest($1::uuid[], $2::bytea[], $3::bigint[]) AS x(i, s, n)",
                [uuid.uuid4() for _ in range(64)], [STATE] * 64,
                list(range(last + 1, last + 65)),
            )
        return 64

    n, elapsed = await run_for(seconds, 4, step)
    await pool.close()
    return n / elapsed


def eventsourcing_library(url: str, seconds: float) -> float:
    """The library's own PostgreSQL recorder, default settings, 16 threads, one new aggregate per save."""
    from eventsourcing.application import Application as LibraryApplication
    from eventsourcing.domain import Aggregate

    class Thing(Aggregate):
        def __init__(self, name: str) -> None:
            self.name = name

    parts = libpq_parts(url)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(parts["dbname"]),
        "POSTGRES_HOST": str(parts["host"]),
        "POSTGRES_PORT": str(parts["port"]),
        "POSTGRES_USER": str(parts["user"]),
        "POSTGRES_PASSWORD": str(parts["password"]),
    }
    app = LibraryApplication(env=env)
    deadline = time.perf_counter() + seconds
    counts = [0] * 16

    def work(i: int) -> None:
        while time.perf_counter() < deadline:
            app.save(Thing(name="hope"))
            counts[i] += 1

    start = time.perf_counter()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    app.close()
    return sum(counts) / elapsed


async def program_store(url: str, seconds: float) -> float:
    """Our store: 64 concurrent appenders, one event per append, group-committed."""
    pool = await create_pool(url, min_size=4, max_size=8)
    async with pool.acquire() as c:
        await migrate(c)
    store = EventStore(pool)
    await store.start()
    meta = {"actor": "bench", "role": "ADMIN", "correlation_id": str(uuid.uuid4())}

    async def step(_: int) -> int:
        await store.append([NewEvent(uuid.uuid4(), 1, "bench:Happened", STATE, meta)])
        return 1

    n, elapsed = await run_for(seconds, 64, step)
    await store.close()
    await pool.close()
    return n / elapsed


async def program_commands(url: str, seconds: float) -> float:
    """64 clients running full commands through the application service, distinct aggregates."""
    pool = await create_pool(url, min_size=4, max_size=8)
    async with pool.acquire() as c:
        await migrate(c)
    store = EventStore(pool)
    await store.start()
    app = Application(Repository(store, create_mapper()), KeyStore(pool))
    ctx = CommandContext(Actor.system("bench"))
    until = date.today() + timedelta(days=365)
    kinds = ["PEER_SUPPORT_TRAINING", "SAFEGUARDING", "BACKGROUND_CHECK"]

    async def step(i: int) -> int:
        # A facilitator's onboarding: register, three credentials, activate.
        result = await app.register_facilitator(ctx, f"Volunteer {i}", f"v{i}@example.org", 3)
        fid = result["facilitator_id"]
        for kind in kinds:
            await app.record_facilitator_credential(ctx, fid, kind, until)
        await app.activate_facilitator(ctx, fid)
        return 5

    n, elapsed = await run_for(seconds, 64, step)
    await store.close()
    await pool.close()
    return n / elapsed


async def main(seconds: float) -> dict[str, float]:
    server = Server()
    figures: dict[str, float] = {}
    try:
        say("raw asyncpg, one insert per transaction under the lock, 64 concurrent…")
        figures["raw_lock_single_eps"] = await raw_lock_single(await server.database("raw1"), seconds)
        say("raw asyncpg, 64 rows per transaction under the lock…")
        figures["raw_batch64_eps"] = await raw_batch64(await server.database("raw64"), seconds)
        say("eventsourcing library recorder, 16 threads…")
        lib_url = await server.database("library")
        figures["eventsourcing_eps"] = await asyncio.to_thread(eventsourcing_library, lib_url, seconds)
        say("program store, 64 concurrent appenders…")
        figures["program_store_eps"] = await program_store(await server.database("store"), seconds)
        say("program commands, 64 concurrent clients…")
        figures["program_command_cps"] = await program_commands(await server.database("cmds"), seconds)
    finally:
        server.close()
    figures["ratio_vs_eventsourcing"] = figures["program_store_eps"] / figures["eventsourcing_eps"]
    figures["ratio_vs_raw_batch"] = figures["program_store_eps"] / figures["raw_batch64_eps"]
    return {k: round(v, 2) for k, v in figures.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", 8)),
                        help="how long each measurement runs (default 8)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.seconds))), flush=True)
