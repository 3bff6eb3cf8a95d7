"""Operations over real HTTP: health, readiness, metrics, request ids and access logs."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
import pytest_asyncio
import uvicorn

from program.api.app import create_app
from program.application.context import Actor, CommandContext
from program.bootstrap import Services, open_services
from program.settings import Settings
from program.store.database import Database, create_database, drop_database
from program.store.schema import SCHEMA_VERSION

JWT_SECRET = "ops-test-secret-" + "x" * 40


@pytest_asyncio.fixture(scope="module")
async def services(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Services]:
    """This module's services, without projections: it checks the platform, not read models."""
    settings = Settings(
        database_url=db_url, data_dir=Path(tmp_path_factory.mktemp("data")), jwt_secret=JWT_SECRET
    )
    s = await open_services(settings, database=Database(url=db_url), run_projections=False)
    yield s
    await s.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def serving(settings: Settings, services: Services | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """An app of its own over HTTP, for cases the shared one cannot show."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(
        create_app(settings, services=services), host="127.0.0.1", port=port,
        log_level="warning", lifespan="on",
    ))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield client
    finally:
        server.should_exit = True
        await task


def _metric(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text format, or None when absent."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)", line)
        if not match or match[1] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match[2] or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match[3])
    return None


async def test_health_answers_while_the_process_lives(http: httpx.AsyncClient) -> None:
    response = await http.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_database_reachable_and_schema_current(http: httpx.AsyncClient) -> None:
    response = await http.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "schema": SCHEMA_VERSION,
                               "stuck_projections": []}


async def test_ready_is_503_while_the_schema_is_behind(http: httpx.AsyncClient, services: Services) -> None:
    async with services.pool.acquire() as conn:
        row = await conn.fetchrow(
            "DELETE FROM schema_migrations WHERE version = $1 RETURNING version, name, applied_at",
            SCHEMA_VERSION,
        )
        try:
            response = await http.get("/ready")
        finally:
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", *row
            )
    assert response.status_code == 503
    assert response.json()["status"] == "schema not current"
    assert response.json()["expected"] == SCHEMA_VERSION
    assert (await http.get("/ready")).status_code == 200


async def test_ready_is_503_and_health_200_when_the_database_is_on_a_closed_port(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"postgresql://postgres@127.0.0.1:{_free_port()}/nowhere",
        data_dir=tmp_path, jwt_secret=JWT_SECRET,
    )
    async with serving(settings) as client:
        assert (await client.get("/health")).status_code == 200
        ready = await client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["status"] == "starting"
        metrics = (await client.get("/metrics")).text
        assert _metric(metrics, "program_database_up") == 0


async def test_ready_turns_503_when_a_running_database_goes_away(
    server_url: str, tmp_path: Path
) -> None:
    url = await create_database(server_url, "t_platform_ops_gone")
    settings = Settings(database_url=url, data_dir=tmp_path, jwt_secret=JWT_SECRET)
    services = await open_services(settings, database=Database(url=url), run_projections=False)
    try:
        async with serving(settings, services) as client:
            assert (await client.get("/ready")).status_code == 200
            conn = await asyncpg.connect(server_url)
            try:
                await conn.execute('DROP DATABASE "t_platform_ops_gone" WITH (FORCE)')
            finally:
                await conn.close()
            response = await client.get("/ready")
            assert response.status_code == 503
            assert response.json()["status"] == "database unreachable"
            assert (await client.get("/health")).status_code == 200
    finally:
        await services.close()
        await drop_database(server_url, "t_platform_ops_gone")  # even when the test failed


async def test_request_id_is_echoed_or_generated(http: httpx.AsyncClient) -> None:
    echoed = await http.get("/health", headers={"X-Request-ID": "req-42.a:b"})
    assert echoed.headers["x-request-id"] == "req-42.a:b"
    generated = await http.get("/health")
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["x-request-id"])
    for unsafe in ("has spaces in it", "x" * 200, "a\tb"):
        replaced = await http.get("/health", headers={"X-Request-ID": unsafe})
        assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])
    missing = await http.get("/no/such/route", headers={"X-Request-ID": "lost-1"})
    assert missing.status_code == 404
    assert missing.headers["x-request-id"] == "lost-1"


async def test_metrics_count_requests_by_route_and_track_the_log_head(
    http: httpx.AsyncClient, services: Services
) -> None:
    await http.get("/health")
    await http.get("/no/such/route/4f0c")
    ctx = CommandContext(Actor.system("ops-test"))
    result = await services.application.create_programme(ctx, name="Metrics check")
    head = await services.store.max_position()
    assert head >= result.position

    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert _metric(text, "program_http_requests_total", method="GET", route="/health", status="200") >= 1
    assert _metric(text, "program_http_requests_total", method="GET", route="<unmatched>", status="404") >= 1
    assert _metric(text, "program_http_request_duration_seconds_count", method="GET", route="/health") >= 1
    assert _metric(text, "program_event_log_head_position") == head
    assert _metric(text, "program_events_appended_total") == head
    assert _metric(text, "program_database_up") == 1
    assert _metric(text, "program_db_pool_connections") >= 1
    # Raw paths never become labels: only templates and the one bucket for 404s.
    assert "4f0c" not in text


def _server_lines(err: str) -> str:
    """Log lines of the server side; the test's own HTTP client logs its URLs too."""
    return "\n".join(line for line in err.splitlines() if "[httpx]" not in line)


async def test_access_log_names_the_route_not_the_query_or_headers(
    http: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    await http.get(
        "/health?email=jane.doe%40example.org",
        headers={"X-Request-ID": "log-check-1", "Authorization": "Bearer secret-token-value"},
    )
    await asyncio.sleep(0.05)
    err = _server_lines(capsys.readouterr().err)
    assert "jane.doe" not in err and "secret-token-value" not in err
    await http.get("/no/such/jane.doe@example.org", headers={"X-Request-ID": "log-check-2"})
    await asyncio.sleep(0.05)
    err = _server_lines(capsys.readouterr().err)
    assert "log-check-2" in err and "<unmatched>" in err
    assert "jane.doe" not in err


async def test_json_logs_are_one_object_per_line_with_the_request_id(
    http: httpx.AsyncClient, services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from program.api.observability import configure_logging

    configure_logging(services.settings.with_(log_json=True))
    try:
        capsys.readouterr()
        await http.get("/no/such/thing", headers={"X-Request-ID": "json-log-1"})
        await asyncio.sleep(0.05)
        lines = [json.loads(line) for line in _server_lines(capsys.readouterr().err).splitlines() if line]
    finally:
        configure_logging(services.settings)
    access = [entry for entry in lines if entry.get("request_id") == "json-log-1"]
    assert len(access) == 1
    assert access[0]["event"] == "request" and access[0]["route"] == "<unmatched>"
    assert access[0]["status"] == 404 and access[0]["level"] == "info"
    assert {"timestamp", "duration_ms", "method", "logger"} <= set(access[0])
