"""End-to-end fixtures: the real app served by uvicorn on a loopback port, and tokens."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn

from program.api.app import create_app
from program.api.auth import mint_token
from program.api.graphql import compiled
from program.api.graphql.compiled import Shadow
from program.bootstrap import Services, open_services
from program.settings import Settings
from program.store.database import Database

JWT_SECRET = "test-secret-" + "x" * 40


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest_asyncio.fixture(scope="module")
async def services(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Services]:
    settings = Settings(
        database_url=db_url,
        data_dir=Path(tmp_path_factory.mktemp("data")),
        jwt_secret=JWT_SECRET,
    )
    s = await open_services(settings, database=Database(url=db_url), run_projections=True)
    yield s
    await s.close()


@pytest_asyncio.fixture(scope="module")
async def base_url(services: Services) -> AsyncIterator[str]:
    """The app over real HTTP on 127.0.0.1, sharing the module's services."""
    port = _free_port()
    app = create_app(services.settings, services=services)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest_asyncio.fixture(scope="module")
async def http(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def token() -> Callable[..., str]:
    """Mint a token: ``token("PROGRAMME_MANAGER", programme_ids=[pid], subject="pm")``."""

    def make(role: str, subject: str | None = None, **claims: Any) -> str:
        return mint_token(JWT_SECRET, role=role, subject=subject or role.lower(), **claims)

    return make


@pytest.fixture(scope="session", autouse=True)
def compiled_shadow() -> Iterator[Shadow]:
    """Every query any e2e test sends that a compiled plan answers is answered again by
    Strawberry's normal execution and compared byte for byte (``compiled.Shadow``); new
    tests are covered without listing their queries. ``test_graphql_compiled`` asserts
    on what was collected."""
    shadow = compiled.shadow = Shadow()
    yield shadow
    compiled.shadow = None


@pytest.fixture(autouse=True)
def no_compiled_mismatch(compiled_shadow: Shadow, request: pytest.FixtureRequest) -> Iterator[None]:
    """A test fails when a query it sent was answered differently by the two paths.
    A test that counts the statements a query runs is marked ``single_execution``."""
    if request.node.get_closest_marker("single_execution"):
        compiled.shadow = None
        yield
        compiled.shadow = compiled_shadow
        return
    before = len(compiled_shadow.mismatches or [])
    yield
    new = (compiled_shadow.mismatches or [])[before:]
    assert not new, "compiled plan and Strawberry answered differently:\n" + "\n".join(
        f"{m.query!r} {m.variables!r}\n  compiled:   {m.compiled!r}\n  strawberry: {m.strawberry!r}"
        for m in new)
