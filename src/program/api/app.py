"""The one app factory: ``create_app(settings)`` builds the Litestar application."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import structlog
from litestar import Litestar, MediaType, get
from litestar.datastructures import State
from litestar.response import Response

from program.api.allocator import fix_mmap_threshold
from program.api.auth import resolve_secret
from program.api.exports import export_route_handlers
from program.api.feeds import feed_route_handlers
from program.api.graphql import cache as graphql_cache
from program.api.graphql import graphql_route_handlers
from program.api.graphql.asgi_post import GraphQLPost
from program.api.graphql.schema import schema
from program.api.ledger import ledger_route_handlers
from program.api.logs import quiet_loop_errors
from program.api.observability import (
    METRICS_CONTENT_TYPE,
    Metrics,
    RequestObservability,
    configure_logging,
)
from program.bootstrap import Services, open_services
from program.projections import failures, lag_report
from program.settings import Settings
from program.store.schema import EVENTS_TABLE, SCHEMA_VERSION, current_version

log = structlog.get_logger(__name__)

# While an external database is unreachable at start-up the app keeps serving /health
# (and 503 on /ready) and retries with backoff, so a container starting before its
# database does not crash-loop.
_RETRY_FIRST, _RETRY_MAX, _OPEN_TIMEOUT = 0.5, 10.0, 15.0
_TRANSIENT = (OSError, asyncio.TimeoutError, asyncpg.CannotConnectNowError,
              asyncpg.PostgresConnectionError, asyncpg.InvalidCatalogNameError,
              asyncpg.TooManyConnectionsError)


@get("/health", sync_to_thread=False)
def health() -> dict[str, str]:
    """Liveness: answers while the process lives."""
    return {"status": "ok"}


@get("/ready")
async def ready(state: State) -> Response[dict[str, object]]:
    """Readiness: 200 only when the database answers and the schema is current.

    A projection stuck on an event it cannot apply is reported (``stuck_projections``)
    but leaves this 200: its read model still serves what it has, and every replica
    reads the same log, so a 503 would take them all out of service together and fix
    nothing. Alert on ``program_projection_stuck`` instead.
    """
    services: Services | None = state.get("services")
    if services is None:
        return Response({"status": "starting", **state.get("startup_error", {})}, status_code=503)
    try:
        async with services.pool.acquire(timeout=2) as conn:
            version = await asyncio.wait_for(current_version(conn), 2)
    except Exception as exc:  # any failure to reach the database means not ready
        return Response({"status": "database unreachable", "error": type(exc).__name__}, status_code=503)
    if version != SCHEMA_VERSION:
        return Response(
            {"status": "schema not current", "schema": version, "expected": SCHEMA_VERSION},
            status_code=503,
        )
    stuck = await _stuck_projections(services)
    return Response({"status": "ready", "schema": version, "stuck_projections": stuck},
                    status_code=200)


async def _stuck_projections(services: Services) -> list[dict[str, object]]:
    """Each stuck projection: where, what failed (class only), since when, attempts."""
    try:
        stuck = await asyncio.wait_for(failures.read_all(services.pool), 2)
    except Exception:  # readiness is about the database and schema; this is detail
        log.warning("ready: stuck projections unavailable", exc_info=True)
        return []
    return [{"projection": name, "position": f.position, "event_type": f.event_type,
             "error_class": f.error_class, "since": f.first_failed_at.isoformat(),
             "attempts": f.attempts} for name, f in sorted(stuck.items())]


@get("/metrics", media_type=MediaType.TEXT)
async def metrics(state: State) -> Response[bytes]:
    """Prometheus metrics: HTTP traffic, the log head, projection lag, the pool."""
    m: Metrics = state["metrics"]
    services: Services | None = state.get("services")
    if services is not None:
        await _sample_database(m, services)
    else:
        m.database_up.set(0)
    feeds = services.feeds if services is not None else None
    extra = await feeds.render_metrics() if feeds is not None else ""
    results = graphql_cache.results
    m.set_graphql_cache(results.hits, results.misses, results.bytes)
    return Response(m.render() + extra.encode(), media_type=METRICS_CONTENT_TYPE)


async def _sample_database(m: Metrics, services: Services) -> None:
    m.pool_size.set(services.pool.get_size())
    m.pool_idle.set(services.pool.get_idle_size())
    try:
        async with services.pool.acquire(timeout=2) as conn:
            head = int(await conn.fetchval(
                f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}"
            ))
            lag = await _projection_lag(conn)
    except Exception:  # a scrape must still answer when the database does not
        m.database_up.set(0)
        return
    m.database_up.set(1)
    m.set_log_head(head)
    m.set_projections(head, lag)


async def _projection_lag(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    """Each projection's position and lag, read from the checkpoints (any process's)."""
    try:
        return list(await lag_report(conn))
    except asyncpg.PostgresError:
        log.warning("metrics: projection lag unavailable", exc_info=True)
        return []


def _settle_garbage_collector() -> None:
    """Move everything built at start-up out of the collector's sight and collect the
    youngest generation less often: full collections over a heap of long-lived
    objects (schema, caches, pools) were the largest pauses in request latency.

    Requests make no reference cycles (see docs/architecture.md), so what a request
    allocates is freed by reference counting and young collections find little to do.
    (When every request was cyclic garbage, a smaller young generation, 15,000 / 5 /
    100, shortened search pauses but made the 200-client soak's memory grow by 53 MB and
    its throughput fall round on round; 50,000 / 20 / 20 stayed, and stays.)"""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    fix_mmap_threshold()  # and keep freed memory from piling up in the C heap


def create_app(settings: Settings, services: Services | None = None) -> Litestar:
    """Build the app; its lifespan opens the services unless they are handed in."""
    configure_logging(settings)
    app_metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        quiet_loop_errors(asyncio.get_running_loop())
        if services is not None:
            app.state.services = services
            yield
            return
        retrying: asyncio.Task[None] | None = None
        try:
            app.state.services = await _open(settings)
            log.info("services ready", embedded=settings.database_url is None)
            _settle_garbage_collector()
        except _TRANSIENT as exc:
            if not settings.database_url:
                raise  # the embedded server failing to start is not worth waiting for
            _unreachable(app.state, exc, _RETRY_FIRST)
            retrying = asyncio.create_task(_keep_trying(settings, app.state))
        try:
            yield
        finally:
            if retrying is not None and not retrying.done():
                retrying.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await retrying
            opened: Services | None = app.state.get("services")
            if opened is not None:
                await opened.close()
                log.info("services closed")

    handlers: list[object] = [
        health, ready, metrics, *ledger_route_handlers(), *export_route_handlers(),
        *graphql_route_handlers(), *feed_route_handlers(),
    ]
    app = Litestar(
        route_handlers=handlers,  # type: ignore[arg-type]
        lifespan=[lifespan],
        logging_config=None,  # configure_logging owns the root logger
        state=State({
            "settings": settings,
            "jwt_secret": resolve_secret(settings),
            "metrics": app_metrics,
        }),
    )
    # Outside the router, so 404s are counted and every response carries its id; POST
    # /graphql is answered before the router (``asgi_post``).
    app.asgi_handler = RequestObservability(GraphQLPost(app.asgi_handler, app, schema), app_metrics)
    return app


async def _open(settings: Settings) -> Services:
    if settings.database_url is None:
        return await open_services(settings, checkpoints=True)
    # A black-holed host would otherwise hold start-up for asyncpg's 60 s.
    return await asyncio.wait_for(open_services(settings, checkpoints=True), _OPEN_TIMEOUT)


def _unreachable(state: State, exc: BaseException, retry_in: float) -> None:
    state.startup_error = {"error": type(exc).__name__}
    log.warning("database unreachable; retrying", error=type(exc).__name__, retry_in_s=retry_in)


async def _keep_trying(settings: Settings, state: State) -> None:
    delay = _RETRY_FIRST
    while True:
        await asyncio.sleep(delay)
        delay = min(delay * 2, _RETRY_MAX)
        try:
            state.services = await _open(settings)
        except _TRANSIENT as exc:
            _unreachable(state, exc, delay)
        except Exception:
            log.exception("start-up failed; /ready stays 503")
            state.startup_error = {"error": "start-up failed"}
            return
        else:
            state.pop("startup_error", None)
            log.info("services ready", embedded=False)
            return
