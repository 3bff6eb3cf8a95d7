"""Group commit isolates failures: a request whose SQL fails fails alone, in any batch."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from program.store.errors import VersionConflict
from program.store.eventstore import EventStore
from program.store.ledger import verify_chain
from program.store.records import NewEvent


def ev(aggregate: uuid.UUID, version: int = 1, **metadata: object) -> NewEvent:
    return NewEvent(aggregate, version, "tests:Thing.Happened", b'{"n":1}',
                    {"actor": "tester", "role": "ADMIN", **metadata})


def poisoned() -> NewEvent:
    """jsonb refuses ``\\u0000``: this row makes any INSERT that carries it fail."""
    return ev(uuid.uuid4(), note="nul \x00 here")


async def _positions_are_gap_free_and_chained(pool: asyncpg.Pool, store: EventStore) -> None:
    async with pool.acquire() as conn:
        report = await verify_chain(conn)
        count = await conn.fetchval("SELECT count(*) FROM stored_events")
    assert report.ok, report
    assert report.last_position == count == await store.max_position()


async def test_append_when_one_request_in_a_batch_fails_only_that_request_fails(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    before = await store.max_position()
    good = [[ev(uuid.uuid4())] for _ in range(300)]
    requests = [*good[:150], [poisoned()], *good[150:]]
    results = await asyncio.gather(*(store.append(r) for r in requests), return_exceptions=True)

    failed = [i for i, r in enumerate(results) if isinstance(r, BaseException)]
    assert failed == [150], [results[i] for i in failed]
    assert isinstance(results[150], asyncpg.PostgresError)
    positions = sorted(p for r in results if not isinstance(r, BaseException) for p in r.positions)
    assert positions == list(range(before + 1, before + 301))
    # Requests keep their queue order even when retried apart.
    firsts = [r.positions[0] for r in results if not isinstance(r, BaseException)]
    assert firsts == sorted(firsts)
    await _positions_are_gap_free_and_chained(pool, store)


async def test_append_when_several_requests_fail_each_fails_with_its_own_error(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    taken = uuid.uuid4()
    await store.append([ev(taken)])
    requests = [[ev(uuid.uuid4())] for _ in range(40)]
    requests[3] = [poisoned()]
    requests[17] = [ev(taken)]  # a version conflict, decided inside the batch
    requests[31] = [ev(uuid.uuid4()), poisoned()]  # all of a request, or none of it
    results = await asyncio.gather(*(store.append(r) for r in requests), return_exceptions=True)

    assert isinstance(results[3], asyncpg.PostgresError)
    assert isinstance(results[17], VersionConflict)
    assert isinstance(results[31], asyncpg.PostgresError)
    assert await store.read_aggregate(requests[31][0].originator_id) == []
    assert all(not isinstance(r, BaseException)
               for i, r in enumerate(results) if i not in (3, 17, 31))
    await _positions_are_gap_free_and_chained(pool, store)


async def test_append_when_a_lone_request_fails_the_store_keeps_writing(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    with pytest.raises(asyncpg.PostgresError):
        await store.append([poisoned()])
    a = uuid.uuid4()
    assert (await store.append([ev(a)])).position == await store.max_position()
    await _positions_are_gap_free_and_chained(pool, store)
