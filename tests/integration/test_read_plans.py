"""A record read by its id is planned once, not on every read.

The driver prepares each statement; PostgreSQL plans a prepared statement for its values
for five runs and then keeps a generic plan, unless the generic plan looks dearer. Read by
``= ANY($1)`` the cohort dashboard's generic plan (ten ids, it guesses) always looked dearer
than the plan for the one id asked, so each dashboard was planned afresh: on a database
grown to 200,000 events the planning cost 0.3 ms, three times the query itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import pytest_asyncio

from program.projections.cohort_dashboard import get_dashboards
from test_projection_support import (  # noqa: F401  (fixtures)
    clock,
    repository,
    running,
)

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
S = "rm_cohort_dashboard"


@pytest_asyncio.fixture(scope="module")
async def grown(pool: asyncpg.Pool, store, repository, db_url  # noqa: F811
                ) -> AsyncIterator[UUID]:
    """Read models as a grown database holds them: 3,000 cohorts of a dozen people, two
    facilitators and a few sessions each. The id of one of them."""
    async with running(pool, store, repository, db_url):  # its read-model tables
        await pool.execute(f"""
            INSERT INTO {S}.cohorts (id, programme_id, name, status, format, capacity, starts_on,
                venue, min_facilitators, planned_at, updated_at, enrolled, waitlisted, sessions,
                present, recorded, outcomes)
            SELECT gen_random_uuid(), gen_random_uuid(), 'Cohort ' || n, 'RUNNING', 'ENROLLED', 12,
                   DATE '2026-01-05', 'Hall', 2, now(), now(), 12, 0,
                   (SELECT jsonb_agg(jsonb_build_array(gen_random_uuid(),
                                                       now() + make_interval(days => 7 * w)))
                    FROM generate_series(1, 6) w), 0, 0, '{{}}'::jsonb
            FROM generate_series(1, 3000) n""")
        await pool.execute(f"""
            INSERT INTO {S}.facilitators (cohort_id, facilitator_id, role, assigned_at)
            SELECT c.id, gen_random_uuid(), r, now() FROM {S}.cohorts c,
                   unnest(ARRAY['LEAD', 'CO']) r""")
        await pool.execute(f"""
            INSERT INTO {S}.members (cohort_id, participant_id, standing, since, marks, streak,
                                    scores)
            SELECT c.id, gen_random_uuid(), 'ENROLLED', n, 'PPP', n % 4, '{{}}'::jsonb
            FROM {S}.cohorts c, generate_series(1, 12) n""")
        await pool.execute("ANALYZE")
        yield await pool.fetchval(f"SELECT id FROM {S}.cohorts LIMIT 1")


async def _plans_kept(pool: asyncpg.Pool, read: Callable[[asyncpg.Connection], Awaitable[object]],
                      times: int = 8) -> list[tuple[str, int, int]]:
    """(statement, generic plans, custom plans) of what ``read`` ran, run ``times`` on one
    connection."""
    async with pool.acquire() as conn:
        before = {r[0] for r in await conn.fetch("SELECT name FROM pg_prepared_statements")}
        for _ in range(times):
            await read(conn)
        rows = await conn.fetch(
            "SELECT name, statement, generic_plans, custom_plans FROM pg_prepared_statements")
    return [(r["statement"], r["generic_plans"], r["custom_plans"])
            for r in rows if r["name"] not in before and f"{S}." in r["statement"]]


async def test_dashboard_of_one_cohort_read_again_and_again_keeps_its_plan(
    pool: asyncpg.Pool, grown: UUID
) -> None:
    statements = await _plans_kept(pool, lambda conn: get_dashboards(conn, [grown], now=NOW))

    assert len(statements) == 1
    statement, generic, custom = statements[0]
    assert custom <= 5 and generic >= 3, (generic, custom, statement[-120:])


class _Recording:
    """A reader that notes each statement before running it."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.statements: list[tuple[str, tuple[object, ...]]] = []

    async def fetch(self, query: str, *args: object) -> list[asyncpg.Record]:
        self.statements.append((query, args))
        return await self.pool.fetch(query, *args)


async def test_dashboard_of_one_cohort_is_read_as_its_row_not_computed_on_each_read(
    pool: asyncpg.Pool, grown: UUID
) -> None:
    # given the statement a dashboard is read with
    reader = _Recording(pool)
    await get_dashboards(reader, [grown], now=NOW)
    (statement, args), = reader.statements

    # when PostgreSQL plans it
    async with pool.acquire() as conn:
        await conn.execute(f"PREPARE probe AS {statement}")
        try:
            plan = "\n".join(r[0] for r in await conn.fetch(
                f"EXPLAIN EXECUTE probe('{args[0]}'::uuid)"))
        finally:
            await conn.execute("DEALLOCATE probe")

    # then it only reads rows: its lists (sessions in order, facilitators, runs of
    # absences, the heads of the lists of people) were kept by the projection, not
    # sorted and gathered again for every reader
    for costly in ("Aggregate", "Sort", "SubPlan", "Function Scan"):
        assert costly not in plan, plan
