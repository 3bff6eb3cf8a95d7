"""The one app factory: ``create_app(settings)`` builds the Litestar application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.response import Response

from program.api.auth import resolve_secret
from program.bootstrap import Services, open_services
from program.settings import Settings
from program.store.schema import SCHEMA_VERSION, current_version


@get("/health", sync_to_thread=False)
def health() -> dict[str, str]:
    """Liveness: answers while the process lives."""
    return {"status": "ok"}


@get("/ready")
async def ready(state: State) -> Response[dict[str, object]]:
    """Readiness: 200 only when the database answers and the schema is current."""
    services: Services | None = state.get("services")
    if services is None:
        return Response({"status": "starting"}, status_code=503)
    try:
        async with services.pool.acquire(timeout=2) as conn:
            version = await current_version(conn)
    except Exception as exc:  # any failure to reach the database means not ready
        return Response({"status": "database unreachable", "error": type(exc).__name__}, status_code=503)
    if version != SCHEMA_VERSION:
        return Response(
            {"status": "schema not current", "schema": version, "expected": SCHEMA_VERSION},
            status_code=503,
        )
    return Response({"status": "ready", "schema": version}, status_code=200)


def create_app(settings: Settings, services: Services | None = None) -> Litestar:
    """Build the app; its lifespan opens the services unless they are handed in."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        owned = services is None
        app.state.services = services if services is not None else await open_services(settings)
        try:
            yield
        finally:
            if owned:
                await app.state.services.close()

    handlers: list[object] = [health, ready]
    try:
        from program.api.graphql import graphql_route_handlers
    except ImportError:  # the GraphQL package is optional while it is being built
        pass
    else:
        handlers.extend(graphql_route_handlers())
    return Litestar(
        route_handlers=handlers,  # type: ignore[arg-type]
        lifespan=[lifespan],
        state=State({"settings": settings, "jwt_secret": resolve_secret(settings)}),
    )
