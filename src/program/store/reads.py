"""The read lane: a few connections of the API's own for its single read statements.

A read through the pool pays for the pool's acquire and release (a task to shield the
release, a timeout, a proxy): on a dashboard that was a third of what the read cost the
API process. The lane keeps up to ``size`` connections outside the pool, opened when first
needed, and hands them out with no ceremony. Only single statements in autocommit go
through it, so a connection comes back from a read in the state it left: nothing to
reset. When every lane connection is busy, or the lane is closed, a read goes through the
pool as before; the pool's own size is untouched.

A connection is dropped, never reused, after anything but an answer or an error the
server sent (a cancelled read, a connection that broke): asyncpg's connection may be
mid-protocol then. A read that failed on a connection that had died while idle (the
server restarted) is asked again through the pool: a read can be.
"""

from __future__ import annotations

import contextlib
from collections import deque
from typing import Any, Protocol

import asyncpg

from program.store.database import open_connection


class Reader(Protocol):
    """What a query that runs one read statement needs: a pool, a connection or the lane."""

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]: ...


_BROKEN = (asyncpg.ConnectionDoesNotExistError, asyncpg.InterfaceError, OSError)


class ReadLane:
    """``fetch`` as ``asyncpg.Pool.fetch`` has it, on connections kept for reads."""

    def __init__(self, url: str, pool: asyncpg.Pool, size: int) -> None:
        self.url = url
        self.pool = pool
        self.size = size
        self._idle: deque[asyncpg.Connection] = deque()
        self._open: set[asyncpg.Connection] = set()
        self._opening = 0
        self._closed = False

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        conn, was_idle = await self._take()
        if conn is None:
            return await self.pool.fetch(query, *args)
        try:
            rows = await conn.fetch(query, *args)
        except asyncpg.PostgresError:  # the server answered: the connection is sound
            self._give_back(conn)
            raise
        except _BROKEN:
            self._drop(conn)
            if not was_idle:
                raise
            return await self.pool.fetch(query, *args)
        except BaseException:  # cancelled mid-statement, or worse: never reused
            self._drop(conn)
            raise
        self._give_back(conn)
        return rows

    def backend_pids(self) -> list[int]:
        """The server process of each open lane connection (for tests and diagnostics)."""
        return sorted(c.get_server_pid() for c in self._open)

    async def close(self) -> None:
        """Close the idle connections now, the busy ones as their reads end."""
        self._closed = True
        while self._idle:
            conn = self._idle.pop()
            self._open.discard(conn)
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)

    async def _take(self) -> tuple[asyncpg.Connection | None, bool]:
        """A lane connection and whether it was idle; None: use the pool."""
        while self._idle:
            conn = self._idle.pop()
            if not conn.is_closed():
                return conn, True
            self._open.discard(conn)
        if self._closed or len(self._open) + self._opening >= self.size:
            return None, False
        self._opening += 1
        try:
            conn = await open_connection(self.url)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            return None, False  # the pool says what is wrong, in its own way
        finally:
            self._opening -= 1
        if self._closed:
            await conn.close()
            return None, False
        self._open.add(conn)
        return conn, False

    def _give_back(self, conn: asyncpg.Connection) -> None:
        if self._closed:
            self._drop(conn)
        else:
            self._idle.append(conn)

    def _drop(self, conn: asyncpg.Connection) -> None:
        self._open.discard(conn)
        conn.terminate()  # at once, whatever state the protocol is in
