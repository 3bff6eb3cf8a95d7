"""Run one command: authorise, load, decide, append; retry on a version conflict;
replay by idempotency key (only to a caller authorised for the command)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from program.application.context import CommandContext
from program.application.idempotency import IdempotencyKeyReused, scoped_key
from program.application.ports import (
    AggregateNotFound,
    Aggregates,
    AppendResult,
    Idempotency,
    VersionConflict,
)

log = logging.getLogger(__name__)

A = TypeVar("A", bound=Aggregate)

MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class CommandResult:
    """What a command answers: the ids it touched (and more), and the new global position."""

    value: dict[str, Any]
    position: int
    replayed: bool = False

    def __getitem__(self, key: str) -> Any:
        return self.value[key]


@dataclass
class UnitOfWork:
    """The aggregates one attempt loaded or created, saved together or not at all."""

    repository: Aggregates
    loaded: dict[UUID, tuple[Aggregate, int]] = field(default_factory=dict)
    added: list[Aggregate] = field(default_factory=list)
    metadata_for: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    consulted: dict[UUID, Aggregate] = field(default_factory=dict)

    async def get(self, aggregate_id: UUID, cls: type[A]) -> A:
        if aggregate_id in self.loaded:
            return self.loaded[aggregate_id][0]  # type: ignore[return-value]
        aggregate = await self.repository.get(aggregate_id, cls)
        self.loaded[aggregate_id] = (aggregate, aggregate.version)
        return aggregate

    async def find(self, aggregate_id: UUID, cls: type[A]) -> A | None:
        try:
            return await self.get(aggregate_id, cls)
        except AggregateNotFound:
            return None

    async def consult(self, aggregate_id: UUID, cls: type[A]) -> A:
        """Load an aggregate for a fact that never changes (a cohort's programme): it is
        not saved and the append does not expect its version, so it cannot conflict."""
        if aggregate_id in self.loaded:
            return self.loaded[aggregate_id][0]  # type: ignore[return-value]
        if aggregate_id not in self.consulted:
            self.consulted[aggregate_id] = await self.repository.get(aggregate_id, cls)
        return self.consulted[aggregate_id]  # type: ignore[return-value]

    def add(self, aggregate: A) -> A:
        self.added.append(aggregate)
        return aggregate

    def caused_by(self, aggregate: Aggregate, causation_id: str) -> None:
        """Events of this aggregate were caused by another event, not by the command."""
        self.metadata_for.setdefault(aggregate.id, {})["causation_id"] = causation_id

    def aggregates(self) -> list[Aggregate]:
        return [a for a, _ in self.loaded.values()] + self.added

    def unchanged(self) -> list[Aggregate]:
        read = [a for a, version in self.loaded.values() if a.version == version]
        return read + list(self.consulted.values())

    def read_versions(self) -> dict[UUID, int]:
        """Versions of aggregates this attempt decided on but did not change."""
        return {
            aggregate_id: version
            for aggregate_id, (aggregate, version) in self.loaded.items()
            if not aggregate.pending_events
        }


Decide = Callable[[UnitOfWork], Awaitable[dict[str, Any]]]
Authorise = Callable[[UnitOfWork], Awaitable[None]]


async def authorised_before_running(uow: UnitOfWork) -> None:
    """For commands whose policy check needs no aggregate, so it is made before running."""


class AggregateLocks:
    """In-process queues per aggregate, so commands on one hot aggregate (a cohort
    everyone enrols into) take turns instead of colliding and retrying."""

    def __init__(self) -> None:
        self._locks: dict[UUID, asyncio.Lock] = {}
        self._users: dict[UUID, int] = {}

    @asynccontextmanager
    async def hold(self, key: UUID | None) -> AsyncIterator[None]:
        if key is None:
            yield
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:
                del self._users[key], self._locks[key]


class CommandRunner:
    """Runs commands against one repository with bounded retries."""

    def __init__(self, repository: Aggregates) -> None:
        self.repository = repository
        self.locks = AggregateLocks()

    async def run(
        self,
        ctx: CommandContext,
        command: str,
        decide: Decide,
        *,
        authorise: Authorise,
        key: UUID | None = None,
    ) -> CommandResult:
        """Authorise, then answer a replay or run ``decide`` until it commits; ``key``
        names the aggregate to queue on. ``authorise`` loads what the access policy
        needs into the unit of work and raises ``Forbidden``."""
        async with self.locks.hold(key):
            return await self._attempts(ctx, command, authorise, decide)

    async def _attempts(
        self, ctx: CommandContext, command: str, authorise: Authorise, decide: Decide
    ) -> CommandResult:
        idempotency_key = scoped_key(ctx, command)
        fingerprint = ctx.input_fingerprint or ""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            uow = UnitOfWork(self.repository)
            try:
                await authorise(uow)
                if idempotency_key is not None:
                    earlier = await self.repository.store.idempotent_result(idempotency_key)
                    if earlier is not None:
                        self.repository.release(*uow.unchanged())
                        return _replay(earlier, fingerprint)
                value = await decide(uow)
                idempotency = (
                    Idempotency(idempotency_key, command, value, fingerprint)
                    if idempotency_key is not None else None
                )
                appended = await self.repository.save(
                    *uow.aggregates(),
                    metadata={**ctx.metadata(), "command": command},
                    metadata_for=uow.metadata_for,
                    idempotency=idempotency,
                    expect=uow.read_versions(),
                )
            except VersionConflict:
                if attempt == MAX_ATTEMPTS:
                    raise
                log.debug("version conflict on %s, attempt %d", command, attempt)
                # Jittered exponential backoff spreads writers that collided.
                await asyncio.sleep(random.uniform(0, 0.002 * 2**attempt))
                continue
            except BaseException:
                # Aggregates this attempt left unchanged are still committed state.
                self.repository.release(*uow.unchanged())
                raise
            self.repository.release(*uow.consulted.values())
            if appended.duplicate:  # the same key committed meanwhile
                return _replay(appended, fingerprint)
            return CommandResult(value, appended.position)
        raise AssertionError("unreachable")


def _replay(earlier: AppendResult, fingerprint: str) -> CommandResult:
    """The first answer, to the same input only."""
    if earlier.fingerprint is not None and earlier.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    return CommandResult(earlier.result, earlier.position, replayed=True)
