"""Feed statements whose cost must not grow with the log: their plans, as PostgreSQL makes
them for a prepared statement it has stopped re-planning (a generic plan, which knows
none of the parameters), never read the whole log.

A webhook delivery commits each batch with one statement (``delivery._COMMIT``) that also
checks whether anything was recorded about the judged people since the judgement. Its
generic plan scanned ``stored_events`` from end to end: on a log of 150,000 events every
commit read all of it, and delivery fell from 19,000 to 7,000 events/s as the log grew."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from program.feeds import delivery, tables
from program.store.eventstore import EventStore
from program.store.records import NewEvent

LOG = 20_000  # events: enough that reading them all costs more than any index probe


@pytest.fixture(scope="module")
async def grown_log(pool: asyncpg.Pool, store: EventStore) -> asyncpg.Pool:
    await tables.ensure(pool)
    # As a programme's log is: a few aggregates (cohorts, programmes) with long histories.
    cohorts = [uuid.uuid4() for _ in range(20)]
    for version in range(1, LOG // len(cohorts) + 1, 100):
        await store.append([
            NewEvent(cohort, v, "tests:Cohort.Changed", b"{}", {"actor": "tester"})
            for cohort in cohorts for v in range(version, version + 100)])
    await pool.execute("ANALYZE")
    return pool


async def _generic_plan(pool: asyncpg.Pool, statement: str, arguments: str) -> str:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        await conn.execute(f"PREPARE probe AS {statement}")
        try:
            rows = await conn.fetch(f"EXPLAIN EXECUTE probe({arguments})")
        finally:
            await conn.execute("DEALLOCATE probe")
    return "\n".join(r[0] for r in rows)


async def test_delivery_commit_when_planned_generically_probes_the_log_by_index(
    grown_log: asyncpg.Pool,
) -> None:
    someone = uuid.uuid4()
    arguments = (
        f"'{uuid.uuid4()}', 0, NULL, NULL, 10, 1, 5, '{someone}', ARRAY['{someone}']::uuid[], "
        "ARRAY['x'], NULL, 0, NULL, 'delivered', ARRAY[1]::bigint[], ARRAY[NULL]::uuid[], "
        "ARRAY[NULL]::bigint[], ARRAY['DISCLOSED'], ARRAY[NULL]::text[], 5000")

    plan = await _generic_plan(grown_log, delivery._COMMIT, arguments)

    assert "Seq Scan on stored_events" not in plan, plan
