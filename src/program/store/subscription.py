"""Follow the log: catch up from a position, then follow NOTIFY, with a polling fallback."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import asyncpg

from program.store.eventstore import EventStore
from program.store.records import Recorded
from program.store.schema import NOTIFY_CHANNEL

log = logging.getLogger(__name__)


class LogListener:
    """One LISTEN connection per process that wakes every follower on each commit."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: asyncpg.Connection | None = None
        self._waiters: set[asyncio.Event] = set()
        self.last_notified = 0

    async def start(self) -> None:
        if self._conn is not None:
            return
        try:
            self._conn = await asyncpg.connect(self.url)
            await self._conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
        except (OSError, asyncpg.PostgresError):
            # Without notifications followers still poll: slower, never wrong.
            log.warning("LISTEN unavailable; followers will poll", exc_info=True)
            self._conn = None

    async def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None
        self.wake()

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        with contextlib.suppress(ValueError):
            self.last_notified = max(self.last_notified, int(payload))
        self.wake()

    def wake(self) -> None:
        for waiter in list(self._waiters):
            waiter.set()

    def register(self) -> asyncio.Event:
        waiter = asyncio.Event()
        self._waiters.add(waiter)
        return waiter

    def unregister(self, waiter: asyncio.Event) -> None:
        self._waiters.discard(waiter)


async def follow(
    store: EventStore,
    listener: LogListener | None,
    after: int,
    *,
    batch_size: int = 1000,
    poll_interval: float = 1.0,
) -> AsyncIterator[list[Recorded]]:
    """Yield batches of rows after ``after``, forever, never skipping one."""
    position = after
    waiter = listener.register() if listener is not None else asyncio.Event()
    try:
        while True:
            waiter.clear()
            rows = await store.read_after(position, batch_size)
            if rows:
                position = rows[-1].position
                yield rows
                if len(rows) == batch_size:
                    continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter.wait(), poll_interval)
    finally:
        if listener is not None:
            listener.unregister(waiter)
