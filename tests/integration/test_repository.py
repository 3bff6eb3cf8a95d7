"""Loading aggregates: latest, as of a version, as of a moment; retries across processes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg

from program.application.context import Actor, CommandContext, FixedClock
from program.application.services import Application
from program.domain.cohort import Cohort
from program.domain.programme import Programme
from program.domain.values import ProgrammeStatus
from program.store.eventstore import EventStore
from program.store.keys import KeyStore
from program.store.mapping import create_mapper
from program.store.repository import Repository


async def test_get_as_of_version_and_as_of_time_rebuild_past_states(store: EventStore) -> None:
    repository = Repository(store, create_mapper())
    programme = Programme.create("Hope", "", None, None, 2)
    await repository.save(programme, metadata={"actor": "t"})
    await asyncio.sleep(0.01)
    between = datetime.now(UTC)
    await asyncio.sleep(0.01)
    programme.activate()
    await repository.save(programme, metadata={"actor": "t"})

    fresh = Repository(store, create_mapper())
    assert (await fresh.get(programme.id, Programme)).status is ProgrammeStatus.ACTIVE
    assert (await fresh.get(programme.id, Programme, version=1)).status is ProgrammeStatus.DRAFT
    assert (await fresh.get(programme.id, Programme, as_of=between)).status is ProgrammeStatus.DRAFT


async def test_commands_from_separate_processes_retry_on_conflict_and_lose_nothing(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    """Eight applications with their own caches (as if eight processes) change one cohort."""
    clock = FixedClock(datetime(2026, 11, 23, tzinfo=UTC))
    apps = [Application(Repository(store, create_mapper()), KeyStore(pool), clock=clock) for _ in range(8)]
    ctx = CommandContext(Actor.system())
    pid = (await apps[0].create_programme(ctx, "Hope", "", None, None, 1))["programme_id"]
    await apps[0].activate_programme(ctx, pid)
    cid = (await apps[0].plan_cohort(ctx, pid, "Drop-in", "DROP_IN", None, date(2026, 12, 1), None))["cohort_id"]
    start = datetime(2026, 12, 1, 18, tzinfo=UTC)

    async def schedule(i: int) -> None:
        app = apps[i % len(apps)]
        await app.schedule_session(ctx, cid, start + timedelta(days=7 * i))

    await asyncio.gather(*(schedule(i) for i in range(40)))
    cohort = await Repository(store, create_mapper()).get(uuid.UUID(cid), Cohort)
    assert len(cohort.sessions) == 40


async def test_long_stream_loads_from_snapshot_equal_to_full_replay(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    repository = Repository(store, create_mapper(), snapshot_every=10)
    programme = Programme.create("Hope", "", None, None, 1)
    programme.activate()
    cohort = Cohort.plan(programme.id, "Drop-in", "DROP_IN", None, date(2026, 12, 1), None, 1)
    await repository.save(programme, cohort, metadata={"actor": "t"})
    for week in range(25):
        cohort.schedule_session(uuid.uuid4(), datetime(2026, 12, 1, 18, tzinfo=UTC) + timedelta(weeks=week))
        await repository.save(cohort, metadata={"actor": "t"})
    async with pool.acquire() as conn:
        versions = [r[0] for r in await conn.fetch(
            "SELECT originator_version FROM snapshots WHERE originator_id = $1 ORDER BY 1", cohort.id)]
    assert versions == [10, 20]

    fresh = Repository(store, create_mapper())
    latest = await fresh.get(cohort.id, Cohort)
    assert latest.version == 26 and latest.sessions == cohort.sessions
    at_15 = await fresh.get(cohort.id, Cohort, version=15)
    assert at_15.version == 15 and len(at_15.sessions) == 14


async def test_a_large_cohort_is_snapshotted_less_often_as_it_grows(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    repository = Repository(store, create_mapper(), snapshot_every=10)
    programme = Programme.create("Hope", "", None, None, 1)
    programme.activate()
    cohort = Cohort.plan(programme.id, "Tuesdays", "ENROLLED", 5, date(2026, 12, 1), None, 1)
    cohort.open_enrolment()
    await repository.save(programme, cohort, metadata={"actor": "t"})
    for _ in range(60):
        cohort.enrol(uuid.uuid4())
        await repository.save(cohort, metadata={"actor": "t"})
    async with pool.acquire() as conn:
        versions = [r[0] for r in await conn.fetch(
            "SELECT originator_version FROM snapshots WHERE originator_id = $1 ORDER BY 1", cohort.id)]
    # Up to 10 members every 10 events, then every 20 up to 20 members, then every 40.
    assert versions == [10, 20, 40]
    fresh = await Repository(store, create_mapper()).get(cohort.id, Cohort)
    assert fresh.version == 62 and fresh.waitlist == cohort.waitlist
