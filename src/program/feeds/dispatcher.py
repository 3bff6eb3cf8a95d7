"""Webhook delivery: in order per endpoint, at least once, never two senders at once.

Each endpoint is delivered by whichever dispatcher holds its advisory lock (any number
of dispatchers may run; a killed one lets go with its connection), one ``Delivery`` task
per endpoint held (``program.feeds.delivery``: the place, the reservation and the
disclosures).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from uuid import UUID

import asyncpg

from program.application.context import Clock
from program.application.services import Application
from program.feeds import webhooks
from program.feeds.delivery import Delivery
from program.feeds.listen import FeedListener
from program.feeds.locks import LockSet
from program.feeds.secrets import SecretBox
from program.feeds.settings import FeedSettings

log = logging.getLogger(__name__)


def lock_name(endpoint_id: UUID) -> str:
    return f"program.feeds:endpoint:{endpoint_id}"


class Dispatcher:
    """Runs one delivery task per endpoint whose lock this process holds."""

    def __init__(self, pool: asyncpg.Pool, url: str, listener: FeedListener,
                 application: Application, secrets: SecretBox, settings: FeedSettings,
                 clock: Clock) -> None:
        self.pool = pool
        self.listener = listener
        self.application = application
        self.secrets = secrets
        self.settings = settings
        self.clock = clock
        self.locks = LockSet(url, retry_interval=1.0)
        self.tasks: dict[UUID, asyncio.Task[None]] = {}
        # Connections go only to public addresses unless private ones are allowed (local
        # development, tests), and never through a proxy from the environment.
        self.client = webhooks.new_client(settings.timeout,
                                          allow_private=settings.allow_private_urls)
        # Deliveries hold a pooled connection while they have work: leave the API half.
        self.slots = asyncio.Semaphore(max(1, pool.get_max_size() // 2))
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.locks.start()
        self._task = asyncio.create_task(self._supervise(), name="feed-dispatcher")

    async def close(self) -> None:
        tasks = [t for t in (self._task, *self.tasks.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()
        await self.locks.close()
        await self.client.close()

    async def _supervise(self) -> None:
        async with self.listener.waiter() as woken:
            while True:
                self.locks.changed.clear()  # before reading what is held: no change is missed
                try:
                    rows = await self.pool.fetch(
                        "SELECT endpoint_id FROM feed_endpoints WHERE enabled AND NOT removed")
                    self.locks.want({lock_name(r[0]) for r in rows})
                    for r in rows:
                        self._ensure_task(UUID(bytes=r[0].bytes))  # not asyncpg's UUID
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    log.warning("dispatcher cannot read endpoints; retrying", exc_info=False)
                for endpoint_id, task in list(self.tasks.items()):
                    if task.done():
                        del self.tasks[endpoint_id]
                        if not task.cancelled() and task.exception() is not None:
                            log.error("delivery to endpoint %s failed: %s", endpoint_id,
                                      type(task.exception()).__name__)
                await self._wait(woken)

    async def _wait(self, woken: asyncio.Event) -> None:
        """Until the builder wakes us, a lock is gained or lost, or a second has passed."""
        waits = {asyncio.ensure_future(woken.wait()),
                 asyncio.ensure_future(self.locks.changed.wait())}
        try:
            await asyncio.wait(waits, timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
        woken.clear()

    def _ensure_task(self, endpoint_id: UUID) -> None:
        name = lock_name(endpoint_id)
        if name in self.locks.held and endpoint_id not in self.tasks:
            self.tasks[endpoint_id] = asyncio.create_task(
                Delivery(self, endpoint_id, self.locks.lost(name)).run(),
                name=f"deliver-{endpoint_id}")
