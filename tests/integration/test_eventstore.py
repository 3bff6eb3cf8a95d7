"""The event store against the real embedded PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
import pytest

from program.store import eventstore
from program.store.errors import VersionConflict
from program.store.eventstore import EventStore, Idempotency
from program.store.ledger import verify_chain
from program.store.records import NewEvent
from program.store.subscription import LogListener, follow


def ev(aggregate: uuid.UUID, version: int, n: int = 0) -> NewEvent:
    return NewEvent(aggregate, version, "tests:Thing.Happened", f'{{"n":{n}}}'.encode(),
                    {"actor": "tester", "role": "ADMIN"})


async def test_append_when_expected_version_matches_assigns_next_positions(store: EventStore) -> None:
    a = uuid.uuid4()
    before = await store.max_position()
    result = await store.append([ev(a, 1), ev(a, 2)])
    assert result.positions == [before + 1, before + 2]
    rows = await store.read_aggregate(a)
    assert [r.originator_version for r in rows] == [1, 2]
    assert rows[0].metadata["actor"] == "tester"


async def test_append_when_version_taken_raises_conflict_and_stores_nothing(store: EventStore) -> None:
    a = uuid.uuid4()
    await store.append([ev(a, 1)])
    with pytest.raises(VersionConflict):
        await store.append([ev(a, 1), ev(uuid.uuid4(), 1)])
    assert len(await store.read_aggregate(a)) == 1


async def test_32_concurrent_writers_on_one_aggregate_one_wins_per_version(store: EventStore) -> None:
    a = uuid.uuid4()
    await store.append([ev(a, 1)])

    async def writer(i: int) -> int:
        won = 0
        for _ in range(20):
            version = len(await store.read_aggregate(a)) + 1
            try:
                await store.append([ev(a, version, i)])
                won += 1
            except VersionConflict:
                pass
        return won

    wins = await asyncio.gather(*(writer(i) for i in range(32)))
    rows = await store.read_aggregate(a)
    assert [r.originator_version for r in rows] == list(range(1, len(rows) + 1))
    assert len(rows) == 1 + sum(wins)
    positions = [r.position for r in rows]
    assert len(set(positions)) == len(positions)


async def test_conflicting_append_fails_alone_in_its_batch(store: EventStore) -> None:
    taken = uuid.uuid4()
    await store.append([ev(taken, 1)])
    fresh = [uuid.uuid4() for _ in range(20)]
    results = await asyncio.gather(
        store.append([ev(taken, 1)]),
        *(store.append([ev(f, 1)]) for f in fresh),
        return_exceptions=True,
    )
    assert isinstance(results[0], VersionConflict)
    assert all(not isinstance(r, Exception) for r in results[1:])
    for f in fresh:
        assert len(await store.read_aggregate(f)) == 1


async def test_reader_tailing_by_position_sees_the_final_table_order(
    store: EventStore, db_url: str
) -> None:
    start = await store.max_position()
    listener = LogListener(db_url)
    await listener.start()
    seen: list[int] = []
    total = 64 * 15

    async def tail() -> None:
        async for rows in follow(store, listener, start, batch_size=37, poll_interval=0.2):
            seen.extend(r.position for r in rows)
            if len(seen) >= total:
                return

    async def writer() -> None:
        for _ in range(15):
            await store.append([ev(uuid.uuid4(), 1)])

    reader = asyncio.create_task(tail())
    await asyncio.gather(*(writer() for _ in range(64)))
    await asyncio.wait_for(reader, 30)
    await listener.close()
    final = [r.position for r in await store.read_after(start, 100_000)]
    assert seen == final
    assert final == list(range(start + 1, start + total + 1))


async def test_idempotency_key_when_reused_returns_first_result_and_appends_nothing(
    store: EventStore,
) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    first = await store.append([ev(a, 1)], Idempotency("k-1", "test", {"id": str(a)}))
    again = await store.append([ev(b, 1)], Idempotency("k-1", "test", {"id": str(b)}))
    assert again.duplicate and again.result == {"id": str(a)}
    assert again.position == first.position
    assert await store.read_aggregate(b) == []


async def test_verify_chain_when_one_byte_changes_fails_at_that_position(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    a = uuid.uuid4()
    result = await store.append([ev(a, 1), ev(a, 2), ev(a, 3)])
    async with pool.acquire() as conn:
        assert (await verify_chain(conn)).ok
        target = result.positions[1]
        await conn.execute(
            "UPDATE stored_events SET state = overlay(state placing '\\x58'::bytea from 2 for 1) "
            "WHERE notification_id = $1",
            target,
        )
        report = await verify_chain(conn)
        assert not report.ok and report.broken_at == target
        await conn.execute(
            "UPDATE stored_events SET state = $2 WHERE notification_id = $1",
            target, b'{"n":0}',
        )
        assert (await verify_chain(conn)).ok


async def test_append_while_a_vacuum_holds_the_log_table_is_not_held_up(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    # VACUUM and ANALYZE (and autovacuum) hold SHARE UPDATE EXCLUSIVE on the table for
    # as long as they run; appends must not queue behind them.
    async with pool.acquire() as vacuum, vacuum.transaction():
        await vacuum.execute("LOCK TABLE stored_events IN SHARE UPDATE EXCLUSIVE MODE")
        result = await asyncio.wait_for(store.append([ev(uuid.uuid4(), 1)]), timeout=5)
    assert len(result.positions) == 1


async def test_appends_when_many_writers_share_the_log_get_consecutive_positions(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    # The writer lock (an advisory lock now) still serialises writers: no gap, no repeat.
    before = await store.max_position()
    results = await asyncio.gather(*(store.append([ev(uuid.uuid4(), 1)]) for _ in range(64)))
    positions = sorted(p for r in results for p in r.positions)
    assert positions == list(range(before + 1, before + 65))


async def test_version_check_when_an_aggregate_has_a_long_history_reads_one_entry_of_it(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    """Appending checks each aggregate's latest version; a cohort with thousands of events
    must not make every append to it read all of them (the soak's writes slowed round by
    round as its cohorts' waitlists grew)."""
    long = uuid.uuid4()
    for start in range(1, 3001, 500):
        await store.append([ev(long, v) for v in range(start, start + 500)])
    await pool.execute("ANALYZE stored_events")

    unknown = uuid.uuid4()

    rows = await pool.fetch(eventstore.CURRENT_VERSIONS, [long, unknown])
    plan = await pool.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {eventstore.CURRENT_VERSIONS}",
                               [long, unknown])

    assert {r[0]: r[1] for r in rows} == {long: 3000, unknown: None}
    plan = json.loads(plan) if isinstance(plan, str) else plan
    read = _rows_read_from(plan[0]["Plan"], "stored_events")
    assert read <= 1, read  # the long aggregate's latest entry, nothing of the unknown one


def _rows_read_from(node: dict, table: str) -> int:
    """Rows the plan's scans of ``table`` returned, over all their loops."""
    own = (node["Actual Rows"] * node["Actual Loops"]
           if node.get("Relation Name") == table else 0)
    return int(own) + sum(_rows_read_from(child, table) for child in node.get("Plans", []))


async def test_the_log_keeps_only_the_indexes_its_reads_use(pool: asyncpg.Pool) -> None:
    """Every index on the log is written by every append, and an index led by a random id
    is written on a page of its own each time: at a million events the third index added
    about half a kilobyte of WAL (whole pages, after a checkpoint) to each append. An
    aggregate's past state as of a moment is read along its primary key (its own events,
    filtered by time)."""
    indexes = {r[0] for r in await pool.fetch(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'stored_events'")}

    assert len(indexes) == 2, indexes
    assert any("(originator_id, originator_version)" in i for i in indexes)
    assert any("(notification_id)" in i for i in indexes)


async def test_an_aggregate_as_of_a_moment_is_read_by_its_key(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    # given an aggregate with a long history, among others
    long = uuid.uuid4()
    for start in range(1, 2001, 500):
        await store.append([ev(long, v) for v in range(start, start + 500)])
    for _ in range(40):
        await store.append([ev(uuid.uuid4(), 1) for _ in range(500)])
    moment = await pool.fetchval("SELECT recorded_at FROM stored_events WHERE originator_id = $1 "
                                 "AND originator_version = 1000", long)
    await pool.execute("ANALYZE stored_events")

    # when it is read as of that moment
    rows = await store.read_aggregate(long, as_of=moment)
    plan = await pool.fetchval(
        "EXPLAIN (FORMAT JSON) SELECT * FROM stored_events WHERE originator_id = $1 "
        "AND originator_version > 0 AND recorded_at <= $2 ORDER BY originator_version",
        long, moment)

    # then it has its events up to then, read through its key
    assert [r.originator_version for r in rows][-1] >= 1000
    assert all(r.recorded_at <= moment for r in rows)
    assert "Seq Scan" not in json.dumps(plan)
