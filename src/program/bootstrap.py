"""The composition root: build every service from the settings, and take it all down again."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import asyncpg

from program.application.context import Clock
from program.application.receipts import DATA_CATEGORIES, ConsentReceipts
from program.feeds.runtime import FeedService, start_feeds
from program.settings import Settings
from program.store.checkpointer import Checkpointer
from program.store.checkpoints import CheckpointLog, load_signer
from program.store.database import Database, create_pool
from program.store.eventstore import EventStore
from program.store.keys import KeyStore
from program.store.mapping import create_mapper
from program.store.reads import ReadLane
from program.store.repository import Repository
from program.store.schema import migrate
from program.store.subscription import LogListener
from program.transparency.receipt import Controller

if TYPE_CHECKING:
    from program.application.services import Application
    from program.projections.runner import ProjectionRunner

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a running program holds: database, store, application, projections."""

    settings: Settings
    database: Database
    pool: asyncpg.Pool
    store: EventStore
    listener: LogListener
    repository: Repository
    keys: KeyStore
    application: Application
    ledger: CheckpointLog
    receipts: ConsentReceipts
    checkpointer: Checkpointer | None = None
    projections: ProjectionRunner | None = None
    feeds: FeedService | None = None
    search_index_key: bytes | None = None  # the people search's blind-index key, read once
    reads: ReadLane | None = None  # the API's single read statements (None: through the pool)

    async def close(self) -> None:
        feeds, self.feeds = self.feeds, None
        if feeds is not None:
            with contextlib.suppress(Exception):
                await feeds.close()
        if self.projections is not None:
            with contextlib.suppress(Exception):
                await self.projections.stop()
        if self.checkpointer is not None:
            await self.checkpointer.stop()
        if self.reads is not None:
            await self.reads.close()
        await self.store.close()
        await self.listener.close()
        await self.pool.close()
        self.database.close()


def read_lane_size(settings: Settings) -> int:
    """Connections the read lane may open besides the pool: half as many again."""
    return max(1, settings.pool_max_size // 2)


async def open_services(
    settings: Settings,
    *,
    database: Database | None = None,
    run_projections: bool | None = None,
    clock: Clock | None = None,
    run_feeds: bool | None = None,
    checkpoints: bool = False,
) -> Services:
    """Start (or reach) the database, migrate it, and build the services on top;
    ``checkpoints`` also signs checkpoints in the background (as ``serve`` does)."""
    from program.application.services import Application

    database = database or Database.open(settings.database_url, settings.pgdata)
    pool = await create_pool(
        database.url, min_size=settings.pool_min_size, max_size=settings.pool_max_size
    )
    async with pool.acquire() as conn:
        await migrate(conn)
    store = EventStore(pool)
    await store.start()
    listener = LogListener(database.url)
    await listener.start()
    repository = Repository(store, create_mapper())
    keys = KeyStore(pool)
    application = Application(repository, keys, clock=clock)
    signer = load_signer(settings.ledger_origin, settings.data_dir, settings.ledger_key)
    assert signer is not None
    ledger = CheckpointLog(pool, signer)
    services = Services(settings, database, pool, store, listener, repository, keys, application,
                        ledger, receipts=ConsentReceipts(repository, ledger, controller_of(settings),
                                                         clock=clock),
                        reads=ReadLane(database.url, pool, size=read_lane_size(settings)))
    if checkpoints and settings.checkpoint_every > 0:
        services.checkpointer = Checkpointer(
            ledger, store, listener,
            every=settings.checkpoint_every, interval=settings.checkpoint_interval,
        )
        services.checkpointer.start()
    apply = run_projections if run_projections is not None else settings.run_projections
    services.projections = await start_projections(services, apply=apply)
    services.feeds = await start_feeds(
        services, run=settings.feeds.run if run_feeds is None else run_feeds)
    return services


def controller_of(settings: Settings) -> Controller:
    """What receipts and subject-access exports say about the data controller."""
    return Controller(
        name=settings.controller_name, contact=settings.controller_contact,
        jurisdiction=settings.jurisdiction, policy_url=settings.privacy_policy_url,
        retention=settings.retention, withdrawal=settings.withdrawal,
        data_categories=DATA_CATEGORIES,
    )


async def start_projections(services: Services, *, apply: bool = True) -> ProjectionRunner:
    """Apply the read models here, or (``apply=False``) only watch a projector running
    elsewhere, so ``consistentWith`` and the result cache still know its positions."""
    from program.projections.runner import ProjectionRunner

    runner = ProjectionRunner(
        services.pool, services.store, services.listener, services.repository,
        run=None if apply else (),
    )
    await runner.start()
    return runner
