"""Releasing a pooled connection: a rollback always, the full session reset only for a
connection that took session-level state (so an ordinary read costs one round trip)."""

from __future__ import annotations

import asyncpg

from program.store.database import create_pool, takes_session_state

_LOCK = 0x7E57


async def _single(db_url: str) -> asyncpg.Pool:
    return await create_pool(db_url, min_size=1, max_size=1)


async def test_given_a_connection_that_said_it_takes_session_state_when_released_then_its_locks_and_settings_are_gone(
    db_url: str,
) -> None:
    pool = await _single(db_url)
    try:
        async with pool.acquire() as conn:
            takes_session_state(conn)
            assert await conn.fetchval("SELECT pg_try_advisory_lock($1)", _LOCK)
            await conn.execute("SET application_name = 'left behind'")
        async with pool.acquire() as conn:
            held = await conn.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 "
                "AND pid = pg_backend_pid()", _LOCK)
            name = await conn.fetchval("SHOW application_name")
        assert held == 0
        assert name != "left behind"
    finally:
        await pool.close()


async def test_given_an_ordinary_connection_when_released_inside_a_transaction_then_it_is_rolled_back(
    db_url: str,
) -> None:
    pool = await _single(db_url)
    try:
        async with pool.acquire() as conn:
            await conn.execute("CREATE TABLE IF NOT EXISTS reset_probe (n int)")
            await conn.execute("BEGIN")
            await conn.execute("INSERT INTO reset_probe VALUES (1)")
        async with pool.acquire() as conn:
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT count(*) FROM reset_probe") == 0
    finally:
        await pool.close()


async def test_given_an_ordinary_connection_when_released_then_no_reset_query_is_sent(
    db_url: str,
) -> None:
    pool = await _single(db_url)
    try:
        async with pool.acquire() as conn:
            await conn.execute("SET application_name = 'kept'")  # a session SET, unannounced
        async with pool.acquire() as conn:
            # What proves the release sent nothing: the unannounced setting survived.
            assert await conn.fetchval("SHOW application_name") == "kept"
    finally:
        await pool.close()
