"""Issue a signed checkpoint every N events or T seconds, in the background."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from program.store.checkpoints import CheckpointLog, LedgerInconsistent
from program.store.eventstore import EventStore
from program.store.subscription import LogListener
from program.waiting import woken

log = logging.getLogger(__name__)


class Checkpointer:
    """Signs the head once ``every`` events have been appended since the last
    checkpoint, or ``interval`` seconds after the last one if anything was appended."""

    def __init__(
        self, ledger: CheckpointLog, store: EventStore, listener: LogListener,
        *, every: int, interval: float,
    ) -> None:
        self.ledger, self.store, self.listener = ledger, store, listener
        self.every, self.interval = every, interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="ledger-checkpointer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):  # stopping must never fail a shutdown
                await self._task
            self._task = None

    async def _run(self) -> None:
        waiter = self.listener.register()
        signed_size, signed_at, backoff = -1, time.monotonic(), 1.0
        try:
            while True:
                await woken(waiter, min(self.interval, 5.0))
                waiter.clear()
                try:
                    if signed_size < 0:
                        latest = await self.ledger.latest()
                        signed_size = latest.size if latest else 0
                    head = await self.store.max_position()
                    elapsed = time.monotonic() - signed_at
                    if head - signed_size >= self.every or (head > signed_size and elapsed >= self.interval):
                        signed_size = (await self.ledger.issue()).size
                        signed_at = time.monotonic()
                    backoff = 1.0
                except LedgerInconsistent:
                    log.error("ledger: the stored log no longer extends the last checkpoint; "
                              "not signing (run `program audit verify`)")
                    await asyncio.sleep(max(self.interval, 60.0))
                except Exception as exc:  # an outage, or anything else: never die silently
                    log.warning("ledger: checkpoint not issued (%s); retrying in %.0f s",
                                type(exc).__name__, backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 60.0)
        finally:
            self.listener.unregister(waiter)
