"""The transparency log's costs: appends with and without the Merkle tree, proof latency
over a log of a million events, and the offline verifier's speed.

Prints progress on stderr and one JSON line of figures at the end:
``append_eps_with_tree``, ``append_eps_without_tree``, ``tree_ratio`` (64 concurrent
appenders, alternating rounds so both see the same machine), ``inclusion_proof_p99_ms``
and ``consistency_proof_p99_ms`` (served by the checkpoint log from PostgreSQL, at
``--events`` events), ``verify_proofs_per_s`` (parse + signature + inclusion, offline).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Server, run_for, say  # noqa: E402

from program.store.checkpoints import CheckpointLog  # noqa: E402
from program.store.database import create_pool  # noqa: E402
from program.store.eventstore import EventStore  # noqa: E402
from program.store.records import NewEvent  # noqa: E402
from program.store.schema import migrate  # noqa: E402
from program.transparency.checkpoint import InclusionProof  # noqa: E402
from program.transparency.note import Signer  # noqa: E402

STATE = b'{"name":"Hope","description":"weekly peer support group","capacity":12}'
META = {"actor": "bench", "role": "ADMIN", "correlation_id": "c" * 36}


def _event() -> NewEvent:
    return NewEvent(uuid.uuid4(), 1, "bench:Happened", STATE, META)


async def _pool(url: str):  # type: ignore[no-untyped-def]
    pool = await create_pool(url, min_size=4, max_size=8)
    async with pool.acquire() as conn:
        await migrate(conn)
    return pool


async def append_rate(url: str, seconds: float, with_tree: bool) -> float:
    pool = await _pool(url)
    store = EventStore(pool, merkle_tree=with_tree)
    await store.start()

    async def step(_: int) -> int:
        await store.append([_event()])
        return 1

    try:
        n, elapsed = await run_for(seconds, 64, step)
    finally:
        await store.close()
        await pool.close()
    return n / elapsed


async def fill(url: str, events: int) -> None:
    """Append ``events`` events (100 per append, 16 appenders) with the tree on."""
    pool = await _pool(url)
    store = EventStore(pool)
    await store.start()
    done, started, last_report = 0, time.perf_counter(), 0.0

    async def worker() -> None:
        nonlocal done, last_report
        while done < events:
            batch = min(100, events - done)
            done += batch
            await store.append([_event() for _ in range(batch)])
            now = time.perf_counter()
            if now - last_report > 5:
                last_report = now
                say(f"  filled {done:,} / {events:,} ({done / (now - started):,.0f} events/s)")

    try:
        await asyncio.gather(*(worker() for _ in range(16)))
    finally:
        await store.close()
        await pool.close()


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98] * 1000


def p50(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def proof_latency(url: str, samples: int) -> tuple[dict[str, float], list[str], Signer]:
    pool = await _pool(url)
    signer = Signer.generate("bench.program.example/ledger")
    ledger = CheckpointLog(pool, signer)
    head = (await ledger.issue()).size
    inclusion, consistency, files = [], [], []
    try:
        for _ in range(samples):
            position = random.randint(1, head)
            t = time.perf_counter()
            proof, _leaf = await ledger.inclusion_proof(position)
            inclusion.append(time.perf_counter() - t)
            if len(files) < 2000:
                files.append(proof.format())
            old = random.randint(1, head)
            t = time.perf_counter()
            await ledger.consistency_proof(old, head)
            consistency.append(time.perf_counter() - t)
    finally:
        await pool.close()
    figures = {
        "inclusion_proof_p50_ms": round(p50(inclusion), 3), "inclusion_proof_p99_ms": round(p99(inclusion), 3),
        "consistency_proof_p50_ms": round(p50(consistency), 3),
        "consistency_proof_p99_ms": round(p99(consistency), 3),
    }
    return figures, files, signer


def verify_rate(files: list[str], signer: Signer) -> float:
    verifier = signer.verifier
    started = time.perf_counter()
    for text in files:
        proof = InclusionProof.parse(text)
        assert proof.extra is not None
        proof.verify(verifier, proof.extra)
    return len(files) / (time.perf_counter() - started)


async def main(args: argparse.Namespace) -> dict[str, float]:
    server = Server()
    figures: dict[str, float] = {}
    try:
        with_tree, without = [], []
        for round_ in range(args.rounds):
            say(f"append round {round_ + 1}/{args.rounds}: with and without the tree")
            with_tree.append(await append_rate(await server.database(f"with_{round_}"), args.seconds, True))
            without.append(await append_rate(await server.database(f"without_{round_}"), args.seconds, False))
        figures["append_eps_with_tree"] = round(statistics.median(with_tree), 1)
        figures["append_eps_without_tree"] = round(statistics.median(without), 1)
        figures["tree_ratio"] = round(figures["append_eps_with_tree"] / figures["append_eps_without_tree"], 3)
        url = await server.database("big")
        say(f"filling a log of {args.events:,} events")
        await fill(url, args.events)
        say(f"{args.samples} inclusion and consistency proofs")
        latency, files, signer = await proof_latency(url, args.samples)
        figures["events"] = args.events
        figures.update(latency)
        figures["verify_proofs_per_s"] = round(verify_rate(files, signer), 1)
    finally:
        server.close()
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per append round (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="append rounds of each kind (default 3)")
    parser.add_argument("--events", type=int, default=1_000_000, help="log size for the proofs (default 1,000,000)")
    parser.add_argument("--samples", type=int, default=2000, help="proofs of each kind to time (default 2000)")
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
