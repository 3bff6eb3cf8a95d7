"""The feed runtime of one process: the builder (when this process holds its lock), the
webhook dispatcher, and what the API's channels share (pseudonyms, listener)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Protocol
from uuid import UUID

import asyncpg

from program.application.context import Clock
from program.application.services import Application
from program.domain.errors import InvalidInput
from program.feeds import tables
from program.feeds.builder import FeedBuilder, StaleCheckpoint
from program.feeds.dispatcher import Dispatcher
from program.feeds.listen import FeedListener
from program.feeds.locks import LockSet
from program.feeds.metrics import FEED_METRICS
from program.feeds.pseudonyms import Pseudonyms, resolve_master_key
from program.feeds.secrets import SecretBox
from program.feeds.urls import UnsafeUrl, check
from program.settings import Settings
from program.store.database import Database
from program.store.keys import KeyStore
from program.store.repository import Repository
from program.store.subscription import LogListener
from program.waiting import woken

log = logging.getLogger(__name__)
BUILDER_LOCK = "program.feeds:builder"


class FeedTools:
    """What partner commands need from outside the domain (``WebhookTools``)."""

    def __init__(self, secrets: SecretBox, allow_private: bool, overlap_hours: float) -> None:
        self.secrets = secrets
        self.allow_private = allow_private
        self.secret_overlap = timedelta(hours=overlap_hours)

    async def check_url(self, url: str) -> None:
        try:
            await check(url, self.allow_private)
        except UnsafeUrl as exc:
            raise InvalidInput("url", str(exc)) from None

    async def seal_new_secret(self, endpoint_id: UUID) -> tuple[str, str]:
        return await self.secrets.seal_new(endpoint_id)

    async def shred_secrets(self, endpoint_id: UUID) -> None:
        await self.secrets.keys.destroy(endpoint_id)


class FeedHost(Protocol):
    """What feeds use of the running program (``bootstrap.Services`` is one)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def pool(self) -> asyncpg.Pool: ...
    @property
    def database(self) -> Database: ...
    @property
    def keys(self) -> KeyStore: ...
    @property
    def repository(self) -> Repository: ...
    @property
    def application(self) -> Application: ...
    @property
    def listener(self) -> LogListener: ...


class FeedService:
    """Starts and stops feeds in a process (``run``: build and deliver here too)."""

    def __init__(self, services: FeedHost, *, run: bool) -> None:
        settings = services.settings
        self.services = services
        self.settings = settings.feeds
        self.run = run
        self.pool = services.pool
        self.url = services.database.url
        self.pseudonyms = Pseudonyms(resolve_master_key(self.settings.pseudonym_key,
                                                        settings.data_dir))
        self.secrets = SecretBox(services.keys)
        self.listener = FeedListener(self.url)
        self.builder = FeedBuilder(self.pool, services.repository.mapper, self.pseudonyms)
        self.dispatcher: Dispatcher | None = None
        self._locks = LockSet(self.url)
        self._task: asyncio.Task[None] | None = None
        services.application.webhook_tools = FeedTools(
            self.secrets, self.settings.allow_private_urls, self.settings.secret_overlap_hours)

    async def render_metrics(self) -> str:
        return await FEED_METRICS.render(self.pool)

    @property
    def clock(self) -> Clock:
        return self.services.application.clock

    async def start(self) -> None:
        await tables.ensure(self.pool)
        await self.listener.start()
        if not self.run:
            return
        self._locks.want({BUILDER_LOCK})
        self._locks.start()
        self._task = asyncio.create_task(self._build_forever(), name="feed-builder")
        self.dispatcher = Dispatcher(self.pool, self.url, self.listener, self.services.application,
                                     self.secrets, self.settings, self.clock)
        self.dispatcher.start()

    async def close(self) -> None:
        if self.dispatcher is not None:
            await self.dispatcher.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._locks.close()
        await self.listener.close()

    async def _build_forever(self) -> None:
        log_listener = self.services.listener
        waiter = log_listener.register()
        try:
            while True:
                if BUILDER_LOCK not in self._locks.held:
                    self._locks.changed.clear()
                    await woken(self._locks.changed, 1.0)
                    continue
                await self._build_while_held(waiter, self._locks.lost(BUILDER_LOCK))
        finally:
            log_listener.unregister(waiter)

    async def _build_while_held(self, waiter: asyncio.Event, lost: asyncio.Event) -> None:
        await self.builder.load()
        backoff = 0.5
        while not lost.is_set():
            waiter.clear()
            try:
                rows = await self.builder.read()
                await self.builder.build(rows)
                backoff = 0.5
            except StaleCheckpoint:
                return
            except Exception:  # report, back off, retry: never stop silently
                log.exception("feed builder failed; retrying in %.1f s", backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            if len(rows) < self.builder.batch_size:
                await woken(waiter, 1.0)


async def start_feeds(services: FeedHost, *, run: bool) -> FeedService:
    feeds = FeedService(services, run=run)
    await feeds.start()
    return feeds
