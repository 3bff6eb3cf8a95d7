"""One advisory lock per projection, so two projector processes never apply the same one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

import asyncpg

log = logging.getLogger(__name__)

_TRY = "SELECT pg_try_advisory_lock(hashtextextended($1, 0))"


def lock_key(name: str) -> str:
    return f"program.projection:{name}"


class ProjectionLocks:
    """Session-level advisory locks held on one dedicated connection.

    When that connection dies, PostgreSQL releases every lock it held; runners waiting
    elsewhere keep trying every ``retry_interval`` seconds and take over. Losing the
    connection here tells each holder at once (``lost``), so it stops applying.
    """

    def __init__(self, url: str, names: Iterable[str], retry_interval: float = 1.0) -> None:
        self.url = url
        self.names = list(names)
        self.retry_interval = retry_interval
        self._conn: asyncpg.Connection | None = None
        self._held: set[str] = set()
        self._acquired = {n: asyncio.Event() for n in self.names}
        self._lost = {n: asyncio.Event() for n in self.names}
        self._task: asyncio.Task[None] | None = None

    @property
    def held(self) -> frozenset[str]:
        return frozenset(self._held)

    @property
    def backend_pid(self) -> int | None:
        return self._conn.get_server_pid() if self._conn is not None else None

    def start(self) -> None:
        if self._task is None and self.names:
            self._task = asyncio.create_task(self._run(), name="projection-locks")

    async def close(self) -> None:
        """Let go of every lock (closing the connection releases them)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for name in self._held:
            self._acquired[name].clear()
            self._lost[name].set()
        self._held.clear()
        await self._disconnect()

    async def acquired(self, name: str) -> asyncio.Event:
        """Wait until this runner holds ``name``; returns the event set when it is lost."""
        await self._acquired[name].wait()
        return self._lost[name]

    async def _run(self) -> None:
        while True:
            try:
                await self._try_all()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("projection lock connection failed: %s", exc)
                await self._disconnect()
            await asyncio.sleep(self.retry_interval)

    async def _try_all(self) -> None:
        if self._conn is None or self._conn.is_closed():
            await self._disconnect()
            self._conn = await asyncpg.connect(self.url)
            self._conn.add_termination_listener(self._on_terminated)
        missing = [n for n in self.names if n not in self._held]
        if not missing:
            await self._conn.fetchval("SELECT 1")  # still alive, so still holding
            return
        for name in missing:
            if await self._conn.fetchval(_TRY, lock_key(name)):
                self._held.add(name)
                self._lost[name] = asyncio.Event()
                self._acquired[name].set()
                log.info("projection %s: lock acquired", name)

    def _on_terminated(self, _conn: object) -> None:
        self._lose_all()

    def _lose_all(self) -> None:
        for name in list(self._held):
            log.warning("projection %s: lock lost", name)
            self._acquired[name].clear()
            self._lost[name].set()
        self._held.clear()

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        self._lose_all()
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                conn.remove_termination_listener(self._on_terminated)
                await asyncio.wait_for(conn.close(), 5)
