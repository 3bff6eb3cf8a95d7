"""``consistentWith``: wait, bounded, until the read models have applied a position."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from program.api.graphql.errors import BadInput, NotCaughtUp

WAIT_TIMEOUT = 5.0
_POLL = 0.02


async def wait_until_consistent(services: Any, position: int | None, timeout: float = WAIT_TIMEOUT) -> None:
    """Return once every projection reached ``position``; ``NotCaughtUp`` after ``timeout``."""
    if position is None:
        return
    if position < 0:
        raise BadInput("consistentWith must not be negative")
    runner = services.projections
    if runner is not None and hasattr(runner, "wait_for"):
        if await runner.wait_for(position, timeout):
            return
        raise NotCaughtUp(position, timeout)
    # The projector runs in another process: poll the checkpoints it writes.
    from program.projections.queries import projection_status

    deadline = time.monotonic() + timeout
    while True:
        rows = await projection_status(services.pool)
        if rows and min(_position_of(r) for r in rows) >= position:
            return
        if time.monotonic() >= deadline:
            raise NotCaughtUp(position, timeout)
        await asyncio.sleep(_POLL)


def _position_of(row: Any) -> int:
    return int(getattr(row, "position", None) if not isinstance(row, dict) else row["position"])
