"""One webhook request: sign per Standard Webhooks, POST without following redirects,
and classify the answer; the client that sends them; and the retry schedule.

The client is aiohttp's: per request it costs a sixth of the CPU httpx's does (0.07 ms
against 0.46 ms for a 40 KB batch, measured with ``bench``-like receivers), and the
dispatcher sends every request of every endpoint from one process. It reads no proxy
settings from the environment (a proxy would connect unchecked), follows no redirect,
and reads at most ``ANSWER_READ`` bytes of an answer.
"""

from __future__ import annotations

import base64
import os
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from uuid import UUID, uuid5

import aiohttp
from standardwebhooks.webhooks import Webhook

from program.feeds.envelope import BATCH_CONTENT_TYPE
from program.feeds.urls import PublicOnly, Resolve, UnsafeUrl, check

SECRET_PREFIX = "whsec_"
_MSG_NAMESPACE = UUID("6a0d8f53-0f3e-4e43-9c1d-3f0f5d7d2c11")
MAX_RETRY_AFTER = 24 * 3600.0
ANSWER_READ = 64 * 1024  # bytes of a receiver's answer read at most; its status is what counts


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 24 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(os.urandom(24)).decode()


def message_id(endpoint_id: UUID, first: int, last: int) -> str:
    """``webhook-id`` of the request carrying sequences first..last to this endpoint: the
    same on every retry and after a restart, since the range is kept until acknowledged."""
    return "msg_" + uuid5(_MSG_NAMESPACE, f"{endpoint_id}:{first}:{last}").hex


def signature_header(secrets: list[str], msg_id: str, at: datetime, body: str) -> str:
    """Space-separated ``v1,…`` signatures, one per live secret (two during a rotation)."""
    return " ".join(Webhook(s).sign(msg_id, at, body) for s in secrets)


def new_client(timeout: float, *, allow_private: bool,
               resolve: Resolve | None = None) -> aiohttp.ClientSession:
    """The session every webhook request goes through: at most 256 connections, names
    resolved through ``urls.PublicOnly`` unless private addresses are allowed (local
    development and tests), ``timeout`` seconds per request in all."""
    resolver = None if allow_private else PublicOnly(resolve)
    connector = aiohttp.TCPConnector(limit=256, limit_per_host=0, resolver=resolver)
    # An answer is never decompressed (none is asked for): its status is all that counts,
    # and a compressed answer could inflate to any size.
    return aiohttp.ClientSession(connector=connector, trust_env=False,
                                 timeout=aiohttp.ClientTimeout(total=timeout),
                                 skip_auto_headers=("User-Agent", "Accept-Encoding"),
                                 auto_decompress=False)


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to."""

    kind: str  # "delivered", "failed", "gone" (410), "throttled" (429)
    status: int | None
    duration_ms: float
    error: str | None = None
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.kind == "delivered"


async def send(client: aiohttp.ClientSession, url: str, secrets: list[str], msg_id: str,
               body: bytes, *, allow_private: bool) -> Outcome:
    started = time.perf_counter()
    try:
        await check(url, allow_private)
    except UnsafeUrl as exc:
        return Outcome("failed", None, 0.0, str(exc))
    now = datetime.now(UTC)
    text = body.decode()
    headers = {
        "content-type": BATCH_CONTENT_TYPE,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature_header(secrets, msg_id, now, text),
        "user-agent": "program-feeds/1",
    }
    try:
        async with client.post(url, data=body, headers=headers, allow_redirects=False) as answer:
            status, retry = answer.status, answer.headers.get("retry-after")
            await answer.content.read(ANSWER_READ)  # the rest, if any, closes the connection
    except UnsafeUrl as exc:  # refused when connecting (``urls.PublicOnly``)
        return Outcome("failed", None, _ms(started), str(exc))
    except TimeoutError:
        return Outcome("failed", None, _ms(started), "timed out")
    except (aiohttp.ClientError, OSError) as exc:
        return Outcome("failed", None, _ms(started), f"{type(exc).__name__}")
    elapsed = _ms(started)
    if 200 <= status < 300:
        return Outcome("delivered", status, elapsed)
    if status == 410:
        return Outcome("gone", status, elapsed, "410 Gone: endpoint disabled")
    if status == 429:
        return Outcome("throttled", status, elapsed, "429 Too Many Requests",
                       retry_after=retry_after(retry))
    if 300 <= status < 400:
        return Outcome("failed", status, elapsed, "redirect not followed")
    return Outcome("failed", status, elapsed, f"HTTP {status}")


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max((when - datetime.now(UTC)).total_seconds(), 0.0), MAX_RETRY_AFTER)


def next_delay(schedule: tuple[float, ...], failures: int, outcome: Outcome) -> float | None:
    """Seconds to wait before the next attempt after ``failures`` failed ones in a row;
    None when the schedule is exhausted (the endpoint is then disabled)."""
    if failures > len(schedule):
        return None
    if outcome.retry_after is not None:
        return outcome.retry_after
    delay = schedule[failures - 1]
    return delay * random.uniform(0.9, 1.2)  # jitter, so endpoints do not retry in step


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
