"""``consistentWith``: wait, bounded, until the read models have applied a position.

A position past the head of the log can never be reached, so it is bad input rather
than a wait; a reachable one not reached within ``WAIT_TIMEOUT`` is ``NOT_CAUGHT_UP``
(retry later), so a query never hangs on a stalled projector.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from program.api.graphql.errors import BadInput, NotCaughtUp

if TYPE_CHECKING:
    from program.bootstrap import Services

WAIT_TIMEOUT = 5.0
_POLL = 0.05


async def wait_until_consistent(services: Services, position: int | None, timeout: float | None = None) -> None:
    """Return once every projection reached ``position``; ``NotCaughtUp`` after ``timeout``."""
    if position is None:
        return
    if position < 0:
        raise BadInput("consistentWith must not be negative")
    timeout = WAIT_TIMEOUT if timeout is None else timeout
    if await _reached(services, position, 0):
        return
    head = await services.store.max_position()
    if position > head:
        raise BadInput(f"consistentWith {position} is past the newest position {head}")
    if not await _reached(services, position, timeout):
        raise NotCaughtUp(position, timeout)


async def _reached(services: Services, position: int, timeout: float) -> bool:
    runner = services.projections
    if runner is not None:
        return bool(await runner.wait_for(position, timeout))
    # No runner in this process: poll the checkpoints the projector writes.
    from program.projections import projection_status

    deadline = time.monotonic() + timeout
    while True:
        rows = await projection_status(services.pool)
        if rows and min(r.position for r in rows) >= position:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(_POLL)
