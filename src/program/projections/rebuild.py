"""Rebuild read models from zero: build aside in ``rm_<name>__new``, then swap in atomically.

Readers keep the old tables until the swap; the swap renames the schemas and moves the
checkpoint in one transaction, so a reader sees the old read model or the new one,
never a half-built one. A live runner is not stopped: the swap locks the checkpoint
row, which a runner's batch takes first, catches the new tables up to the head, and
the runner's next compare-and-set fails and resumes from the new checkpoint.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field

import asyncpg

from program.projections import building, failures, schemas, skips
from program.projections.base import Decoder, Envelope, Projection, as_rows
from program.projections.checkpoint import CHANNEL, CHECKPOINTS
from program.projections.registry import select
from program.store.database import takes_session_state
from program.store.eventstore import EventStore
from program.store.repository import Repository

BATCH = 8000


class RebuildBusy(Exception):
    """Another process is rebuilding this read model right now."""


@dataclass(frozen=True)
class RebuildProgress:
    """A progress report: ``phase`` is ``build``, ``index``, ``swap`` or ``done``."""

    phase: str
    done: int
    total: int
    name: str | None = None


@dataclass(frozen=True)
class RebuildResult:
    names: list[str]
    events: int
    seconds: float
    positions: dict[str, int] = field(default_factory=dict)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


Progress = Callable[[RebuildProgress], None]


async def rebuild(
    pool: asyncpg.Pool,
    store: EventStore,
    repository: Repository,
    names: Iterable[str] | None = None,
    progress: Progress | None = None,
    *,
    batch_size: int = BATCH,
    projections: Sequence[Projection] | None = None,
) -> RebuildResult:
    """Rebuild the named read models (default all) from the first event, reading once for all.

    Positions an operator skipped are skipped again; an event a read model cannot apply
    stops the rebuild with ``EventFailed`` naming it, and the live read model stays as
    it was."""
    chosen = list(projections) if projections is not None else select(names)
    report = progress or (lambda _p: None)
    started = time.perf_counter()
    await schemas.ensure(pool, chosen)
    async with _exclusive(pool, [p.name for p in chosen]), _collector_spared():
        head = await store.max_position()
        report(RebuildProgress("build", 0, head))
        await _create_aside(pool, chosen)
        decoder = Decoder.for_mapper(repository.mapper)
        skip = {p.name: await skips.skipped(store, repository.mapper, p.name) for p in chosen}
        events = await building.build(
            pool, decoder, chosen, head, batch_size,
            lambda done: report(RebuildProgress("build" if done < head else "index", done, head)),
            skip,
        )
        positions = {}
        for p in chosen:
            report(RebuildProgress("swap", events, head, p.name))
            positions[p.name] = await _swap(pool, store, decoder, p, events, batch_size,
                                            skip[p.name])
    result = RebuildResult([p.name for p in chosen], events, time.perf_counter() - started,
                           positions)
    report(RebuildProgress("done", events, head))
    return result


@contextlib.asynccontextmanager
async def _exclusive(pool: asyncpg.Pool, names: list[str]) -> AsyncIterator[None]:
    """One rebuild per read model at a time (session-level locks on a held connection)."""
    async with pool.acquire() as conn:
        takes_session_state(conn)
        taken: list[str] = []
        try:
            for name in names:
                if not await conn.fetchval(
                    "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", f"program.rebuild:{name}"
                ):
                    raise RebuildBusy(name)
                taken.append(name)
            yield
        finally:
            for name in taken:
                await conn.execute(
                    "SELECT pg_advisory_unlock(hashtextextended($1, 0))", f"program.rebuild:{name}"
                )


# While a rebuild runs the collector looks at new objects only after this many more have
# been made (the default is 700): see ``_collector_spared``.
REBUILD_GC_THRESHOLDS = (500_000, 100, 100)


@contextlib.asynccontextmanager
async def _collector_spared() -> AsyncIterator[None]:
    """Keep the cyclic garbage collector off the objects that already exist, and let it
    look at the rebuild's own objects rarely.

    A rebuild allocates millions of short-lived objects, and each full collection would
    walk everything the process holds (an aggregate cache, say) again and again: in a
    process holding 200,000 events that halved the rebuild's speed. Each batch's decoded
    events then outlived many young collections and were walked again and again as they
    aged: a quarter of the rebuild's Python time (rebuild 32–37k events/s with the
    default thresholds, 48–53k with these). A rebuild makes no reference cycles
    (``tests/integration/test_projection_rebuild.py``), so collecting rarely keeps no
    garbage; the collector still runs, for whatever else the process does meanwhile.
    """
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(*REBUILD_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


_aside = building.aside


async def _create_aside(pool: asyncpg.Pool, chosen: Sequence[Projection]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        for p in chosen:
            # Indexes come after the bulk load: building them once is cheaper.
            await schemas.create(conn, p, _aside(p), indexes=False)


async def _swap(
    pool: asyncpg.Pool,
    store: EventStore,
    decoder: Decoder,
    projection: Projection,
    built_to: int,
    batch_size: int,
    skip: frozenset[int],
) -> int:
    """Catch the aside tables up to the head and swap them in, with the checkpoint, at once."""
    aside = _aside(projection)
    async with pool.acquire() as conn:

        async def apply(batch: Sequence[Envelope]) -> None:
            async with conn.transaction():  # a savepoint: a failing event is named
                await projection.apply(conn, aside, batch)

        async with conn.transaction():
            # Lock the checkpoint row: a live runner's next batch waits here, then sees the
            # checkpoint moved and resumes from it.
            await conn.fetchval(
                f"SELECT position FROM {CHECKPOINTS} WHERE name = $1 FOR UPDATE", projection.name
            )
            position = built_to
            while rows := await store.read_after(position, batch_size):
                batch = decoder.envelopes_skipping(projection, as_rows(rows), skip)
                if batch:
                    await failures.isolate(apply, batch, building.where, projection.name)
                position = rows[-1].position
            await conn.execute(
                f"UPDATE {CHECKPOINTS} SET position = $2, version = $3, updated_at = now(), "
                "error = NULL, error_at = NULL WHERE name = $1",
                projection.name, position, projection.schema_version(),
            )
            old = await schemas.swap_in(conn, projection, aside)
            await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, f"{projection.name}:{position}")
        await schemas.drop(conn, old)
        await failures.clear(conn, projection.name, position)
    return position
