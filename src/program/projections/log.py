"""Reading the log for projections: only the columns they use, as light tuples.

The store's ``read_after`` gives full ``Recorded`` rows (metadata parsed, hash
included), right for its other readers; projections need neither, so this reader gives
``LogRow`` tuples instead. It quacks like the store for
``program.store.subscription.follow``.

A runner's projection tasks wake together on each commit and ask for the same rows;
they share one query. A task joins a query in flight only if no commit was announced
since it started, so it never misses rows it was woken for.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from program.projections.base import LogRow
from program.store.schema import EVENTS_TABLE

_COLUMNS = "notification_id, originator_id, originator_version, topic, state, recorded_at"


class ProjectionLog:
    """``read_after`` for ``follow``, and position ranges for a rebuild."""

    def __init__(self, pool: asyncpg.Pool, *, metadata: bool = False, listener: Any = None
                 ) -> None:
        """``listener`` (a ``LogListener``) says which commits were announced; without it
        reads are never shared."""
        self.pool = pool
        self.listener = listener
        self._reads: dict[tuple[int, int], tuple[int, asyncio.Future[list[LogRow]]]] = {}
        columns = _COLUMNS + (", metadata" if metadata else ", NULL::jsonb")
        self._after = (f"SELECT {columns} FROM {EVENTS_TABLE} WHERE notification_id > $1 "
                       "ORDER BY notification_id LIMIT $2")
        self._range = (f"SELECT {columns} FROM {EVENTS_TABLE} WHERE notification_id > $1 "
                       "AND notification_id <= $2 ORDER BY notification_id")

    async def read_after(self, position: int, limit: int) -> list[LogRow]:
        """Rows after ``position``, in order, at most ``limit``."""
        if self.listener is None:
            return await self._fetch(position, limit)
        announced = self.listener.last_notified
        key = (position, limit)
        shared = self._reads.get(key)
        if shared is None or shared[0] < announced:
            shared = (announced, asyncio.ensure_future(self._fetch(position, limit)))
            self._reads[key] = shared
            entry = shared
            shared[1].add_done_callback(
                lambda _f: self._reads.pop(key) if self._reads.get(key) is entry else None)
        return list(await asyncio.shield(shared[1]))

    async def _fetch(self, position: int, limit: int) -> list[LogRow]:
        return [LogRow(*r) for r in await self.pool.fetch(self._after, position, limit)]

    async def read_range(self, after: int, upto: int) -> list[asyncpg.Record]:
        """Rows with positions in (after, upto] (positions have no gaps), as records."""
        return list(await self.pool.fetch(self._range, after, upto))
