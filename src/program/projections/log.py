"""Reading the log for projections: only the columns they use, as light tuples.

The store's ``read_after`` gives full ``Recorded`` rows (metadata parsed, hash
included), right for its other readers; projections need neither, and each runner
reads the log once per read model, so this reader gives ``LogRow`` tuples instead.
It quacks like the store for ``program.store.subscription.follow``.
"""

from __future__ import annotations

import asyncpg

from program.projections.base import LogRow
from program.store.schema import EVENTS_TABLE

_COLUMNS = "notification_id, originator_id, originator_version, topic, state, recorded_at"


class ProjectionLog:
    """``read_after`` for ``follow``, and position ranges for a rebuild."""

    def __init__(self, pool: asyncpg.Pool, *, metadata: bool = False) -> None:
        self.pool = pool
        columns = _COLUMNS + (", metadata" if metadata else ", NULL::jsonb")
        self._after = (f"SELECT {columns} FROM {EVENTS_TABLE} WHERE notification_id > $1 "
                       "ORDER BY notification_id LIMIT $2")
        self._range = (f"SELECT {columns} FROM {EVENTS_TABLE} WHERE notification_id > $1 "
                       "AND notification_id <= $2 ORDER BY notification_id")

    async def read_after(self, position: int, limit: int) -> list[LogRow]:
        """Rows after ``position``, in order, at most ``limit``."""
        return [LogRow(*r) for r in await self.pool.fetch(self._after, position, limit)]

    async def read_range(self, after: int, upto: int) -> list[asyncpg.Record]:
        """Rows with positions in (after, upto] (positions have no gaps), as records."""
        return list(await self.pool.fetch(self._range, after, upto))
