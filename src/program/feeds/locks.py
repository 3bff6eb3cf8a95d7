"""Advisory locks on one dedicated connection, for a set of names that may change.

PostgreSQL releases a session's advisory locks when its connection ends, so a process
killed at any moment lets go of everything it held and a waiting process takes over
within ``retry_interval``. Losing the connection here tells every holder at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg

from program.waiting import woken

log = logging.getLogger(__name__)

_TRY = "SELECT pg_try_advisory_lock(hashtextextended($1, 0))"
_UNLOCK = "SELECT pg_advisory_unlock(hashtextextended($1, 0))"


class LockSet:
    """Try to hold every wanted name; ``held`` are those this process holds now."""

    def __init__(self, url: str, retry_interval: float = 1.0) -> None:
        self.url = url
        self.retry_interval = retry_interval
        self.wanted: set[str] = set()
        self.held: set[str] = set()
        self.changed = asyncio.Event()
        self._lost: dict[str, asyncio.Event] = {}
        self._conn: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._poke = asyncio.Event()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="feed-locks")

    def want(self, names: set[str]) -> None:
        """Replace the wanted names; held names no longer wanted are let go."""
        self.wanted = set(names)
        self._poke.set()

    def lost(self, name: str) -> asyncio.Event:
        return self._lost.setdefault(name, asyncio.Event())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._disconnect()

    async def _run(self) -> None:
        while True:
            self._poke.clear()  # before syncing: a want() made meanwhile is not lost
            try:
                await self._sync()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("feed lock connection failed: %s", type(exc).__name__)
                await self._disconnect()
            await woken(self._poke, self.retry_interval)

    async def _sync(self) -> None:
        if self._conn is None or self._conn.is_closed():
            await self._disconnect()
            self._conn = await asyncpg.connect(self.url)
            self._conn.add_termination_listener(lambda _c: self._lose_all())
        for name in sorted(self.held - self.wanted):
            await self._conn.fetchval(_UNLOCK, name)
            self._lose(name)
        gained = False
        for name in sorted(self.wanted - self.held):
            if await self._conn.fetchval(_TRY, name):
                self.held.add(name)
                self._lost[name] = asyncio.Event()
                gained = True
        if not gained:
            await self._conn.fetchval("SELECT 1")  # still alive, so still holding
        else:
            self.changed.set()

    def _lose(self, name: str) -> None:
        self.held.discard(name)
        self.lost(name).set()
        self.changed.set()

    def _lose_all(self) -> None:
        for name in list(self.held):
            self._lose(name)

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        self._lose_all()
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 5)
