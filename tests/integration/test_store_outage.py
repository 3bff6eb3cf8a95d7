"""The store through lost connections: errors named as outages, recovery without a restart."""

from __future__ import annotations

import asyncio
import time
import uuid
from urllib.parse import urlsplit

import asyncpg

from program.store.eventstore import EventStore
from program.store.outage import is_outage
from program.store.records import NewEvent
from program.store.subscription import LogListener


def ev() -> NewEvent:
    return NewEvent(uuid.uuid4(), 1, "tests:Thing.Happened", b"{}", {"actor": "tester"})


async def _terminate(server_url: str, db_url: str, where: str) -> int:
    """End this module database's backends matching ``where``, as a restart would."""
    database = urlsplit(db_url).path.lstrip("/")
    conn = await asyncpg.connect(server_url)
    try:
        return int(await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            f"WHERE datname = $1 AND pid <> pg_backend_pid() AND {where}", database,
        ))
    finally:
        await conn.close()


async def _eventually(check: object, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_listener_when_its_connection_is_lost_listens_again(
    server_url: str, db_url: str, store: EventStore
) -> None:
    listener = LogListener(db_url)
    await listener.start()
    try:
        assert listener.listening
        assert await _terminate(server_url, db_url, "query LIKE 'LISTEN%'") >= 1
        await _eventually(lambda: not listener.listening)
        await _eventually(lambda: listener.listening)

        waiter = listener.register()  # only a NOTIFY sets it: polling never does
        position = (await store.append([ev()])).position
        await asyncio.wait_for(waiter.wait(), 5)
        assert listener.last_notified >= position
    finally:
        await listener.close()
    assert not listener.listening


async def test_append_when_the_pools_connections_were_cut_recovers_without_a_restart(
    server_url: str, db_url: str, store: EventStore, pool: asyncpg.Pool
) -> None:
    await store.append([ev()])
    await _terminate(server_url, db_url, "query NOT LIKE 'LISTEN%'")
    for _attempt in range(20):
        try:
            result = await store.append([ev()])
            break
        except Exception as exc:  # noqa: BLE001 - only an outage may show here
            assert is_outage(exc), repr(exc)
            await asyncio.sleep(0.1)
    else:
        raise AssertionError("the store did not recover")
    assert result.position == await store.max_position()


def test_is_outage_names_connection_failures_and_not_bad_requests() -> None:
    lost = asyncpg.ConnectionDoesNotExistError("connection was closed")
    wrapped = RuntimeError("while loading")
    wrapped.__cause__ = lost
    assert is_outage(ConnectionRefusedError()) and is_outage(lost) and is_outage(wrapped)
    assert is_outage(asyncpg.CannotConnectNowError("starting up"))
    assert not is_outage(asyncpg.UntranslatableCharacterError("bad input"))
    assert not is_outage(asyncpg.QueryCanceledError("statement timeout"))
    assert not is_outage(ValueError("nope"))
