"""Feed statements whose cost must not grow with the log: their plans, as PostgreSQL makes
them for a prepared statement it has stopped re-planning (a generic plan, which knows
none of the parameters), never read the whole log.

Judging a range (``disclose.JUDGING``, in the webhook commit ``delivery._COMMIT`` and in
the page of the other channels ``disclose._PAGE``) looks in the log's unbuilt tail for
consent events, or, when the builder is far behind, looks the people's own events up.
Earlier forms of these statements showed what goes wrong: a generic plan that scanned
``stored_events`` from end to end (on a log of 150,000 events every commit read all of
it, and delivery fell from 19,000 to 7,000 events/s as the log grew), and a tail taken
for a third of the log, for which every batch started two parallel workers once the log
passed a few megabytes (38,000 events/s with a backlog of 50,000, 18,000 with one of
200,000). Deliveries run with generic plans forced (``delivery.generic_plans``)."""

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


def _judging_arguments(tail: int) -> str:
    """``disclose.JUDGING``'s $1..$7, with ``tail`` as TAIL_CHECKED."""
    return f"'{uuid.uuid4()}', 0, 100, NULL, '2026-01-01', {tail}, ARRAY['x']"


@pytest.mark.parametrize("tail", [5000, -1], ids=["tail-read", "looked-up"])
async def test_delivery_commit_when_planned_generically_reads_the_log_only_by_index(
    grown_log: asyncpg.Pool, tail: int,
) -> None:
    arguments = (f"{_judging_arguments(tail)}, '{uuid.uuid4()}', 0, NULL, NULL, 1, NULL, 0, "
                 "NULL, 'delivered'")

    plan = await _generic_plan(grown_log, delivery._COMMIT, arguments)

    assert "Seq Scan on stored_events" not in plan, plan
    assert "Gather" not in plan, plan
    assert "Limit" in plan, plan  # the unbuilt tail is read bounded


@pytest.mark.parametrize("tail", [5000, -1], ids=["tail-read", "looked-up"])
async def test_judging_a_page_when_planned_generically_reads_the_log_only_by_index(
    grown_log: asyncpg.Pool, tail: int,
) -> None:
    plan = await _generic_plan(grown_log, disclose._PAGE, f"{_judging_arguments(tail)}, 'pull'")

    assert "Seq Scan on stored_events" not in plan, plan
    assert "Gather" not in plan, plan
    assert "Limit" in plan, plan
