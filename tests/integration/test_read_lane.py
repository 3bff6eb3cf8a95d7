"""The read lane: connections of its own for the API's single read statements, used
without the pool's acquire and release, and never left in a state another read would
trip on (a cancelled statement, a dead connection, a closed lane)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest

from program.store.reads import ReadLane


Lanes = Callable[[int], ReadLane]


@pytest.fixture
async def lanes(db_url: str, pool: asyncpg.Pool) -> AsyncIterator[Lanes]:
    """Lanes of a given size on the test database, closed afterwards."""
    made: list[ReadLane] = []

    def lane(size: int) -> ReadLane:
        made.append(ReadLane(db_url, pool, size=size))
        return made[-1]

    yield lane
    for each in made:
        await each.close()


async def _lane_backends(pool: asyncpg.Pool, lane: ReadLane) -> int:
    pids = lane.backend_pids()
    return int(await pool.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])", pids))


async def test_reads_go_through_the_lane_without_the_pool(lanes: Lanes) -> None:
    # given a lane of two connections
    lane = lanes(2)
    # when reads run one after another
    for i in range(5):
        assert (await lane.fetch("SELECT $1::int AS n", i))[0]["n"] == i
    # then one lane connection served them all, decoding json as the pool's do
    assert len(lane.backend_pids()) == 1
    assert (await lane.fetch("SELECT '{\"a\": [1]}'::jsonb AS j"))[0]["j"] == {"a": [1]}


async def test_more_concurrent_reads_than_the_lane_holds_go_to_the_pool(lanes: Lanes) -> None:
    # given a lane of two connections
    lane = lanes(2)
    # when eight reads run at once
    rows = await asyncio.gather(*(lane.fetch("SELECT pg_sleep(0.05), $1::int AS n", i)
                                  for i in range(8)))
    # then every read is answered, and the lane opened no more than its size
    assert [r[0]["n"] for r in rows] == list(range(8))
    assert len(lane.backend_pids()) <= 2


async def test_a_query_error_leaves_the_connection_in_the_lane(lanes: Lanes) -> None:
    lane = lanes(1)
    await lane.fetch("SELECT 1")
    pids = lane.backend_pids()
    # when a statement fails in the server
    with pytest.raises(asyncpg.PostgresError):
        await lane.fetch("SELECT 1/0")
    # then the error reaches the caller, and the same connection serves the next read
    assert (await lane.fetch("SELECT 2 AS n"))[0]["n"] == 2
    assert lane.backend_pids() == pids


async def test_a_read_cancelled_mid_statement_does_not_trip_the_next(lanes: Lanes) -> None:
    lane = lanes(1)
    # when a read is cancelled while its statement runs
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(lane.fetch("SELECT pg_sleep(5)"), 0.1)
    # then the connection it held is dropped, and the next reads are answered at once
    assert lane.backend_pids() == []
    for i in range(3):
        assert (await lane.fetch("SELECT $1::int AS n", i))[0]["n"] == i


async def test_a_connection_that_died_while_idle_is_replaced(
    lanes: Lanes, pool: asyncpg.Pool
) -> None:
    lane = lanes(1)
    await lane.fetch("SELECT 1")
    # given the server ended the lane's connection while it waited (a restart, say)
    await pool.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE pid = ANY($1::int[])", lane.backend_pids())
    await asyncio.sleep(0.1)
    # when the next read comes, then it is answered (a read can be asked again)
    assert (await lane.fetch("SELECT 3 AS n"))[0]["n"] == 3


async def test_closing_the_lane_closes_its_connections(db_url: str, pool: asyncpg.Pool) -> None:
    lane = ReadLane(db_url, pool, size=2)
    await asyncio.gather(*(lane.fetch("SELECT pg_sleep(0.02)") for _ in range(2)))
    assert await _lane_backends(pool, lane) >= 1
    pids = lane.backend_pids()
    # when it is closed
    await lane.close()
    await asyncio.sleep(0.1)
    # then its connections are gone, and a read after that still goes through the pool
    assert await pool.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])",
                               pids) == 0
    assert (await lane.fetch("SELECT 4 AS n"))[0]["n"] == 4
    assert lane.backend_pids() == []
