"""Shared fixtures: one embedded PostgreSQL per test session, one database per test module."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from program.store.database import (
    EmbeddedPostgres,
    create_database,
    create_pool,
    drop_database,
)
from program.store.eventstore import EventStore
from program.store.schema import migrate


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("PROGRAM_TEST_DATABASE_URL")
    if external:
        yield external
        return
    server = EmbeddedPostgres(Path(tmp_path_factory.mktemp("pg")) / "pgdata")
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


EXTERNAL = bool(os.environ.get("PROGRAM_TEST_DATABASE_URL"))


@pytest_asyncio.fixture(scope="module")
async def db_url(server_url: str, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A fresh, migrated database for this test module only. On a server of one's own
    (``PROGRAM_TEST_DATABASE_URL``) it is dropped again after the module, passed or failed,
    and named after this run's process so two runs do not meet."""
    module = re.sub(r"\W", "_", request.module.__name__.rsplit(".", 1)[-1]).lower()
    name = (f"t{os.getpid()}_{module}" if EXTERNAL else f"t_{module}")[:60]
    url = await create_database(server_url, name)
    try:
        conn = await asyncpg.connect(url)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        yield url
    finally:
        if EXTERNAL:
            await drop_database(server_url, name)


@pytest_asyncio.fixture(scope="module")
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(db_url, min_size=2, max_size=40)
    yield p
    await p.close()


@pytest_asyncio.fixture(scope="module")
async def store(pool: asyncpg.Pool) -> AsyncIterator[EventStore]:
    s = EventStore(pool)
    await s.start()
    yield s
    await s.close()
