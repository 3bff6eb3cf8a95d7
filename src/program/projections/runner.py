"""Run the projections: one task per projection, each holding its lock, catching up, following.

Why a task per projection rather than one task for all: each projection has its own
lock (another process may hold some of them), its own checkpoint and its own failures.
A projection whose handler fails retries with backoff while the others keep going, and
a projector taking over one lock does not wait for the others. The cost, reading the
log once per projection, is small next to writing the views (the rows are light tuples,
and each event is decoded once for all tasks); a full rebuild, where it would matter,
reads once for all (see ``rebuild``).

A projection never stops silently. When a batch fails, its halves are applied, and so
on, so every event before the failing one commits and that one is named
(``EventFailed``). The failure is recorded durably (``failures``), logged once per
change, and retried with a doubling backoff (``first_backoff`` up to ``max_backoff``)
while the read model keeps serving what it has and the other projections go on. An
operator's ``program projections skip|retry`` (a ``ProjectionMaintenance`` event and a
NOTIFY, see ``skips``) cuts the wait short, from any process.

Waiting (``wait_for``) wakes on this process's own commits and on the NOTIFY every
projector sends with its checkpoint, so an API process answers ``consistentWith`` as
soon as any projector, here or elsewhere, has applied the position.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import asyncpg

from program.projections import changes, checkpoint, schemas, skips
from program.projections.applying import apply_rows, project_rows  # noqa: F401 (re-export)
from program.projections.base import Decoder, Projection
from program.projections.checkpoint import ProjectionStatus, StaleCheckpoint
from program.projections.failures import Failure
from program.projections.locks import ProjectionLocks
from program.projections.log import ProjectionLog
from program.projections.registry import all_projections
from program.projections.stuck import StuckProjections
from program.store.eventstore import EventStore
from program.store.repository import Repository
from program.store.subscription import LogListener, follow
from program.waiting import woken

log = logging.getLogger(__name__)


# Decoded events shared between read models: kept only until every read model has
# passed them, and never more than this many (a read model far behind others).
DECODED_LIMIT = 10_000


class ProjectionRunner:
    """Keeps the read models up to date in this process and answers how far they are."""

    relisten_interval = 5.0  # seconds between attempts to LISTEN again after losing it

    def __init__(
        self,
        pool: asyncpg.Pool,
        store: EventStore,
        listener: LogListener | None,
        repository: Repository,
        *,
        projections: Iterable[Projection] | None = None,
        run: Iterable[str] | None = None,
        url: str | None = None,
        batch_size: int = 2000,
        poll_interval: float = 1.0,
        lock_retry_interval: float = 1.0,
        first_backoff: float = 0.5,
        max_backoff: float = 60.0,
    ) -> None:
        """``run`` names the projections this process applies (default all; ``()`` only
        watches, for an API process whose projector runs elsewhere)."""
        self.pool = pool
        self.store = store
        self.listener = listener
        self.repository = repository
        self.projections = {p.name: p for p in (projections or all_projections())}
        self.running = [n for n in (self.projections if run is None else run)]
        unknown = [n for n in self.running if n not in self.projections]
        if unknown:
            raise ValueError(f"unknown read models: {', '.join(unknown)}")
        self.url = url or (listener.url if listener is not None else None)
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.decoder = Decoder.for_mapper(repository.mapper)
        # Tasks for different read models read the same rows at about the same time:
        # each event is decoded once for all of them.
        self._decoded: dict[int, Any] = {}
        self.log = ProjectionLog(pool, listener=listener, metadata=any(
            self.projections[n].reads_metadata for n in self.running))
        self.locks = ProjectionLocks(self._require_url(), self.running, lock_retry_interval)
        self.applied: Counter[str] = Counter()
        self.stuck = StuckProjections(pool, self.running)
        self._skips: dict[str, frozenset[int]] = {}
        self._positions: dict[str, int] = {}
        self.changes = changes.ChangeLog()  # which entities recent batches changed, anywhere
        self._changed = asyncio.Event()
        self._outdated: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._watch: asyncpg.Connection | None = None
        self._refreshing: asyncio.Future[dict[str, int]] | None = None
        self._refreshed_at = self._listened_at = float("-inf")
        self._started = False

    def _require_url(self) -> str:
        if self.url is None:
            raise ValueError("ProjectionRunner needs a database URL (from the listener or url=)")
        return self.url

    # -- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        """Ensure the read-model schemas, then start a task per projection this process runs."""
        if self._started:
            return
        self._started = True
        self._outdated = await schemas.ensure(self.pool, self.projections.values())
        await self._listen()
        await self._refresh()
        self.locks.start()
        for name in self.running:
            self._tasks.append(asyncio.create_task(self._work(self.projections[name]),
                                                   name=f"projection-{name}"))

    async def stop(self) -> None:
        """Stop applying (a batch in flight rolls back) and let go of the locks."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        await self.locks.close()
        self._started = False
        watch, self._watch = self._watch, None
        if watch is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(watch.close(), 5)

    # -- status and waiting ----------------------------------------------------

    @property
    def errors(self) -> dict[str, str]:
        """Projections this runner cannot move, with the error class and a short message."""
        return self.stuck.errors

    @property
    def failures(self) -> dict[str, Failure]:
        """Projections this runner cannot move, with their failure as recorded."""
        return self.stuck.failures

    async def status(self) -> list[ProjectionStatus]:
        """Every projection's position and lag, as recorded in the database."""
        return await checkpoint.statuses(self.pool, self.projections)

    def positions(self) -> dict[str, int]:
        return dict(self._positions)

    @property
    def outdated(self) -> frozenset[str]:
        """Read models whose tables changed shape and await their rebuild."""
        return frozenset(self._outdated)

    async def wait_for(
        self, position: int, timeout: float = 5.0, names: Iterable[str] | None = None
    ) -> bool:
        """True once every projection (or those named) has applied ``position``.

        Wakes on this process's own commits and on other projectors' NOTIFY at once;
        re-reads the checkpoints every 100 ms in case a notification was missed.
        """
        wanted = list(names) if names is not None else list(self.projections)
        positions = self._positions
        return await self.wait_until(
            lambda: all(positions.get(n, 0) >= position for n in wanted), timeout
        )

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Wait until ``predicate()`` holds, re-checking on every change this runner sees."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if predicate():
                return True
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            changed = self._changed
            if not await woken(changed, min(remaining, 0.1)):
                await self._refresh()

    def _advanced(self, name: str, position: int) -> None:
        if position > self._positions.get(name, -1):
            self._positions[name] = position
            self._signal()

    def _signal(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def _refresh(self) -> None:
        """Re-read the checkpoints, at most every 100 ms however many are waiting (and
        LISTEN again, at most every 5 s, if the connection for it was lost)."""
        loop = asyncio.get_running_loop()
        if self._refreshing is None or self._refreshing.done():
            if loop.time() - self._refreshed_at < 0.1:
                return
            self._refreshed_at = loop.time()
            self._refreshing = asyncio.ensure_future(checkpoint.read_all(self.pool))
            if (self._started and self._watch is None
                    and loop.time() - self._listened_at > self.relisten_interval):
                await self._listen()
        for name, position in (await asyncio.shield(self._refreshing)).items():
            self._advanced(name, position)

    async def _listen(self) -> None:
        def on_notify(_c: object, _pid: int, _channel: str, payload: str) -> None:
            name, _, position = payload.rpartition(":")
            with contextlib.suppress(ValueError):
                self._advanced(name, int(position))

        def on_maintenance(_c: object, _pid: int, _channel: str, payload: str) -> None:
            self.stuck.wake(payload)

        def on_changes(_c: object, _pid: int, _channel: str, payload: str) -> None:
            with contextlib.suppress(ValueError):
                self.changes.record(*changes.parse(payload))

        def on_lost(conn: object) -> None:
            if self._watch is conn:
                self._watch = None

        self._listened_at = asyncio.get_running_loop().time()
        try:
            conn = await asyncpg.connect(self._require_url())
            await conn.add_listener(checkpoint.CHANNEL, on_notify)
            await conn.add_listener(skips.CHANNEL, on_maintenance)
            await conn.add_listener(changes.CHANNEL, on_changes)
            conn.add_termination_listener(on_lost)
        except (OSError, asyncpg.PostgresError):
            log.warning("cannot LISTEN for checkpoints; wait_for will poll", exc_info=True)
            return
        self._watch = conn

    # -- one projection ----------------------------------------------------------

    async def _work(self, projection: Projection) -> None:
        name = projection.name
        backoff = self.first_backoff
        while True:
            lost = await self.locks.acquired(name)
            job = asyncio.create_task(self._follow(projection))
            gone = asyncio.create_task(lost.wait())
            try:
                await asyncio.wait({job, gone}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (job, gone):
                    task.cancel()
                await asyncio.gather(job, gone, return_exceptions=True)
            if gone.done() and not gone.cancelled():
                continue  # lock lost: wait to hold it again
            failure = None if job.cancelled() else job.exception()
            if isinstance(failure, StaleCheckpoint) or failure is None:
                continue
            applied = self._positions.get(name, 0)
            if self.stuck.is_new(name, failure, applied):
                backoff = self.first_backoff
            await self.stuck.failed(name, failure, applied, backoff)
            self._signal()
            woken = await self.stuck.pause(name, backoff)
            backoff = self.first_backoff if woken else min(backoff * 2, self.max_backoff)

    async def _follow(self, projection: Projection) -> None:
        name = projection.name
        self.stuck.starting(name)
        self._skips[name] = await skips.skipped(self.store, self.repository.mapper, name)
        if name in self._outdated:
            from program.projections.rebuild import rebuild

            if await checkpoint.version(self.pool, name) != projection.schema_version():
                log.info("projection %s: tables changed, rebuilding", name)
                await rebuild(self.pool, self.store, self.repository, [name],
                              projections=[projection])
            self._outdated.discard(name)  # rebuilt, here or by someone else meanwhile
            self._signal()
        position = await checkpoint.read(self.pool, name)
        self._advanced(name, position)
        await self.stuck.recovered(name, position, starting=True)
        async for rows in follow(self.log, self.listener, position,  # type: ignore[arg-type]
                                 batch_size=self.batch_size, poll_interval=self.poll_interval):
            if len(self._decoded) > DECODED_LIMIT:
                self._decoded = {}
            if self.stuck.skips_changed(name):
                self._skips[name] = await skips.skipped(self.store, self.repository.mapper, name)
            position = await apply_rows(self.pool, projection, self.decoder, rows, position,
                                        self._skips.get(name, frozenset()), self._decoded,
                                        heard=self.changes.record)
            self.applied[name] += len(rows)
            await self.stuck.recovered(name, position)
            self._advanced(name, position)
            self._forget_decoded()
            self._signal()

    def _forget_decoded(self) -> None:
        """Drop decoded events every running read model has passed: nobody will ask again.

        Without this the shared cache only emptied at its limit, so a busy server's
        memory grew by its whole size (tens of megabytes) before falling back.
        """
        floor = min((self._positions.get(n, 0) for n in self.running), default=0)
        if self._decoded and next(iter(self._decoded)) <= floor:
            self._decoded = {p: e for p, e in self._decoded.items() if p > floor}


def runner_for(services: Any, **options: Any) -> ProjectionRunner:
    """A runner over an opened ``Services``."""
    return ProjectionRunner(services.pool, services.store, services.listener,
                            services.repository, **options)
