"""Delivering one endpoint: one request in flight, the next one prepared meanwhile.

The place lives in ``feed_deliveries``: ``delivered`` (the last acknowledged sequence) and
``inflight_to`` (the end of the request in flight, kept until acknowledged; a restart or a
retry sends that range again with the same ``webhook-id``). Once the receiver
acknowledges, one statement, committed durably, does everything before the next request
leaves: it moves the place past the acknowledged range, logs that attempt, judges the
next events under consent as the log stands (``disclose.JUDGING``), reserves what it
judged, writes its disclosures and hands back the body of the next request. So every
disclosure is logged once (with its reservation), and no event leaves before its
disclosure is on disk. Every write is a compare-and-set on the place, so a sender that
lost its lock cannot move it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

import asyncpg
import aiohttp

from program.application.context import Actor, Clock, CommandContext
from program.application.services import Application
from program.feeds import disclose, webhooks
from program.feeds.disclose import JUDGING, OUTCOME, logged
from program.feeds.listen import FeedListener
from program.feeds.metrics import FEED_METRICS
from program.feeds.secrets import SecretBox
from program.feeds.settings import FeedSettings
from program.store.database import takes_session_state

log = logging.getLogger(__name__)

PENDING_RETRY = 0.05  # seconds to wait for the builder when a person's consent is changing
BURST_SECONDS = 2.0  # then the connection goes back to the pool, so other endpoints get one
_STATE = """SELECT e.partner_id, e.url, e.enabled, e.removed, e.secrets, e.version,
                   d.delivered, d.inflight_to, d.attempt, d.next_at,
                   (SELECT head FROM feed_partners p WHERE p.partner_id = e.partner_id) AS head
            FROM feed_endpoints e JOIN feed_deliveries d USING (endpoint_id)
            WHERE e.endpoint_id = $1"""
# After ``disclose.JUDGING``'s $1..$7: $8 endpoint, $9 delivered, $10 the acknowledged
# range's end (NULL: nothing acknowledged), $11 its status, $12 the endpoint's version,
# $13..$16 the attempt (webhook-id NULL: none). The range judged is reserved only while
# the endpoint is enabled at the version the sender read.
_COMMIT = f"""
WITH {JUDGING},
go AS (
  SELECT EXISTS (SELECT 1 FROM judged)
     AND EXISTS (SELECT 1 FROM feed_endpoints WHERE endpoint_id = $8 AND enabled
                 AND NOT removed AND version = $12) AS ok),
moved AS (
  UPDATE feed_deliveries SET delivered = coalesce($10, delivered),
         inflight_to = CASE WHEN (SELECT ok FROM go) THEN (SELECT max(sequence) FROM judged) END,
         attempt = 0, next_at = NULL, failing_since = NULL, last_error = NULL,
         last_status = coalesce($11, last_status)
   WHERE endpoint_id = $8 AND delivered = $9 AND inflight_to IS NOT DISTINCT FROM $10
     AND ($10::bigint IS NOT NULL OR (SELECT ok FROM go))  -- else nothing to write
  RETURNING inflight_to),
attempt AS (
  INSERT INTO feed_attempts (endpoint_id, partner_id, webhook_id, first_sequence,
                             last_sequence, events, at, status, duration_ms, outcome, error)
  SELECT $8, $1, $13, $9 + 1, $10, $14, now(), $11, $15, $16, NULL WHERE $13::text IS NOT NULL),
disclosed AS (
  {logged("'webhook'", "$8", "EXISTS (SELECT 1 FROM moved WHERE inflight_to IS NOT NULL)")})
SELECT (SELECT count(*) FROM moved) AS moved, (SELECT inflight_to FROM moved) AS reserved,
       EXISTS (SELECT 1 FROM feed_events WHERE partner_id = $1
                  AND sequence > (SELECT inflight_to FROM moved)) AS more,
       {OUTCOME}"""


async def generic_plans(conn: asyncpg.Connection) -> None:
    """Plan this connection's prepared statements once, for any parameters, until it goes
    back to the pool (which resets it). Left to choose, PostgreSQL planned ``_COMMIT``
    afresh for every request, taking longer over the plan (0.7 ms) than over the work
    (0.6 ms). Its generic plan reads the log only by index
    (``tests/integration/test_feed_plans.py``)."""
    takes_session_state(conn)
    await conn.execute("SET plan_cache_mode = force_generic_plan")


@dataclass
class Request:
    """A reserved range and what of it goes out: ``count`` events in ``body`` (None when
    every one of them was withheld: nothing is sent); ``more``: whether the feed went on
    past it when it was reserved."""

    first: int
    last: int
    count: int
    body: bytes | None
    more: bool = True


class Dispatching(Protocol):
    """What a delivery shares with the others of its process (``dispatcher.Dispatcher``)."""

    @property
    def pool(self) -> asyncpg.Pool: ...
    @property
    def listener(self) -> FeedListener: ...
    @property
    def application(self) -> Application: ...
    @property
    def secrets(self) -> SecretBox: ...
    @property
    def settings(self) -> FeedSettings: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def client(self) -> aiohttp.ClientSession: ...
    @property
    def slots(self) -> asyncio.Semaphore: ...


class Delivery:
    """The loop that delivers one endpoint while this process holds its lock."""

    def __init__(self, dispatcher: Dispatching, endpoint_id: UUID, lost: asyncio.Event) -> None:
        self.d = dispatcher
        self.endpoint_id = endpoint_id
        self.lost = lost  # the lock is gone: another dispatcher may be sending
        self.stopped = False  # disabled or removed: the supervisor starts a new task later

    async def run(self) -> None:
        async with self.d.listener.waiter() as woken:
            while not self.lost.is_set() and not self.stopped:
                async with self.d.slots, self.d.pool.acquire() as conn:
                    await generic_plans(conn)
                    wait = await self.burst(conn)
                if wait is not None:
                    await self.d.listener.wait(woken, wait)

    async def burst(self, conn: asyncpg.Connection) -> float | None:
        """Requests one after another on one connection while there is work, for at most
        ``BURST_SECONDS``; the seconds to wait before the next burst, None for at once."""
        state = await conn.fetchrow(_STATE, self.endpoint_id)
        if state is None or not state["enabled"] or state["removed"]:
            self.stopped = True
            return None
        now = datetime.now(UTC)
        if state["next_at"] is not None and state["next_at"] > now:
            return min((state["next_at"] - now).total_seconds(), 1.0)
        partner_id = UUID(bytes=state["partner_id"].bytes)  # events must not get asyncpg's UUID
        delivered, inflight = state["delivered"], state["inflight_to"]
        try:
            if inflight is not None:  # a retry, or a restart: the same range, judged again
                judged = await disclose.judge(conn, partner_id, delivered, inflight,
                                              self._today())
                if judged.last != inflight:  # someone's consent is changing: the builder first
                    return PENDING_RETRY
                request = Request(delivered + 1, inflight, judged.disclosed, judged.body)
            elif (state["head"] or 0) <= delivered:  # nothing new: judging would find nothing
                return 1.0
            else:
                reserved = await self._commit(conn, state, partner_id, delivered, None, None)
                if isinstance(reserved, float):
                    return reserved
                request = reserved
        except disclose.PartnerUnavailable:
            return 1.0
        return await self._deliver(conn, state, partner_id, request)

    async def _deliver(self, conn: asyncpg.Connection, state: asyncpg.Record, partner_id: UUID,
                       request: Request) -> float | None:
        """Send ``request`` and the next, and the next, while the receiver acknowledges
        and there is more."""
        ends = time.monotonic() + BURST_SECONDS
        while True:
            outcome = await self._send(state, request) if request.body is not None else None
            if self.lost.is_set():
                return None
            if outcome is not None and not outcome.delivered:
                await self._log_attempt(conn, partner_id, request, outcome)
                return await self._failed(conn, state, partner_id, outcome)
            if not request.more or time.monotonic() > ends:
                # Nothing to reserve next (or the other endpoints' turn): the acknowledgement
                # alone, not waiting for the disk. The next burst reads the place again.
                await self._acknowledge(conn, partner_id, request, outcome)
                return None
            try:
                following = await self._commit(conn, state, partner_id, request.first - 1,
                                               request, outcome)
            except disclose.PartnerUnavailable:  # the acknowledgement is written all the same
                return 1.0
            if not isinstance(following, Request):
                return None  # caught up, or held back: the next burst reads the place again
            request = following

    def _today(self) -> date:
        return self.d.clock.now().date()

    async def _send(self, state: asyncpg.Record, request: Request) -> webhooks.Outcome:
        assert request.body is not None
        msg_id = webhooks.message_id(self.endpoint_id, request.first, request.last)
        secrets = await self.d.secrets.signing_secrets(self.endpoint_id, state["secrets"],
                                                       state["version"])
        outcome = await webhooks.send(self.d.client, state["url"], secrets, msg_id, request.body,
                                      allow_private=self.d.settings.allow_private_urls)
        FEED_METRICS.attempt(outcome.kind)
        return outcome

    async def _commit(self, conn: asyncpg.Connection, state: asyncpg.Record, partner_id: UUID,
                      delivered: int, acked: Request | None,
                      outcome: webhooks.Outcome | None) -> Request | float:
        """Acknowledge ``acked`` (if any), judge the next events and reserve what was
        judged, durably, in one statement; the request reserved, or else the seconds to
        wait: a moment while someone's consent is changing, longer when there is nothing
        new (the builder's notification cuts it short)."""
        after = acked.last if acked is not None else delivered
        row = await conn.fetchrow(
            _COMMIT, *disclose.arguments(partner_id, after, self.d.settings.batch_size, None,
                                         self._today()),
            self.endpoint_id, delivered, acked.last if acked else None,
            outcome.status if outcome else None, state["version"],
            *self._attempt_args(acked, outcome))
        if acked is not None and row["moved"]:
            FEED_METRICS.delivered(partner_id, acked.count)
        disclose.check_active(partner_id, row["status"])
        if row["reserved"] is None:
            return PENDING_RETRY if row["waiting"] else 1.0
        return Request(after + 1, row["reserved"], row["disclosed"], row["body"], row["more"])

    def _attempt_args(self, acked: Request | None,
                      outcome: webhooks.Outcome | None) -> tuple[Any, ...]:
        if acked is None or outcome is None:  # nothing sent (all withheld): no attempt
            return (None, 0, None, "delivered")
        return (webhooks.message_id(self.endpoint_id, acked.first, acked.last), acked.count,
                outcome.duration_ms, outcome.kind)

    async def _acknowledge(self, conn: asyncpg.Connection, partner_id: UUID, request: Request,
                           outcome: webhooks.Outcome | None) -> None:
        """Move the place past ``request`` with nothing next, in a transaction that does not
        wait for the disk: were the database to lose it in a crash, the request is sent
        again with the same webhook-id (at least once). What must not be lost, the
        disclosures, was made durable before sending."""
        async with conn.transaction():
            await conn.execute("SET LOCAL synchronous_commit = off")
            moved = await conn.fetchval(
                "UPDATE feed_deliveries SET delivered = $3, inflight_to = NULL, attempt = 0, "
                "next_at = NULL, failing_since = NULL, last_status = coalesce($4, last_status), "
                "last_error = NULL WHERE endpoint_id = $1 AND delivered = $2 AND inflight_to = $3 "
                "RETURNING endpoint_id", self.endpoint_id, request.first - 1, request.last,
                outcome.status if outcome else None)
            if outcome is not None:
                await self._log_attempt(conn, partner_id, request, outcome)
        if moved is not None:
            FEED_METRICS.delivered(partner_id, request.count)

    async def _failed(self, conn: asyncpg.Connection, state: asyncpg.Record, partner_id: UUID,
                      outcome: webhooks.Outcome) -> float | None:
        failures = state["attempt"] + 1
        delay = None if outcome.kind == "gone" else webhooks.next_delay(
            self.d.settings.retry_schedule, failures, outcome)
        # Disabled: never again until enabled (which resets it), even before the builder
        # has applied the disabling event.
        next_at = datetime(9999, 1, 1, tzinfo=UTC) if delay is None else \
            datetime.now(UTC) + timedelta(seconds=delay)
        await conn.execute(
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

    async def _log_attempt(self, conn: Any, partner_id: UUID, request: Request,
                           outcome: webhooks.Outcome) -> None:
        await conn.execute(
            "INSERT INTO feed_attempts (endpoint_id, partner_id, webhook_id, first_sequence, "
            "last_sequence, events, at, status, duration_ms, outcome, error) "
            "VALUES ($1, $2, $3, $4, $5, $6, now(), $7, $8, $9, $10)",
            self.endpoint_id, partner_id,
            webhooks.message_id(self.endpoint_id, request.first, request.last), request.first,
            request.last, request.count, outcome.status, outcome.duration_ms, outcome.kind,
            outcome.error)

