"""Rebuilding read models: same rows as live, atomic for readers, safe beside a live runner."""

from __future__ import annotations

import asyncio
import gc

import asyncpg
import pytest

from program.projections import checkpoint
from program.projections.rebuild import RebuildBusy, RebuildProgress, rebuild
from program.projections.registry import UnknownProjection, all_projections
from program.projections.schemas import schema_exists
from test_projection_runtime import audit_count, dump
from test_projection_support import (  # noqa: F401  (fixtures)
    Story,
    admin,
    app,
    caught_up,
    clock,
    repository,
    running,
)


@pytest.fixture
def story(app, clock) -> Story:  # noqa: F811
    return Story(app, clock)


async def history(story: Story) -> None:
    programme = await story.programme()
    cohort, people, sessions = await story.running_cohort(programme, people=5, sessions=4)
    for session in sessions:
        await story.attend(cohort, session, {p: "ABSENT_UNEXCUSED" for p in people[:3]})
    await story.app.withdraw_participant(admin(), cohort, people[0], "moved away")


async def test_rebuild_gives_the_same_rows_as_live_projection_in_small_batches(
    pool, store, repository, db_url, story  # noqa: F811
):
    await history(story)
    async with running(pool, store, repository, db_url, batch_size=4) as runner:
        head = await caught_up(runner, store)
    live = await dump(pool)
    result = await rebuild(pool, store, repository, batch_size=7)
    assert result.events == head
    assert result.positions == {p.name: head for p in all_projections()}
    assert await dump(pool) == live
    assert all(s.position == head for s in await checkpoint.statuses(pool, result.names))


async def test_readers_see_the_old_read_model_until_the_new_one_is_swapped_in(
    pool, store, repository, story  # noqa: F811
):
    await history(story)
    head = await store.max_position()
    await rebuild(pool, store, repository, ["audit_trail"])
    await pool.execute("DELETE FROM rm_audit_trail.entries WHERE position > $1", head - 5)
    old, new = head - 5, head
    phase = ["start"]
    seen: list[tuple[str, int]] = []

    def progress(p: RebuildProgress) -> None:
        phase[0] = p.phase

    async def read_while_rebuilding() -> None:
        while phase[0] != "done":
            async with pool.acquire() as conn:
                seen.append((phase[0], await audit_count(conn)))
            await asyncio.sleep(0)

    reader = asyncio.create_task(read_while_rebuilding())
    await rebuild(pool, store, repository, ["audit_trail"], progress, batch_size=3)
    await reader
    assert {count for _, count in seen} <= {old, new}
    assert ("build", old) in seen
    assert await audit_count(pool) == new
    assert not await schema_exists(pool, "rm_audit_trail__new")


async def test_rebuild_beside_a_live_runner_applies_every_event_exactly_once(
    pool, store, repository, db_url, story  # noqa: F811
):
    await history(story)
    async with running(pool, store, repository, db_url, batch_size=5) as runner:
        await caught_up(runner, store)

        async def keep_writing() -> None:
            programme = await story.programme(name="During rebuild")
            await story.running_cohort(programme, people=3)

        await asyncio.gather(rebuild(pool, store, repository, batch_size=5), keep_writing())
        cohort, people, sessions = await story.running_cohort(
            await story.programme(name="After rebuild"), people=3)
        await story.attend(cohort, sessions[0], {p: "PRESENT" for p in people})
        head = await caught_up(runner, store)
    assert await audit_count(pool) == head
    live = await dump(pool)
    await rebuild(pool, store, repository)
    assert await dump(pool) == live


async def test_a_read_model_whose_tables_changed_is_rebuilt_when_the_runner_starts(
    pool, store, repository, db_url, story  # noqa: F811
):
    await history(story)
    async with running(pool, store, repository, db_url) as runner:
        await caught_up(runner, store)
    await pool.execute(
        f"UPDATE {checkpoint.CHECKPOINTS} SET version = '0:old' WHERE name = 'facilitator_load'")
    await pool.execute("DELETE FROM rm_facilitator_load.facilitators")
    async with running(pool, store, repository, db_url) as runner:
        assert runner.outdated == {"facilitator_load"}
        assert await runner.wait_until(lambda: not runner.outdated, timeout=20)
        await caught_up(runner, store)
    current = [p for p in all_projections() if p.name == "facilitator_load"][0]
    assert await pool.fetchval(
        f"SELECT version FROM {checkpoint.CHECKPOINTS} WHERE name = 'facilitator_load'"
    ) == current.schema_version()
    assert await pool.fetchval("SELECT count(*) FROM rm_facilitator_load.facilitators") > 0


async def test_rebuild_of_named_read_models_leaves_the_others_alone(
    pool, store, repository, story  # noqa: F811
):
    await history(story)
    await rebuild(pool, store, repository)
    await story.programme(name="Later")
    before = {s.name: s.position for s in await checkpoint.statuses(pool, ["audit_trail"])}
    result = await rebuild(pool, store, repository, ["programme_overview"])
    assert result.names == ["programme_overview"]
    after = {s.name: s.position for s in await checkpoint.statuses(pool, ["audit_trail"])}
    assert after == before
    with pytest.raises(UnknownProjection):
        await rebuild(pool, store, repository, ["no_such_model"])


async def test_only_one_rebuild_of_a_read_model_at_a_time(pool, store, repository):  # noqa: F811
    conn: asyncpg.Connection = await pool.acquire()
    try:
        await conn.fetchval("SELECT pg_advisory_lock(hashtextextended('program.rebuild:audit_trail', 0))")
        with pytest.raises(RebuildBusy):
            await rebuild(pool, store, repository, ["audit_trail"])
    finally:
        await conn.execute("SELECT pg_advisory_unlock_all()")
        await pool.release(conn)


async def test_a_failed_rebuild_leaves_the_live_read_model_as_it_was(
    pool, store, repository, story  # noqa: F811
):
    from test_projection_runtime import FailingDashboard

    from program.projections.failures import EventFailed

    await history(story)
    await rebuild(pool, store, repository, ["cohort_dashboard"])
    before = await dump(pool)
    position = await checkpoint.read(pool, "cohort_dashboard")
    with pytest.raises(EventFailed, match="handler bug") as failed:
        await rebuild(pool, store, repository, projections=[FailingDashboard()], batch_size=10)
    assert failed.value.event_type == "Cohort.AttendanceRecorded"  # the event is named
    assert failed.value.projection == "cohort_dashboard" and failed.value.position > 0
    assert await dump(pool) == before
    assert await checkpoint.read(pool, "cohort_dashboard") == position
    assert (await rebuild(pool, store, repository, ["cohort_dashboard"])).events == position
    assert await dump(pool) == before


# What a rebuild makes by the million: none of it may be cyclic garbage, since the
# collector looks at the rebuild's objects only rarely while it runs.
REBUILT = {"Envelope", "EventView", "LogRow", "Kinds", "_Batch", "Rows", "Appends"}


async def test_a_rebuild_leaves_no_cyclic_garbage(pool, store, repository, story):  # noqa: F811
    await history(story)
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        await rebuild(pool, store, repository, batch_size=7)
        gc.collect()
        left = sorted({type(o).__name__ for o in gc.garbage} & REBUILT)
    finally:
        gc.garbage.clear()
        gc.set_debug(0)
    assert left == []


async def test_a_rebuild_that_fails_gives_the_collector_back_its_settings(
    pool, store, repository, story  # noqa: F811
):
    from test_projection_runtime import FailingDashboard

    from program.projections.failures import EventFailed

    await history(story)
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
    with pytest.raises(EventFailed):
        await rebuild(pool, store, repository, projections=[FailingDashboard()], batch_size=10)
    assert (gc.get_threshold(), gc.get_freeze_count()) == (thresholds, frozen)
