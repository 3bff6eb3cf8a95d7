"""The projection runtime on the real database: exactly once, resumable, locked, observable."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import asyncpg
import pytest

from program.projections import checkpoint
from program.projections.base import Decoder, Envelope, as_rows
from program.projections.audit_trail.projection import AuditTrailProjection
from program.projections.cohort_dashboard.projection import CohortDashboardProjection
from program.projections.rebuild import rebuild
from program.projections.registry import all_projections
from program.projections.runner import ProjectionRunner, project_rows
from program.store.eventstore import EventStore
from program.store.repository import Repository
from test_projection_support import (  # noqa: F401  (fixtures)
    Story,
    admin,
    app,
    caught_up,
    clock,
    repository,
    running,
)


async def dump(pool: asyncpg.Pool) -> dict[str, list[dict[str, Any]]]:
    """Every row of every read model, in key order."""
    out = {}
    for p in all_projections():
        for t in p.tables:
            rows = await pool.fetch(f"SELECT * FROM {p.schema}.{t.name} ORDER BY {', '.join(t.key)}")
            out[f"{p.name}.{t.name}"] = [dict(r) for r in rows]
    return out


async def audit_count(pool: asyncpg.Pool) -> int:
    return await pool.fetchval("SELECT count(*) FROM rm_audit_trail.entries")


class GatedAudit(AuditTrailProjection):
    """Applies its batch, then waits (inside the transaction) until released."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self.release = asyncio.Event()

    async def apply_range(self, conn: asyncpg.Connection, schema: str, after: int, upto: int
                          ) -> None:
        await super().apply_range(conn, schema, after, upto)
        self.reached.set()
        await self.release.wait()


class FailingDashboard(CohortDashboardProjection):
    """Writes its view rows, then fails on the first attendance mark in the batch."""

    async def apply(self, conn: asyncpg.Connection, schema: str, batch: Sequence[Envelope]) -> None:
        await super().apply(conn, schema, batch)
        if any(e.kind == "Cohort.AttendanceRecorded" for e in batch):
            raise RuntimeError("handler bug")


@pytest.fixture
def story(app, clock) -> Story:  # noqa: F811
    return Story(app, clock)


async def test_runner_catches_up_then_follows_live(pool, store, repository, db_url, story):  # noqa: F811
    programme = await story.programme()
    cohort, people, sessions = await story.running_cohort(programme)
    async with running(pool, store, repository, db_url) as runner:
        head = await caught_up(runner, store)
        assert await audit_count(pool) == head
        position = await story.attend(cohort, sessions[0], {p: "PRESENT" for p in people[:3]})
        assert await runner.wait_for(position, timeout=10)
        assert await audit_count(pool) == position
        statuses = await runner.status()
        assert {s.name for s in statuses} == {p.name for p in all_projections()}
        assert all(s.position == position and s.lag_events == 0 for s in statuses)


async def test_events_decoded_for_every_read_model_are_dropped_once_all_have_passed_them(
    pool, store, repository, db_url, story  # noqa: F811
):
    programme = await story.programme()
    cohort, people, sessions = await story.running_cohort(programme)
    async with running(pool, store, repository, db_url) as runner:
        await caught_up(runner, store)
        position = await story.attend(cohort, sessions[0], {p: "PRESENT" for p in people[:3]})
        assert await runner.wait_for(position, timeout=10)
        # The shared cache only spares decoding for read models still behind. (A
        # checkpoint's NOTIFY can report the last read model there before its own task
        # has tidied up, so wait for that rather than assert at once.)
        assert await runner.wait_until(lambda: not runner._decoded, timeout=5)


async def test_stopped_mid_batch_then_restarted_gives_the_same_rows_as_one_run(
    pool, store, repository, db_url, story  # noqa: F811
):
    programme = await story.programme()
    await story.running_cohort(programme, people=5)
    async with running(pool, store, repository, db_url) as runner:
        before = await caught_up(runner, store)
    gated = GatedAudit()
    projections = [p for p in all_projections() if p.name != gated.name] + [gated]
    cohort, people, sessions = await story.running_cohort(programme, people=4)
    await story.attend(cohort, sessions[0], {p: "ABSENT_EXCUSED" for p in people[:3]})
    async with running(pool, store, repository, db_url, projections=projections, batch_size=5):
        await asyncio.wait_for(gated.reached.wait(), 10)
        # Stopped while the first batch is applied but not committed.
    assert await checkpoint.read(pool, gated.name) == before
    assert await audit_count(pool) == before
    async with running(pool, store, repository, db_url, batch_size=3) as runner:
        head = await caught_up(runner, store)
    assert await audit_count(pool) == head
    resumed = await dump(pool)
    await rebuild(pool, store, repository)
    assert await dump(pool) == resumed


async def test_a_failing_handler_moves_neither_the_view_nor_the_checkpoint(
    pool, store, repository, db_url, story  # noqa: F811
):
    programme = await story.programme()
    cohort, people, sessions = await story.running_cohort(programme)
    async with running(pool, store, repository, db_url) as runner:
        start = await caught_up(runner, store)
    await story.attend(cohort, sessions[0], {people[0]: "PRESENT"})
    before = await dump(pool)
    failing = FailingDashboard()
    rows = as_rows(await store.read_after(start, 100))
    with pytest.raises(RuntimeError, match="handler bug"):
        await project_rows(pool, failing, Decoder.for_mapper(repository.mapper), rows, start)
    assert await checkpoint.read(pool, failing.name) == start
    assert await dump(pool) == before

    others = [p for p in all_projections() if p.name != failing.name]
    async with running(pool, store, repository, db_url, projections=[*others, failing]) as runner:
        head = await caught_up(runner, store, names=[p.name for p in others])
        assert await runner.wait_until(lambda: failing.name in runner.errors, timeout=10)
        status = {s.name: s for s in await runner.status()}
    assert status[failing.name].position == start
    assert status[failing.name].lag_events == head - start
    assert status[failing.name].error == "RuntimeError: handler bug"
    async with running(pool, store, repository, db_url) as runner:
        await caught_up(runner, store)
        assert (await runner.status())[0].error is None


async def test_two_runners_never_apply_one_projection_at_once_and_the_second_takes_over(
    pool, store, repository, db_url, story  # noqa: F811
):
    programme = await story.programme()
    async with running(pool, store, repository, db_url) as first:
        await caught_up(first, store)
        async with running(pool, store, repository, db_url) as second:
            await story.running_cohort(programme)
            await caught_up(first, store)
            assert first.locks.held == frozenset(first.projections)
            assert second.locks.held == frozenset()
            assert sum(second.applied.values()) == 0
            await first.stop()  # the holder goes away; the waiting runner keeps trying
            cohort, people, sessions = await story.running_cohort(programme)
            position = await story.attend(cohort, sessions[0], {p: "PRESENT" for p in people[:3]})
            assert await second.wait_for(position, timeout=10)
            assert second.locks.held == frozenset(second.projections)
            assert await second.wait_until(lambda: set(second.applied) == set(second.projections))
    assert await audit_count(pool) == await store.max_position()


async def test_when_the_holder_dies_the_waiting_runner_takes_over(
    pool, store, repository, db_url, story  # noqa: F811
):
    programme = await story.programme()
    async with running(pool, store, repository, db_url) as first:
        await caught_up(first, store)
        async with running(pool, store, repository, db_url) as second:
            # The holder dies: its lock connection ends and it cannot come back (a runner
            # whose connection merely dropped reconnects and may win some locks back,
            # which is no takeover to assert on).
            first.locks.url = "postgresql://nobody@127.0.0.1:1/gone"
            await pool.execute("SELECT pg_terminate_backend($1)", first.locks.backend_pid)
            assert await first.wait_until(lambda: not first.locks.held, timeout=10)
            cohort, people, sessions = await story.running_cohort(programme)
            assert await second.wait_for(await store.max_position(), timeout=10)
            assert await second.wait_until(
                lambda: second.locks.held == frozenset(second.projections), timeout=10)
            applied_by_first = sum(first.applied.values())
            assert second.locks.held == frozenset(second.projections)
            position = await story.attend(cohort, sessions[0], {p: "PRESENT" for p in people[:3]})
            assert await second.wait_for(position, timeout=10)
            assert sum(first.applied.values()) == applied_by_first
            assert first.locks.held == frozenset()
    assert await audit_count(pool) == await store.max_position()


async def test_status_reports_lag_in_events_and_seconds(
    pool, store, repository, db_url, story  # noqa: F811
):
    programme = await story.programme()
    async with running(pool, store, repository, db_url) as runner:
        await caught_up(runner, store)
    await story.running_cohort(programme)
    async with running(pool, store, repository, db_url, run=()) as watcher:
        head = await store.max_position()
        lagging = {s.name: s for s in await watcher.status()}
        assert all(s.head == head and s.lag_events > 0 for s in lagging.values())
        assert all(s.lag_seconds >= 0 for s in lagging.values())
        assert not await watcher.wait_for(head, timeout=0.05)
        async with running(pool, store, repository, db_url, run=["audit_trail"]):
            assert await watcher.wait_for(head, timeout=10, names=["audit_trail"])
            status = {s.name: s for s in await watcher.status()}
            assert status["audit_trail"].lag_events == 0
            assert status["audit_trail"].lag_seconds == 0
            assert status["cohort_dashboard"].lag_events == lagging["cohort_dashboard"].lag_events


async def test_wait_for_wakes_on_another_processs_checkpoint(
    pool, store, repository, db_url, story  # noqa: F811
):
    async with running(pool, store, repository, db_url, run=()) as api:
        async with running(pool, store, repository, db_url) as projector:
            await caught_up(projector, store)
            result = await story.app.create_programme(admin(), "Anxiety group", "", None, [], 2)
            assert await api.wait_for(result.position, timeout=5)
            assert api.positions()["cohort_dashboard"] >= result.position


async def test_runner_only_for_named_projections_applies_nothing_else(
    pool: asyncpg.Pool, store: EventStore, repository: Repository, db_url: str  # noqa: F811
):
    runner = ProjectionRunner(pool, store, None, repository, run=["audit_trail"], url=db_url)
    assert runner.running == ["audit_trail"]
    assert set(runner.projections) == {p.name for p in all_projections()}


async def test_wait_for_still_answers_when_its_listen_connection_is_lost(
    pool, store, repository, db_url, story  # noqa: F811
):
    async with running(pool, store, repository, db_url, run=()) as api:
        api.relisten_interval = 0.3
        async with running(pool, store, repository, db_url) as projector:
            await caught_up(projector, store)
            await pool.execute("SELECT pg_terminate_backend($1)", api._watch.get_server_pid())
            assert await api.wait_until(lambda: api._watch is None, timeout=5)
            result = await story.app.create_programme(admin(), "Lost LISTEN", "", None, [], 2)
            assert await api.wait_for(result.position, timeout=5)  # re-read checkpoints
            assert await api.wait_until(lambda: api._watch is not None, timeout=10)
