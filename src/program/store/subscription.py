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
from program.waiting import woken

log = logging.getLogger(__name__)

_CONNECT_TIMEOUT_S = 10
_RETRY_FIRST_S, _RETRY_MAX_S = 0.5, 10.0


class LogListener:
    """One LISTEN connection per process that wakes every follower on each commit.

    Without notifications followers still poll: slower, never wrong. A lost
    connection (the database restarted) is re-established in the background, so
    followers are prompt again once the database is back, without a restart.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: asyncpg.Connection | None = None
        self._waiters: set[asyncio.Event] = set()
        self._retry: asyncio.Task[None] | None = None
        self._closed = False
        self.last_notified = 0

    @property
    def listening(self) -> bool:
        return self._conn is not None

    async def start(self) -> None:
        if self._conn is not None or self._closed:
            return
        if not await self._connect():
            log.warning("LISTEN unavailable; followers will poll until it is back")
            self._reconnect_later()

    async def _connect(self) -> bool:
        try:
            conn = await asyncpg.connect(self.url, timeout=_CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, asyncpg.PostgresError):
            return False
        try:
            await conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
        except (OSError, asyncpg.PostgresError):
            with contextlib.suppress(Exception):
                await conn.close()
            return False
        conn.add_termination_listener(self._on_lost)
        self._conn = conn
        self.wake()  # whatever committed while nobody listened
        return True

    def _on_lost(self, conn: object) -> None:
        if conn is self._conn:
            self._conn = None
            log.warning("LISTEN connection lost; followers poll until it is back")
            self._reconnect_later()

    def _reconnect_later(self) -> None:
        if not self._closed and (self._retry is None or self._retry.done()):
            self._retry = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        delay = _RETRY_FIRST_S
        while not self._closed and self._conn is None:
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX_S)
            if not self._closed and await self._connect():
                log.info("LISTEN connection re-established")

    async def close(self) -> None:
        self._closed = True
        if self._retry is not None:
            self._retry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retry
            self._retry = None
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(Exception):
                await conn.close()
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
            await woken(waiter, poll_interval)
    finally:
        if listener is not None:
            listener.unregister(waiter)
