"""Waiting for an ``asyncio.Event`` with a time limit, without losing a cancellation.

Python 3.11's ``asyncio.wait_for`` loses a cancellation that arrives as its timeout
fires: it raises ``TimeoutError`` instead. A loop that takes the timeout as "look
again" then never ends once its task is cancelled, and whoever awaits that task on
shutdown waits for ever (seen as a test suite hanging in a service's ``close``).
``asyncio.timeout`` tells its own cancellation from anyone else's, so this does not.
"""

from __future__ import annotations

import asyncio


async def woken(event: asyncio.Event, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``event`` to be set; whether it was."""
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True
