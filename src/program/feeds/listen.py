"""Wake feed readers (dispatcher tasks, SSE streams, subscriptions) when the builder
commits a batch: one LISTEN connection per process, with a polling fallback."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import asyncpg

from program.feeds.tables import FEED_CHANNEL
from program.waiting import woken

log = logging.getLogger(__name__)


class FeedListener:
    def __init__(self, url: str, poll_interval: float = 1.0) -> None:
        self.url = url
        self.poll_interval = poll_interval
        self._conn: asyncpg.Connection | None = None
        self._waiters: set[asyncio.Event] = set()

    async def start(self) -> None:
        try:
            self._conn = await asyncpg.connect(self.url)
            await self._conn.add_listener(FEED_CHANNEL, lambda *_: self.wake())
        except (OSError, asyncpg.PostgresError):
            log.warning("LISTEN for feeds unavailable; readers will poll")
            self._conn = None

    async def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None
        self.wake()

    def wake(self) -> None:
        for waiter in list(self._waiters):
            waiter.set()

    @contextlib.asynccontextmanager
    async def waiter(self) -> AsyncIterator[asyncio.Event]:
        event = asyncio.Event()
        self._waiters.add(event)
        try:
            yield event
        finally:
            self._waiters.discard(event)

    async def wait(self, event: asyncio.Event, timeout: float | None = None) -> None:
        """Until the next built batch (or the poll interval); clears ``event`` after."""
        await woken(event, timeout or self.poll_interval)
        event.clear()
