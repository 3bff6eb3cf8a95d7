"""Reading a partner's feed for the pull, SSE and GraphQL channels: each page judged
under consent as it goes out, and logged in the disclosure log before it is handed over.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import asyncpg

from program.feeds import disclose
from program.feeds.disclose import FeedRow, PartnerUnavailable
from program.feeds.listen import FeedListener

__all__ = ["FeedRow", "PartnerUnavailable", "PositionUnavailable", "page", "follow", "bounds"]


class PositionUnavailable(Exception):
    """The requested position is past the feed's head or before its oldest event kept."""

    code = "POSITION_UNAVAILABLE"

    def __init__(self, requested: int, first: int, head: int) -> None:
        super().__init__(f"position {requested} is not available (this feed holds "
                         f"{first}..{head})")
        self.requested, self.first, self.head = requested, first, head


async def bounds(pool: asyncpg.Pool, partner_id: UUID) -> tuple[int, int]:
    """The first sequence kept (1 unless older events were purged) and the head."""
    row = await pool.fetchrow(
        "SELECT coalesce((SELECT min(sequence) FROM feed_events WHERE partner_id = $1), "
        "p.head + 1), p.head FROM feed_partners p WHERE p.partner_id = $1", partner_id)
    if row is None:
        raise PartnerUnavailable(f"no feed for partner {partner_id}")
    return int(row[0]), int(row[1])


async def check_position(pool: asyncpg.Pool, partner_id: UUID, after: int) -> None:
    first, head = await bounds(pool, partner_id)
    if after < 0 or after > head or after < first - 1:
        raise PositionUnavailable(after, first, head)


async def page(pool: asyncpg.Pool, partner_id: UUID, after: int, limit: int, channel: str,
               clock: Any) -> tuple[list[FeedRow], int]:
    """Disclosed events after ``after`` (at most ``limit`` judged) and the position reached;
    each judged event logged in the disclosure log, in the statement that judged it."""
    async with pool.acquire() as conn:
        rows, last = await disclose.disclose_page(conn, partner_id, after, limit,
                                                  clock.now().date(), channel)
    return rows, last if last is not None else after


async def follow(pool: asyncpg.Pool, listener: FeedListener, partner_id: UUID, after: int,
                 channel: str, clock: Any, *, heartbeat: float,
                 limit: int = 1000) -> AsyncIterator[list[FeedRow]]:
    """Pages forever; an empty page after ``heartbeat`` seconds without one."""
    position = after
    last_out = time.monotonic()
    async with listener.waiter() as woken:
        while True:
            woken.clear()
            rows, reached = await page(pool, partner_id, position, limit, channel, clock)
            moved, position = reached != position, reached
            if rows:
                yield rows
                last_out = time.monotonic()
            if moved:
                continue
            remaining = heartbeat - (time.monotonic() - last_out)
            if remaining <= 0:
                yield []
                last_out = time.monotonic()
                continue
            await listener.wait(woken, remaining)
