"""Operations: structured logs, request ids and Prometheus metrics for the HTTP app.

Logs carry no personal data: an access line names the method, the route *template*
(``/cohorts/{id}``, never the raw path or its query string), the status, the duration
and the request id. Nothing from a request body or header other than ``X-Request-ID``
is read here.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST as METRICS_CONTENT_TYPE  # noqa: F401 (re-export)

from program.api.logs import configure_logging  # noqa: F401 (re-export)

REQUEST_ID_HEADER = "x-request-id"
# Accept a caller's id only when it is short and plain, so it cannot smuggle data or
# break a log line; anything else is replaced by a fresh id.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
# Probes and scrapes come every few seconds; their access lines are DEBUG, not INFO.
_QUIET_ROUTES = frozenset({"/health", "/ready", "/metrics"})
UNMATCHED_ROUTE = "<unmatched>"

request_id_var: ContextVar[str | None] = ContextVar("program_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the HTTP request being served, if any (for event metadata)."""
    return request_id_var.get()


# -- metrics -------------------------------------------------------------------


class Metrics:
    """The app's Prometheus metrics, in a registry of its own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "program_http_requests",
            "HTTP requests served, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "program_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "program_http_requests_in_flight",
            "HTTP requests being served now.",
            registry=self.registry,
        )
        self.log_head = Gauge(
            "program_event_log_head_position",
            "Global position of the newest stored event; the log is gap-free, so this "
            "is also the number of events appended so far.",
            registry=self.registry,
        )
        self.events = Counter(
            "program_events_appended",
            "Events appended to the log (all processes), as seen at scrape time.",
            registry=self.registry,
        )
        self.projection_position = Gauge(
            "program_projection_position",
            "Last global position a projection has applied.",
            ["projection"],
            registry=self.registry,
        )
        self.projection_lag_events = Gauge(
            "program_projection_lag_events",
            "Events a projection still has to apply.",
            ["projection"],
            registry=self.registry,
        )
        self.projection_lag_seconds = Gauge(
            "program_projection_lag_seconds",
            "Age of the oldest event a projection has not applied yet (0 when caught up).",
            ["projection"],
            registry=self.registry,
        )
        self.projection_stuck = Gauge(
            "program_projection_stuck",
            "1 while a projection cannot apply an event (it retries with backoff and keeps "
            "serving what it has), else 0.",
            ["projection"],
            registry=self.registry,
        )
        self.projection_failure_attempts = Gauge(
            "program_projection_failure_attempts",
            "Attempts so far at the event a projection is stuck on (0 when not stuck).",
            ["projection"],
            registry=self.registry,
        )
        self.projection_stuck_seconds = Gauge(
            "program_projection_stuck_seconds",
            "Seconds since a projection first failed on the event it is stuck on (0 when not).",
            ["projection"],
            registry=self.registry,
        )
        self.pool_size = Gauge(
            "program_db_pool_connections", "Connections in the database pool.",
            registry=self.registry,
        )
        self.pool_idle = Gauge(
            "program_db_pool_idle_connections", "Idle connections in the database pool.",
            registry=self.registry,
        )
        self.database_up = Gauge(
            "program_database_up", "1 when the last scrape reached the database, else 0.",
            registry=self.registry,
        )
        self.graphql_cache = Gauge(
            "program_graphql_cache",
            "GraphQL result cache since start: hits, misses (cumulative) and bytes held.",
            ["measure"],
            registry=self.registry,
        )
        self._events_seen = 0

    def set_graphql_cache(self, hits: int, misses: int, held_bytes: int) -> None:
        for measure, value in (("hits", hits), ("misses", misses), ("bytes", held_bytes)):
            self.graphql_cache.labels(measure).set(value)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def set_log_head(self, position: int) -> None:
        self.log_head.set(position)
        if position > self._events_seen:
            self.events.inc(position - self._events_seen)
            self._events_seen = position

    def set_projections(self, head: int, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            name = str(row["name"])
            position = int(row.get("position") or 0)
            self.projection_position.labels(name).set(position)
            self.projection_lag_events.labels(name).set(
                row["lag_events"] if row.get("lag_events") is not None else max(head - position, 0)
            )
            if row.get("lag_seconds") is not None:
                self.projection_lag_seconds.labels(name).set(float(row["lag_seconds"]))
            failure = row.get("failure")
            self.projection_stuck.labels(name).set(1 if failure else 0)
            self.projection_failure_attempts.labels(name).set(failure.attempts if failure else 0)
            self.projection_stuck_seconds.labels(name).set(
                max((datetime.now(UTC) - failure.first_failed_at).total_seconds(), 0)
                if failure else 0)

    def render(self) -> bytes:
        return generate_latest(self.registry)


# -- the ASGI wrapper ------------------------------------------------------------


# The status counted and logged for a request whose client hung up before the answer
# began (nginx's "client closed request"); nothing is sent.
CLIENT_GONE = 499


class RequestObservability:
    """Wraps the app's ASGI handler: request id in and out, metrics, one access line.

    It sits outside Litestar's router, so unmatched routes (404) are counted too.
    """

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.log = structlog.get_logger("program.access")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            rid = _request_id(scope)
            scope.setdefault("state", {})["request_id"] = rid
            token = request_id_var.set(rid)
            try:
                await self.app(scope, receive, send)
            finally:
                request_id_var.reset(token)
            return

        rid = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id_var.set(rid)
        structlog.contextvars.bind_contextvars(request_id=rid)
        status = 500
        answering = False  # the response has begun
        gone = False  # the client hung up before it had
        started = time.perf_counter()
        self.metrics.in_flight.inc()

        async def receive_watched() -> dict[str, Any]:
            nonlocal gone
            message: dict[str, Any] = await receive()
            if message["type"] == "http.disconnect" and not answering:
                gone = True
            return message

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status, answering
            if message["type"] == "http.response.start":
                answering = True
                status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive_watched, send_with_id)
        finally:
            if gone:  # whatever was made of it went nowhere: not a failure of ours
                status = CLIENT_GONE
            elapsed = time.perf_counter() - started
            self.metrics.in_flight.dec()
            route = scope.get("path_template") or UNMATCHED_ROUTE
            method = scope.get("method", "GET")
            self.metrics.observe_request(method, route, status, elapsed)
            level = logging.DEBUG if route in _QUIET_ROUTES and status < 500 else logging.INFO
            self.log.log(
                level, "request", method=method, route=route, status=status,
                duration_ms=round(elapsed * 1000, 2),
            )
            structlog.contextvars.unbind_contextvars("request_id")
            request_id_var.reset(token)


def _request_id(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", []):
        if name.lower() == b"x-request-id":
            candidate = value.decode("latin-1").strip()
            if _VALID_REQUEST_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex
