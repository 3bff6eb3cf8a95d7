"""Webhook delivery: in order per endpoint, at least once, never two senders at once.

Each endpoint is delivered by whichever dispatcher holds its advisory lock (any number
of dispatchers may run; a killed one lets go with its connection). Its place lives in
``feed_deliveries``: ``delivered`` (the last acknowledged sequence) and ``inflight_to``
(the end of the request in flight, kept until acknowledged). A request is reserved, and
its disclosures logged, in one transaction before it is first sent; a restart or a retry
sends the same range with the same ``webhook-id``. Every update is a compare-and-set on
that place, so a sender that lost its lock cannot move it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from program.application.context import Actor, CommandContext
from program.feeds import disclose, webhooks
from program.feeds.envelope import batch
from program.feeds.listen import FeedListener
from program.feeds.locks import LockSet
from program.feeds.metrics import FEED_METRICS
from program.feeds.secrets import SecretBox
from program.feeds.settings import FeedSettings

log = logging.getLogger(__name__)

_STATE = """SELECT e.partner_id, e.url, e.enabled, e.removed, e.secrets, e.version,
                   d.delivered, d.inflight_to, d.attempt, d.next_at
            FROM feed_endpoints e JOIN feed_deliveries d USING (endpoint_id)
            WHERE e.endpoint_id = $1"""
PENDING_RETRY = 0.05  # seconds to wait for the builder when a person's consent is changing


def lock_name(endpoint_id: UUID) -> str:
    return f"program.feeds:endpoint:{endpoint_id}"


class Dispatcher:
    """Runs one delivery task per endpoint whose lock this process holds."""

    def __init__(self, pool: asyncpg.Pool, url: str, listener: FeedListener, application: Any,
                 secrets: SecretBox, settings: FeedSettings, clock: Any) -> None:
        self.pool = pool
        self.listener = listener
        self.application = application
        self.secrets = secrets
        self.settings = settings
        self.clock = clock
        self.locks = LockSet(url, retry_interval=1.0)
        self.tasks: dict[UUID, asyncio.Task[None]] = {}
        self.client = httpx.AsyncClient(
            follow_redirects=False, timeout=settings.timeout,
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=64))
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.locks.start()
        self._task = asyncio.create_task(self._supervise(), name="feed-dispatcher")

    async def close(self) -> None:
        tasks = [t for t in (self._task, *self.tasks.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()
        await self.locks.close()
        await self.client.aclose()

    async def _supervise(self) -> None:
        async with self.listener.waiter() as woken:
            while True:
                try:
                    rows = await self.pool.fetch(
                        "SELECT endpoint_id FROM feed_endpoints WHERE enabled AND NOT removed")
                    self.locks.want({lock_name(r[0]) for r in rows})
                    for r in rows:
                        self._ensure_task(UUID(bytes=r[0].bytes))  # not asyncpg's UUID
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    log.warning("dispatcher cannot read endpoints; retrying", exc_info=False)
                for endpoint_id, task in list(self.tasks.items()):
                    if task.done():
                        del self.tasks[endpoint_id]
                        if not task.cancelled() and task.exception() is not None:
                            log.error("delivery to endpoint %s failed: %s", endpoint_id,
                                      type(task.exception()).__name__)
                await self.listener.wait(woken, 1.0)

    def _ensure_task(self, endpoint_id: UUID) -> None:
        name = lock_name(endpoint_id)
        if name in self.locks.held and endpoint_id not in self.tasks:
            self.tasks[endpoint_id] = asyncio.create_task(
                Delivery(self, endpoint_id, self.locks.lost(name)).run(),
                name=f"deliver-{endpoint_id}")


class Delivery:
    """The loop that delivers one endpoint while this process holds its lock."""

    def __init__(self, dispatcher: Dispatcher, endpoint_id: UUID, lost: asyncio.Event) -> None:
        self.d = dispatcher
        self.endpoint_id = endpoint_id
        self.lost = lost  # the lock is gone: another dispatcher may be sending
        self.stopped = False  # disabled or removed: the supervisor starts a new task later

    async def run(self) -> None:
        async with self.d.listener.waiter() as woken:
            while not self.lost.is_set() and not self.stopped:
                wait = await self.step()
                if wait is not None:
                    await self.d.listener.wait(woken, wait)

    async def step(self) -> float | None:
        """One request (or none); the seconds to wait before the next step, None for at once."""
        state = await self.d.pool.fetchrow(_STATE, self.endpoint_id)
        if state is None or not state["enabled"] or state["removed"]:
            self.stopped = True
            return None
        now = datetime.now(UTC)
        if state["next_at"] is not None and state["next_at"] > now:
            return min((state["next_at"] - now).total_seconds(), 1.0)
        partner_id = UUID(bytes=state["partner_id"].bytes)  # events must not get asyncpg's UUID
        delivered, inflight = state["delivered"], state["inflight_to"]
        async with self.d.pool.acquire() as conn:
            rows = await disclose.read_feed(conn, partner_id, delivered,
                                            self.d.settings.batch_size, inflight)
            if not rows:
                return 1.0
            try:
                partner = await disclose.load_partner(conn, partner_id)
                judged = await disclose.judge(conn, partner, rows, self.d.clock.now().date())
            except disclose.PartnerUnavailable:
                return 1.0
            if not judged.rows or (inflight is not None and not judged.complete):
                return PENDING_RETRY
            last = inflight if inflight is not None else judged.last
            if inflight is None and not await self._reserve(conn, partner_id, delivered,
                                                            last, judged):
                return None
        return await self._send(state, partner_id, delivered, last, judged)

    async def _reserve(self, conn: asyncpg.Connection, partner_id: UUID, delivered: int,
                       last: int, judged: disclose.Judged) -> bool:
        async with conn.transaction():
            reserved = await conn.fetchval(
                "UPDATE feed_deliveries SET inflight_to = $3 WHERE endpoint_id = $1 "
                "AND delivered = $2 AND inflight_to IS NULL RETURNING endpoint_id",
                self.endpoint_id, delivered, last)
            if reserved is None:
                return False  # replayed or taken over meanwhile: read the place again
            await disclose.record(conn, partner_id, "webhook", judged, datetime.now(UTC),
                                  self.endpoint_id)
        return True

    async def _send(self, state: asyncpg.Record, partner_id: UUID, delivered: int, last: int,
                    judged: disclose.Judged) -> float | None:
        bodies = [r.body for r in judged.disclosed]
        if not bodies:  # everything in the range was withheld: move past it
            await self._acknowledge(delivered, last, None, partner_id, 0)
            return None
        msg_id = webhooks.message_id(self.endpoint_id, delivered + 1, last)
        secrets = await self.d.secrets.signing_secrets(self.endpoint_id, state["secrets"],
                                                       state["version"])
        outcome = await webhooks.send(self.d.client, state["url"], secrets, msg_id, batch(bodies),
                                      allow_private=self.d.settings.allow_private_urls)
        if self.lost.is_set():
            return None
        FEED_METRICS.attempt(outcome.kind)
        attempt = (partner_id, msg_id, delivered + 1, last, len(bodies), outcome)
        if outcome.delivered:
            await self._acknowledge(delivered, last, outcome.status, partner_id, len(bodies),
                                    attempt)
            return None
        await self._log_attempt(self.d.pool, *attempt)
        return await self._failed(state, partner_id, outcome)

    async def _acknowledge(self, delivered: int, last: int, status: int | None,
                           partner_id: UUID, count: int, attempt: tuple[Any, ...] | None = None
                           ) -> None:
        """Move the place past ``last`` and log the attempt, in one transaction that does
        not wait for the disk: were the database to lose it in a crash, the request is
        sent again with the same webhook-id (at least once). What must not be lost, the
        disclosures, was made durable before sending."""
        async with self.d.pool.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL synchronous_commit = off")
            moved = await conn.fetchval(
                "UPDATE feed_deliveries SET delivered = $3, inflight_to = NULL, attempt = 0, "
                "next_at = NULL, failing_since = NULL, last_status = coalesce($4, last_status), "
                "last_error = NULL WHERE endpoint_id = $1 AND delivered = $2 AND inflight_to = $3 "
                "RETURNING endpoint_id", self.endpoint_id, delivered, last, status)
            if attempt is not None:
                await self._log_attempt(conn, *attempt)
        if moved is not None:
            FEED_METRICS.delivered(partner_id, count)

    async def _failed(self, state: asyncpg.Record, partner_id: UUID,
                      outcome: webhooks.Outcome) -> float | None:
        failures = state["attempt"] + 1
        delay = None if outcome.kind == "gone" else webhooks.next_delay(
            self.d.settings.retry_schedule, failures, outcome)
        # Disabled: never again until enabled (which resets it), even before the builder
        # has applied the disabling event.
        next_at = datetime(9999, 1, 1, tzinfo=UTC) if delay is None else \
            datetime.now(UTC) + timedelta(seconds=delay)
        await self.d.pool.execute(
            "UPDATE feed_deliveries SET attempt = $2, next_at = $3, last_status = $4, "
            "last_error = $5, last_attempt_at = now(), failing_since = coalesce(failing_since, "
            "now()) WHERE endpoint_id = $1", self.endpoint_id, failures, next_at,
            outcome.status, outcome.error)
        if delay is None:
            reason = outcome.error if outcome.kind == "gone" else \
                f"retries exhausted after {failures} attempts ({outcome.error})"
            await self._disable(partner_id, reason)
            self.stopped = True
            return None
        return min(delay, 1.0)

    async def _disable(self, partner_id: UUID, reason: str) -> None:
        """Record it as the partner's event, so an admin sees it and can enable it again."""
        log.warning("webhook endpoint %s disabled: %s", self.endpoint_id, reason)
        ctx = CommandContext(Actor.system("feeds-dispatcher"))
        try:
            await self.d.application.disable_webhook_endpoint(ctx, partner_id, self.endpoint_id,
                                                              reason)
        except Exception:  # it stays paused (next_at) until the next attempt to record it
            log.exception("could not record that endpoint %s is disabled", self.endpoint_id)

    async def _log_attempt(self, conn: Any, partner_id: UUID, msg_id: str, first: int,
                           last: int, events: int, outcome: webhooks.Outcome) -> None:
        await conn.execute(
            "INSERT INTO feed_attempts (endpoint_id, partner_id, webhook_id, first_sequence, "
            "last_sequence, events, at, status, duration_ms, outcome, error) "
            "VALUES ($1, $2, $3, $4, $5, $6, now(), $7, $8, $9, $10)",
            self.endpoint_id, partner_id, msg_id, first, last, events, outcome.status,
            outcome.duration_ms, outcome.kind, outcome.error)
