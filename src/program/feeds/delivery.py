"""Delivering one endpoint: one request in flight, the next one prepared meanwhile.

The place lives in ``feed_deliveries``: ``delivered`` (the last acknowledged sequence) and
``inflight_to`` (the end of the request in flight, kept until acknowledged; a restart or a
retry sends that range again with the same ``webhook-id``). While a request is in flight
the next range is read and judged under consent (no write). Once the receiver
acknowledges, one statement, committed durably, does the rest before the next request
leaves: it moves the place past the acknowledged range, logs that attempt, reserves the
next range and writes its disclosures, but reserves nothing if the endpoint changed or if
an event recorded since the judgement concerns the partner or the consent of a person in
that range (then the range is judged again). So consent is still checked against the log
as it stands the moment before sending, every disclosure is logged once (with its
reservation), and no event leaves before its disclosure is on disk. Every write is a
compare-and-set on the place, so a sender that lost its lock cannot move it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

import asyncpg
import httpx

from program.application.context import Actor, Clock, CommandContext
from program.application.services import Application
from program.feeds import disclose, webhooks
from program.feeds.envelope import batch
from program.feeds.listen import FeedListener
from program.feeds.metrics import FEED_METRICS
from program.feeds.secrets import SecretBox
from program.feeds.settings import FeedSettings
from program.store.schema import EVENTS_TABLE

log = logging.getLogger(__name__)

PENDING_RETRY = 0.05  # seconds to wait for the builder when a person's consent is changing
BURST_SECONDS = 2.0  # then the connection goes back to the pool, so other endpoints get one
_STATE = """SELECT e.partner_id, e.url, e.enabled, e.removed, e.secrets, e.version,
                   d.delivered, d.inflight_to, d.attempt, d.next_at
            FROM feed_endpoints e JOIN feed_deliveries d USING (endpoint_id)
            WHERE e.endpoint_id = $1"""
# $1 endpoint, $2 delivered, $3 the acknowledged range's end (NULL: nothing acknowledged),
# $4 its status, $5 the next range's end (NULL: reserve nothing), $6 the endpoint's version,
# $7 the builder position the next range was judged at, $8 partner, $9 the partner, people
# and consents judged, $10 consent topics, $11..$14 the attempt (webhook-id NULL: none),
# $15..$19 the next range's verdicts, $20 how much of the log's tail to read (TAIL_CHECKED).
# What was recorded since the judgement is read from the log's tail by position, at most
# $20 events of it, and otherwise (the builder far behind) looked up id by id, each an
# index probe. Looking the judged ids up in the log with one ``= ANY`` was planned, once
# the statement was prepared, as a scan of the whole log on every commit.
TAIL_CHECKED = disclose.TAIL_CHECKED
_COMMIT = f"""
WITH tail AS MATERIALIZED (
  SELECT originator_id, topic FROM {EVENTS_TABLE} WHERE notification_id > $7
   ORDER BY notification_id LIMIT $20::int + 1
), go AS (
  SELECT $5::bigint IS NOT NULL
     AND EXISTS (SELECT 1 FROM feed_endpoints WHERE endpoint_id = $1 AND enabled
                 AND NOT removed AND version = $6)
     AND CASE WHEN (SELECT count(*) FROM tail) <= $20::int
         THEN NOT EXISTS (SELECT 1 FROM tail WHERE originator_id = ANY($9::uuid[])
                          AND (originator_id = $8 OR topic = ANY($10::text[])))
         ELSE NOT EXISTS (SELECT 1 FROM unnest($9::uuid[]) AS w(id) WHERE EXISTS (
                            SELECT 1 FROM {EVENTS_TABLE} e WHERE e.originator_id = w.id
                               AND e.notification_id > $7
                               AND (e.originator_id = $8 OR e.topic = ANY($10::text[]))))
         END AS ok
), moved AS (
  UPDATE feed_deliveries SET delivered = coalesce($3, delivered),
         inflight_to = CASE WHEN (SELECT ok FROM go) THEN $5 END,
         attempt = 0, next_at = NULL, failing_since = NULL, last_error = NULL,
         last_status = coalesce($4, last_status)
   WHERE endpoint_id = $1 AND delivered = $2 AND inflight_to IS NOT DISTINCT FROM $3
  RETURNING inflight_to
), attempt AS (
  INSERT INTO feed_attempts (endpoint_id, partner_id, webhook_id, first_sequence,
                             last_sequence, events, at, status, duration_ms, outcome, error)
  SELECT $1, $8, $11, $2 + 1, $3, $12, now(), $4, $13, $14, NULL WHERE $11::text IS NOT NULL
), disclosed AS (
  INSERT INTO feed_disclosures (at, partner_id, channel, endpoint_id, sequence, event_id, type,
                                participant_id, consent_id, consent_version, outcome, reason)
  SELECT now(), $8, 'webhook', $1, f.sequence, f.event_id, f.type, f.participant_id,
         v.consent_id, v.version, v.outcome, v.reason
    FROM unnest($15::bigint[], $16::uuid[], $17::bigint[], $18::text[], $19::text[])
         AS v(sequence, consent_id, version, outcome, reason)
    JOIN feed_events f ON f.partner_id = $8 AND f.sequence = v.sequence
   WHERE EXISTS (SELECT 1 FROM moved WHERE inflight_to IS NOT NULL)
   ORDER BY v.sequence
)
SELECT (SELECT count(*) FROM moved) AS moved, (SELECT inflight_to FROM moved) AS reserved"""


@dataclass
class Request:
    """A reserved range and what of it goes out (``judged``: its verdicts)."""

    first: int
    last: int
    judged: disclose.Judged

    @property
    def bodies(self) -> list[bytes]:
        return [r.body for r in self.judged.disclosed]


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
    def client(self) -> httpx.AsyncClient: ...
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
                judged = await self._prepare(conn, partner_id, delivered, inflight)
                if judged is None:
                    return 1.0
                if not judged.rows or not judged.complete:
                    return PENDING_RETRY
                request = Request(delivered + 1, inflight, judged)
            else:
                judged = await self._prepare(conn, partner_id, delivered)
                if judged is None:
                    return 1.0
                if not judged.rows:
                    return PENDING_RETRY
                reserved = await self._commit(conn, state, partner_id, delivered, None, None,
                                              judged)
                if reserved is None:  # replayed, taken over or voided meanwhile: read again
                    return PENDING_RETRY
                request = Request(delivered + 1, reserved, judged)
        except disclose.PartnerUnavailable:
            return 1.0
        return await self._deliver(conn, state, partner_id, request)

    async def _deliver(self, conn: asyncpg.Connection, state: asyncpg.Record, partner_id: UUID,
                       request: Request) -> float | None:
        """Send ``request`` and, while it is in flight, prepare the next; go on while both
        the receiver acknowledges and there is more."""
        ends = time.monotonic() + BURST_SECONDS
        while True:
            bodies = request.bodies
            sending = asyncio.create_task(self._send(state, request, bodies)) if bodies else None
            try:
                upcoming = None if time.monotonic() > ends else await self._prepare(
                    conn, partner_id, request.last)
            except disclose.PartnerUnavailable:
                upcoming = None
            except BaseException:
                if sending is not None:
                    sending.cancel()
                raise
            outcome = await sending if sending is not None else None
            if self.lost.is_set():
                return None
            if outcome is not None and not outcome.delivered:
                await self._log_attempt(conn, partner_id, request, len(bodies), outcome)
                return await self._failed(conn, state, partner_id, outcome)
            if upcoming is None or not upcoming.rows:
                await self._acknowledge(conn, partner_id, request, outcome, len(bodies))
                return None  # the next burst reads the place again
            reserved = await self._commit(conn, state, partner_id, request.first - 1, request,
                                          outcome, upcoming)
            if reserved is None:
                return None
            request = Request(request.last + 1, reserved, upcoming)

    async def _prepare(self, conn: asyncpg.Connection, partner_id: UUID, after: int,
                       upto: int | None = None) -> disclose.Judged | None:
        """The range after ``after`` judged under consent as it stands; None when empty."""
        rows = await disclose.read_feed(conn, partner_id, after, self.d.settings.batch_size, upto)
        if not rows:
            return None
        return await disclose.judge(conn, partner_id, rows, self.d.clock.now().date())

    async def _send(self, state: asyncpg.Record, request: Request,
                    bodies: list[bytes]) -> webhooks.Outcome:
        msg_id = webhooks.message_id(self.endpoint_id, request.first, request.last)
        secrets = await self.d.secrets.signing_secrets(self.endpoint_id, state["secrets"],
                                                       state["version"])
        outcome = await webhooks.send(self.d.client, state["url"], secrets, msg_id, batch(bodies),
                                      allow_private=self.d.settings.allow_private_urls)
        FEED_METRICS.attempt(outcome.kind)
        return outcome

    async def _commit(self, conn: asyncpg.Connection, state: asyncpg.Record, partner_id: UUID,
                      delivered: int, acked: Request | None, outcome: webhooks.Outcome | None,
                      upcoming: disclose.Judged) -> int | None:
        """Acknowledge ``acked`` (if any) and reserve ``upcoming``, durably, in one statement;
        the end of the range reserved, or None when nothing was."""
        verdicts = [(row.sequence, v.consent.consent_id if v.consent else None,
                     v.consent.version if v.consent else None,
                     "DISCLOSED" if v.allowed else "WITHHELD",
                     v.reason if not v.allowed else (disclose.NOTICE_REASON if row.notice else None))
                    for row, v in upcoming.rows]
        columns = list(zip(*verdicts, strict=True))
        attempt = self._attempt_args(acked, outcome)
        row = await conn.fetchrow(
            _COMMIT, self.endpoint_id, delivered, acked.last if acked else None,
            outcome.status if outcome else None, upcoming.last, state["version"], upcoming.built,
            partner_id, upcoming.watched(), disclose.PENDING_TOPICS, *attempt, *columns,
            TAIL_CHECKED)
        if acked is not None and row["moved"]:
            FEED_METRICS.delivered(partner_id, len(acked.judged.disclosed))
        return row["reserved"]  # type: ignore[no-any-return]

    def _attempt_args(self, acked: Request | None,
                      outcome: webhooks.Outcome | None) -> tuple[Any, ...]:
        if acked is None or outcome is None:  # nothing sent (all withheld): no attempt
            return (None, 0, None, "delivered")
        return (webhooks.message_id(self.endpoint_id, acked.first, acked.last),
                len(acked.judged.disclosed), outcome.duration_ms, outcome.kind)

    async def _acknowledge(self, conn: asyncpg.Connection, partner_id: UUID, request: Request,
                           outcome: webhooks.Outcome | None, count: int) -> None:
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
                await self._log_attempt(conn, partner_id, request, count, outcome)
        if moved is not None:
            FEED_METRICS.delivered(partner_id, count)

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

    async def _log_attempt(self, conn: Any, partner_id: UUID, request: Request, events: int,
                           outcome: webhooks.Outcome) -> None:
        await conn.execute(
            "INSERT INTO feed_attempts (endpoint_id, partner_id, webhook_id, first_sequence, "
            "last_sequence, events, at, status, duration_ms, outcome, error) "
            "VALUES ($1, $2, $3, $4, $5, $6, now(), $7, $8, $9, $10)",
            self.endpoint_id, partner_id,
            webhooks.message_id(self.endpoint_id, request.first, request.last), request.first,
            request.last, events, outcome.status, outcome.duration_ms, outcome.kind, outcome.error)

