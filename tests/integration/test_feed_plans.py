"""Feed statements whose cost must not grow with the log: their plans, as PostgreSQL makes
them for a prepared statement it has stopped re-planning (a generic plan, which knows
none of the parameters), never read the whole log.

A webhook delivery commits each batch with one statement (``delivery._COMMIT``) that also
checks whether anything was recorded about the judged people since the judgement. Its
generic plan scanned ``stored_events`` from end to end: on a log of 150,000 events every
commit read all of it, and delivery fell from 19,000 to 7,000 events/s as the log grew.

Judging a batch (``disclose._SNAPSHOT``) looks in the log's unbuilt tail for consent
events. Planned without knowing where the tail starts, it was taken for a third of the
log: once the log passed a few megabytes, every batch started two parallel workers to
read it, and delivery fell from 38,000 events/s with a backlog of 50,000 to 18,000 with
one of 200,000."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from program.feeds import delivery, disclose, tables
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
        # Parallel workers made cheap, as on a log large enough for them to look worth it.
        for setting in ("parallel_setup_cost", "parallel_tuple_cost",
                        "min_parallel_table_scan_size", "min_parallel_index_scan_size"):
            await conn.execute(f"SET LOCAL {setting} = 0")
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


async def test_judging_a_batch_when_planned_generically_reads_a_bounded_tail_of_the_log(
    grown_log: asyncpg.Pool,
) -> None:
    people = f"ARRAY['{uuid.uuid4()}', '{uuid.uuid4()}']::uuid[]"
    arguments = f"'{uuid.uuid4()}', {people}, ARRAY['x'], 5000"

    plan = await _generic_plan(grown_log, disclose._SNAPSHOT, arguments)

    assert "Seq Scan on stored_events" not in plan, plan
    assert "Gather" not in plan, plan
    assert "Limit" in plan, plan


async def test_judging_far_behind_the_builder_looks_up_each_one_by_index(
    grown_log: asyncpg.Pool,
) -> None:
    watched = f"ARRAY['{uuid.uuid4()}', '{uuid.uuid4()}']::uuid[]"

    plan = await _generic_plan(grown_log, disclose._PENDING_OF, f"{watched}, 0, ARRAY['x']")

    assert "Seq Scan on stored_events" not in plan, plan
    assert "Gather" not in plan, plan
