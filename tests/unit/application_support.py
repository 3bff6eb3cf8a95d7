"""Given / when / then for application rules, on the in-memory store (no PostgreSQL).

``given`` sets the world up through the application's own commands; ``then`` reads
what was appended from the in-memory log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from program.application.context import Actor, CommandContext, FixedClock, Role
from program.application.services import Application
from program.store.memory import MemoryEventStore, MemoryKeyStore, memory_repository
from program.store.records import Recorded

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
PURPOSE = "programme-participation"


def admin(key: str | None = None, fingerprint: str | None = None) -> CommandContext:
    return CommandContext(Actor("admin-1", Role.ADMIN), idempotency_key=key,
                          input_fingerprint=fingerprint)


def manager_of(*programme_ids: str | UUID, subject: str = "manager-1") -> CommandContext:
    return CommandContext(Actor(subject, Role.PROGRAMME_MANAGER,
                                frozenset(UUID(str(p)) for p in programme_ids)))


@dataclass
class World:
    """An application wired to the in-memory store, with a clock tests can move."""

    app: Application
    store: MemoryEventStore
    keys: MemoryKeyStore
    clock: FixedClock

    @classmethod
    def new(cls) -> World:
        store, keys, clock = MemoryEventStore(), MemoryKeyStore(), FixedClock(NOW)
        return cls(Application(memory_repository(store), keys, clock=clock), store, keys, clock)

    # -- given -----------------------------------------------------------------

    async def programme(self) -> str:
        pid = (await self.app.create_programme(admin(), "Peer group", "", [PURPOSE], ["HHI"],
                                               2))["programme_id"]
        await self.app.activate_programme(admin(), pid)
        return str(pid)

    async def open_cohort(self, programme_id: str, capacity: int = 5) -> str:
        cid = (await self.app.plan_cohort(admin(), programme_id, "Tuesday group", "ENROLLED",
                                          capacity, TODAY + timedelta(7), "Hall"))["cohort_id"]
        await self.app.open_cohort_enrolment(admin(), cid)
        return str(cid)

    async def person(self, programme_id: str, name: str = "Alex") -> str:
        return str((await self.app.register_participant(
            admin(), name, f"{name}@example.org", None, None, programme_id=programme_id,
        ))["participant_id"])

    async def consent(self, person: str, valid_for: timedelta = timedelta(days=365)) -> None:
        await self.app.give_consent(admin(), person, PURPOSE, "notice-1", "v1", "consent",
                                    "paper-form", [], TODAY + valid_for)

    # -- then ------------------------------------------------------------------

    def events_since(self, position: int) -> list[Recorded]:
        return self.store.rows[position:]

    def kinds_since(self, position: int) -> list[str]:
        return [kind(r) for r in self.events_since(position)]


def kind(row: Recorded) -> str:
    return row.topic.rsplit(".", 1)[-1]
