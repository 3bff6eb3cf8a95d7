"""Partner feed routes: the public catalogue, the pull API and server-sent events.

- ``GET /feeds/catalogue`` — the AsyncAPI 3.0 document; ``GET /feeds/schemas/{name}``
  — the JSON Schema of one type (e.g. ``participant.enrolled.v1.json``). Any ADMIN,
  AUDITOR or PARTNER token.
- ``GET /feeds/events?after=N&limit=M`` — the caller's (PARTNER) feed after sequence N,
  as ``application/cloudevents-batch+json``; ``X-Feed-Next`` is the ``after`` to ask next.
- ``GET /feeds/stream`` — the same events as server-sent events (``id`` = sequence),
  resumable with ``Last-Event-ID`` (or ``?after=N``); a ``: heartbeat`` comment while
  idle; ``event: position-unavailable`` (then the stream ends) for a position outside
  the feed; ``event: feed-unavailable`` when the partner is suspended or retired.

Every event handed out is judged under consent at that moment and logged in the
disclosure log first. Errors answer ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import msgspec
from litestar import MediaType, Request, Response, get
from litestar.params import FromPath
from litestar.response import Stream

from program.api.auth import Unauthenticated, actor_from_authorization
from program.application.policy import Forbidden
from program.application.context import Actor
from program.application.feed_access import require_catalogue, require_feed
from program.feeds import catalogue, reader
from program.feeds.envelope import BATCH_CONTENT_TYPE, batch

MAX_PULL = 1000
_encode = msgspec.json.encode


def _error(status: int, code: str, message: str, **extra: Any) -> Response[bytes]:
    return Response(_encode({"error": {"code": code, "message": message, **extra}}),
                    status_code=status, media_type=MediaType.JSON)


def _actor(request: Request[Any, Any, Any]) -> Actor:
    return actor_from_authorization(request.headers.get("authorization"),
                                    request.app.state.jwt_secret)


def _feeds(request: Request[Any, Any, Any]) -> Any:
    services = request.app.state.get("services")
    if services is None:
        return None
    return services.feeds


async def _guard(request: Request[Any, Any, Any], check: Any) -> tuple[Any, Any] | Response[bytes]:
    """(the caller's check result, the feed service), or the error to answer."""
    try:
        allowed = check(_actor(request))
    except Unauthenticated as exc:
        return _error(401, "UNAUTHENTICATED", str(exc))
    except Forbidden as exc:
        return _error(403, "FORBIDDEN", str(exc))
    feeds = _feeds(request)
    if feeds is None:
        return _error(503, "UNAVAILABLE", "the database is not available yet; retry shortly")
    return allowed, feeds


def _position(raw: str | None, name: str) -> int:
    if raw is None or raw == "":
        return 0
    if not raw.isdigit() or len(raw) > 18:
        raise ValueError(f"{name} must be a sequence number (0 or more)")
    return int(raw)


@get("/feeds/catalogue", media_type=MediaType.JSON)
async def feed_catalogue(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The AsyncAPI 3.0 document of every public event type and channel."""
    guarded = await _guard(request, require_catalogue)
    if isinstance(guarded, Response):
        return guarded
    return Response(_encode(catalogue.asyncapi()), media_type=MediaType.JSON)


@get("/feeds/schemas/{name:str}", media_type=MediaType.JSON)
async def feed_schema(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[bytes]:
    """The JSON Schema of one public event type."""
    guarded = await _guard(request, require_catalogue)
    if isinstance(guarded, Response):
        return guarded
    event_type = catalogue.FEED_TYPE_PREFIX + name.removesuffix(".json")
    if event_type not in catalogue.PUBLIC_EVENT_TYPES:
        return _error(404, "NOT_FOUND", f"no event type {name!r} in the catalogue")
    return Response(_encode(catalogue.schema_of(event_type)), media_type="application/schema+json")


@get("/feeds/events")
async def pull_events(request: Request[Any, Any, Any]) -> Response[bytes]:
    """A page of the caller's feed after a sequence."""
    guarded = await _guard(request, require_feed)
    if isinstance(guarded, Response):
        return guarded
    partner_id, feeds = guarded
    try:
        after = _position(request.query_params.get("after"), "after")
        limit = _position(request.query_params.get("limit"), "limit") or 100
    except ValueError as exc:
        return _error(400, "BAD_USER_INPUT", str(exc))
    if limit > MAX_PULL:
        return _error(400, "BAD_USER_INPUT", f"limit must be at most {MAX_PULL}")
    try:
        await reader.check_position(feeds.pool, partner_id, after)
        rows, reached = await reader.page(feeds.pool, partner_id, after, limit, "pull", feeds.clock)
    except reader.PositionUnavailable as exc:
        return _error(409, exc.code, str(exc), first=exc.first, head=exc.head)
    except reader.PartnerUnavailable as exc:
        return _error(403, "FORBIDDEN", str(exc))
    return Response(batch([r.body for r in rows]), media_type=BATCH_CONTENT_TYPE,
                    headers={"X-Feed-Next": str(reached), "Cache-Control": "no-store"})


@get("/feeds/stream")
async def stream_events(request: Request[Any, Any, Any]) -> Response[Any]:
    """The caller's feed as server-sent events, from ``Last-Event-ID`` on."""
    guarded = await _guard(request, require_feed)
    if isinstance(guarded, Response):
        return guarded
    partner_id, feeds = guarded
    try:
        after = _position(request.headers.get("last-event-id")
                          or request.query_params.get("after"), "Last-Event-ID")
    except ValueError as exc:
        return _error(400, "BAD_USER_INPUT", str(exc))
    try:
        await reader.check_position(feeds.pool, partner_id, after)
    except reader.PartnerUnavailable as exc:
        return _error(403, "FORBIDDEN", str(exc))
    except reader.PositionUnavailable as exc:
        return Stream(_unavailable(exc), media_type="text/event-stream", headers=_SSE_HEADERS)
    return Stream(_sse(feeds, partner_id, after), media_type="text/event-stream",
                  headers=_SSE_HEADERS)


_SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


async def _unavailable(exc: reader.PositionUnavailable) -> AsyncIterator[bytes]:
    data = _encode({"requested": exc.requested, "first": exc.first, "head": exc.head})
    yield b"event: position-unavailable\ndata: " + data + b"\n\n"


async def _sse(feeds: Any, partner_id: UUID, after: int) -> AsyncIterator[bytes]:
    yield b"retry: 3000\n\n"
    try:
        async for rows in reader.follow(feeds.pool, feeds.listener, partner_id, after, "sse",
                                        feeds.clock, heartbeat=feeds.settings.heartbeat):
            if not rows:
                yield b": heartbeat\n\n"
                continue
            yield b"".join(b"id: %d\ndata: %s\n\n" % (r.sequence, r.body) for r in rows)
    except reader.PartnerUnavailable:
        yield b"event: feed-unavailable\ndata: {}\n\n"


def feed_route_handlers() -> list[Any]:
    return [feed_catalogue, feed_schema, pull_events, stream_events]
