"""Building read models aside from the log, as fast as one process can.

One reader fetches each batch of rows once (the next batch is fetched while this one
is worked on) and decodes each event once for every read model. Each read model has
its own worker and connection, fed through a short queue: while PostgreSQL writes
one batch of a read model, Python prepares the next batch of another. The aside
tables need no durable commits: a crash throws them away.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg

from program.projections import failures, schemas
from program.projections.base import Decoder, Envelope, Projection, RangeProjection
from program.projections.log import ProjectionLog

QUEUED_BATCHES = 2


def aside(projection: Projection) -> str:
    return projection.schema + schemas.NEW


def where(e: Envelope) -> tuple[int, str]:
    return e.position, e.kind


async def _work(pool: asyncpg.Pool, projection: Projection,
                queue: asyncio.Queue[tuple[int, list[Envelope]] | None],
                done: Callable[[str, int], None]) -> None:
    schema = aside(projection)

    async def apply(batch: Sequence[Envelope]) -> None:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL synchronous_commit TO off")
            await projection.apply(conn, schema, batch)

    while (item := await queue.get()) is not None:
        position, batch = item
        if batch:  # a failing event is named (EventFailed), not just the batch
            await failures.isolate(apply, batch, where, projection.name)
        done(projection.name, position)
    await finish(pool, [projection])


async def _copy(pool: asyncpg.Pool, projection: RangeProjection, head: int,
                skip: frozenset[int]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL synchronous_commit TO off")
        after = 0
        for skipped in sorted(p for p in skip if p <= head):
            await projection.apply_range(conn, aside(projection), after, skipped - 1)
            after = skipped
        await projection.apply_range(conn, aside(projection), after, head)
    await finish(pool, [projection])


async def _put(queue: asyncio.Queue[Any], item: Any, worker: asyncio.Task[None]) -> None:
    """Queue ``item``, unless the worker has failed (then raise its error)."""
    if worker.done():
        worker.result()
        raise RuntimeError("read-model worker stopped early")
    put = asyncio.ensure_future(queue.put(item))
    finished, _ = await asyncio.wait({put, worker}, return_when=asyncio.FIRST_COMPLETED)
    if put not in finished:
        put.cancel()
        worker.result()
        raise RuntimeError("read-model worker stopped early")


async def build(
    pool: asyncpg.Pool,
    decoder: Decoder,
    chosen: Sequence[Projection],
    head: int,
    batch_size: int,
    progress: Callable[[int], None],
    skip: dict[str, frozenset[int]] | None = None,
) -> int:
    """Apply every row up to ``head`` to each read model's aside tables, then index each
    as soon as it is loaded; returns the position reached. ``progress`` hears the
    position every read model has applied; ``skip`` names the positions each read model
    goes without (an operator's decision). An event a read model cannot apply stops the
    build with ``EventFailed`` naming it."""
    skip = skip or {}
    ranged = [p for p in chosen if isinstance(p, RangeProjection)]
    chosen = [p for p in chosen if not isinstance(p, RangeProjection)]
    log = ProjectionLog(pool, metadata=any(p.reads_metadata for p in chosen))
    applied = {p.name: 0 for p in chosen}

    def done(name: str, position: int) -> None:
        before = min(applied.values())
        applied[name] = position
        if min(applied.values()) > before:
            progress(min(applied.values()))

    queues = {p.name: asyncio.Queue[tuple[int, list[Envelope]] | None](QUEUED_BATCHES)
              for p in chosen}
    workers = {p.name: asyncio.create_task(_work(pool, p, queues[p.name], done))
               for p in chosen}
    # Copied in the database, alongside: the other core's work while Python decodes.
    workers.update({p.name: asyncio.create_task(_copy(pool, p, head, skip.get(p.name, frozenset())))
                    for p in ranged})
    position = 0 if chosen else head
    reading = asyncio.create_task(log.read_range(0, min(batch_size, head)))
    try:
        while position < head:
            rows = await reading
            if not rows:
                break
            position = rows[-1][0]
            if position < head:
                reading = asyncio.create_task(
                    log.read_range(position, min(position + batch_size, head)))
            kinds = decoder.kinds(rows)
            cache: dict[int, Any] = {}
            for p in chosen:
                batch = decoder.envelopes_skipping(p, rows, skip.get(p.name, frozenset()), cache,
                                                   kinds)
                await _put(queues[p.name], (position, batch), workers[p.name])
        for p in chosen:
            await _put(queues[p.name], None, workers[p.name])
        await asyncio.gather(*workers.values())
        if not chosen:
            progress(head)
    finally:
        reading.cancel()
        for worker in workers.values():
            worker.cancel()
        await asyncio.gather(reading, *workers.values(), return_exceptions=True)
    return position


async def finish(pool: asyncpg.Pool, chosen: Sequence[Projection], concurrency: int = 4) -> None:
    """Build the indexes (after the load: once, sorted, is cheaper), several at a time,
    then gather statistics."""
    limit = asyncio.Semaphore(concurrency)

    async def run(sql: str) -> None:
        async with limit, pool.acquire() as conn:
            await conn.execute(sql)

    await asyncio.gather(*(run(index.format(schema=aside(p)))
                           for p in chosen for index in p.indexes))
    await asyncio.gather(*(run(f"ANALYZE {aside(p)}.{t.name}") for p in chosen for t in p.tables))
