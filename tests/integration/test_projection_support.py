"""Shared pieces for the projection tests: the application, a story builder, a runner.

Imported by the ``test_projection_*`` modules (``from test_projection_support import …``);
it holds no tests of its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest_asyncio

from program.application.context import Actor, CommandContext, FixedClock, Role
from program.application.services import Application
from program.projections.runner import ProjectionRunner
from program.store.eventstore import EventStore
from program.store.keys import KeyStore
from program.store.mapping import create_mapper
from program.store.repository import Repository
from program.store.subscription import LogListener

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
KINDS = ("PEER_SUPPORT_TRAINING", "SAFEGUARDING", "BACKGROUND_CHECK")
PURPOSE = "programme-participation"


def admin(subject: str = "admin-1", **ids: Any) -> CommandContext:
    return CommandContext(Actor(subject, Role.ADMIN), **ids)


@pytest_asyncio.fixture(scope="module")
async def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest_asyncio.fixture(scope="module")
async def repository(store: EventStore) -> Repository:
    return Repository(store, create_mapper())


@pytest_asyncio.fixture(scope="module")
async def app(repository: Repository, pool: asyncpg.Pool, clock: FixedClock) -> Application:
    return Application(repository, KeyStore(pool), clock=clock)


@contextlib.asynccontextmanager
async def running(
    pool: asyncpg.Pool, store: EventStore, repository: Repository, url: str, **options: Any
) -> AsyncIterator[ProjectionRunner]:
    """A runner with its own LISTEN connection, as a separate projector process would have."""
    listener = LogListener(url)
    await listener.start()
    options.setdefault("lock_retry_interval", 0.05)
    runner = ProjectionRunner(pool, store, listener, repository, **options)
    await runner.start()
    try:
        yield runner
    finally:
        await runner.stop()
        await listener.close()


async def caught_up(runner: ProjectionRunner, store: EventStore, **kw: Any) -> int:
    """Wait until the runner's projections have applied the head of the log."""
    head = await store.max_position()
    assert await runner.wait_for(head, timeout=20, **kw), await runner.status()
    return head


class Story:
    """Drives programmes through the real application, as a programme manager would."""

    def __init__(self, app: Application, clock: FixedClock) -> None:
        self.app = app
        self.clock = clock
        self.home: UUID | None = None  # where people are registered unless told otherwise

    async def programme(self, measures: tuple[str, ...] = ("HHI", "WEMWBS"),
                        min_facilitators: int = 2, name: str = "Hope group") -> UUID:
        r = await self.app.create_programme(admin(), name, "weekly peer support", None,
                                            list(measures), min_facilitators)
        await self.app.activate_programme(admin(), r["programme_id"])
        return UUID(r["programme_id"])

    async def facilitator(self, name: str = "Sam", valid_until: date | None = None,
                          max_cohorts: int = 3) -> UUID:
        r = await self.app.register_facilitator(admin(), name, f"{name.lower()}@example.org",
                                                max_cohorts)
        fid = r["facilitator_id"]
        for kind in KINDS:
            await self.app.record_facilitator_credential(
                admin(), fid, kind, valid_until or TODAY + timedelta(days=365))
        await self.app.activate_facilitator(admin(), fid)
        return UUID(fid)

    async def person(self, name: str = "Alex", recipients: tuple[str, ...] = ("evaluator-a",),
                     valid_until: date | None = None, programme_id: UUID | None = None) -> UUID:
        if programme_id is None:
            self.home = self.home or await self.programme(name="Home")
            programme_id = self.home
        r = await self.app.register_participant(admin(), name, f"{name.lower()}@example.org",
                                                "0700 000000", "GP", programme_id=programme_id)
        pid = r["participant_id"]
        await self.app.give_consent(admin(), pid, PURPOSE, "notice-1", "v1", "consent",
                                    "paper-form", list(recipients),
                                    valid_until or TODAY + timedelta(days=365))
        return UUID(pid)

    async def cohort(self, programme_id: UUID, capacity: int | None = 3,
                     facilitators: tuple[UUID, ...] = (), format: str = "ENROLLED",
                     name: str = "Tuesday group") -> UUID:
        r = await self.app.plan_cohort(admin(), programme_id, name, format, capacity,
                                       TODAY + timedelta(days=7), "Community hall")
        cid = r["cohort_id"]
        if format == "ENROLLED":
            await self.app.open_cohort_enrolment(admin(), cid)
        for i, fid in enumerate(facilitators):
            await self.app.assign_facilitator(admin(), cid, fid, "LEAD" if i == 0 else "CO")
        return UUID(cid)

    async def enrol(self, cohort_id: UUID, *people: UUID) -> list[str]:
        return [(await self.app.enrol_participant(admin(), cohort_id, p))["status"]
                for p in people]

    async def sessions(self, cohort_id: UUID, count: int, first: datetime | None = None
                       ) -> list[UUID]:
        start = first or NOW + timedelta(days=7)
        return [UUID((await self.app.schedule_session(
            admin(), cohort_id, start + timedelta(weeks=i)))["session_id"]) for i in range(count)]

    async def attend(self, cohort_id: UUID, session_id: UUID, marks: dict[UUID, str]) -> int:
        position = 0
        # Attendance is taken once a session has started: record it from well past them.
        saved, self.clock.at = self.clock.at, NOW + timedelta(days=400)
        try:
            for pid, status in marks.items():
                r = await self.app.record_attendance(admin(), cohort_id, session_id, pid, status)
                position = r.position
        finally:
            self.clock.at = saved
        return position

    async def running_cohort(self, programme_id: UUID, people: int = 4, capacity: int = 3,
                             sessions: int = 3) -> tuple[UUID, list[UUID], list[UUID]]:
        """A started cohort, ``people`` enrolled (the rest past capacity waitlisted)."""
        leads = (await self.facilitator("Lee"), await self.facilitator("Kim"))
        cid = await self.cohort(programme_id, capacity, leads)
        members = [await self.person(f"P{i}", programme_id=programme_id) for i in range(people)]
        await self.enrol(cid, *members)
        saved, self.clock.at = self.clock.at, NOW + timedelta(days=7)  # its start date
        try:
            await self.app.start_cohort(admin(), cid)
        finally:
            self.clock.at = saved
        return cid, members, await self.sessions(cid, sessions)
