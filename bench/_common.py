"""Shared bench helpers: an embedded server in a temp folder, progress on stderr, timing."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from program.store.database import EmbeddedPostgres, create_database


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def settle(pool: Any) -> None:
    """A steady state to measure in: every table vacuumed and analysed (as autovacuum
    would get round to) and dirty pages written out (as the checkpointer would), so
    nothing is measured while the server tidies up after a bulk load."""
    await pool.execute("VACUUM ANALYZE")
    await pool.execute("CHECKPOINT")


class Server:
    """An embedded PostgreSQL for one bench run, removed afterwards."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="program-bench-")
        self.embedded = EmbeddedPostgres(Path(self._tmp.name) / "pgdata")
        self.url = self.embedded.start()

    async def database(self, name: str) -> str:
        return await create_database(self.url, name)

    def close(self) -> None:
        self.embedded.stop()
        self._tmp.cleanup()


def libpq_parts(url: str) -> dict[str, str | int]:
    parts = urlsplit(url)
    host = parse_qs(parts.query).get("host", [parts.hostname or "localhost"])[0]
    return {
        "dbname": parts.path.lstrip("/"),
        "host": host,
        "port": parts.port or 5432,
        "user": parts.username or "postgres",
        "password": parts.password or "",
    }


async def run_for(
    seconds: float, workers: int, step: Callable[[int], Awaitable[int]]
) -> tuple[int, float]:
    """Run ``step(worker)`` in ``workers`` tasks until time is up; returns (units, elapsed)."""
    deadline = time.perf_counter() + seconds
    counts = [0] * workers

    async def loop(i: int) -> None:
        while time.perf_counter() < deadline:
            counts[i] += await step(i)

    start = time.perf_counter()
    await asyncio.gather(*(loop(i) for i in range(workers)))
    return sum(counts), time.perf_counter() - start
