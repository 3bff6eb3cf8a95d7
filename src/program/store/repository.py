"""Load and save aggregates through the event store, with an in-process cache."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, Snapshot
from eventsourcing.persistence import Mapper, StoredEvent

from program.store.errors import AggregateNotFound, VersionConflict
from program.store.eventstore import EventStore, Idempotency
from program.store.records import AppendResult, NewEvent, Recorded

A = TypeVar("A", bound=Aggregate)

_EVENT_NS = UUID("6f1c1f0e-4a43-4f2b-9a55-0d1f6f0c2b7e")


def event_id(originator_id: UUID, originator_version: int) -> UUID:
    """A stable id for an event (used in causation and CloudEvents ids)."""
    return uuid5(_EVENT_NS, f"{originator_id}:{originator_version}")


class Repository:
    """Aggregates by id: latest (cached), as of a version, or as of a moment.

    The cache only ever holds committed state. A cached aggregate is *checked out*
    by ``get`` (removed from the cache, so no other command can see decisions that
    are not stored yet) and put back by ``save`` once its events are committed, or
    by ``release`` when it was only read. Sharing one object between concurrent
    commands would let a command build on another's events that then fail.

    Other processes append to the same log, so a cached aggregate is brought up to
    date (the events after its version, one indexed read) before a command decides on
    it; what still lands between that read and the append is a version conflict.

    The cache keeps the most recently used aggregates: the hot ones (programmes,
    cohorts, facilitators) and the people a run of commands is working on. Every
    registration adds two aggregates, so a cache sized for "all of them" (it was
    50,000) only grows a busy server's memory until it fills; a few thousand hold
    the hot set.
    """

    def __init__(
        self,
        store: EventStore,
        mapper: Mapper,
        cache_size: int = 4_096,
        snapshot_every: int = 100,
    ) -> None:
        self.store = store
        self.mapper = mapper
        self.cache_size = cache_size
        self.snapshot_every = snapshot_every
        self._cache: OrderedDict[UUID, Aggregate] = OrderedDict()

    def to_domain_event(self, row: Recorded) -> Any:
        return self.mapper.to_domain_event(
            StoredEvent(row.originator_id, row.originator_version, row.topic, row.state)
        )

    async def get(
        self,
        originator_id: UUID,
        cls: type[A] | None = None,
        *,
        version: int | None = None,
        as_of: datetime | None = None,
    ) -> A:
        latest = version is None and as_of is None
        aggregate = self._cache.pop(originator_id, None) if latest else None
        if aggregate is not None:
            newer = await self.store.read_aggregate(originator_id, after_version=aggregate.version)
            if newer:
                aggregate = self._replay(newer, aggregate)
        if aggregate is None:
            aggregate = await self._load(originator_id, version, as_of)
        if cls is not None and not isinstance(aggregate, cls):
            if latest:
                self._remember(aggregate)
            raise AggregateNotFound(originator_id)
        return aggregate  # type: ignore[return-value]

    async def _load(self, originator_id: UUID, version: int | None, as_of: datetime | None) -> Aggregate:
        aggregate: Any = None
        after = 0
        # A snapshot skips replaying long streams; as-of-time reads replay from the start.
        snapshot = None if as_of is not None else await self.store.read_snapshot(originator_id, version)
        if snapshot is not None:
            after, topic, state = snapshot
            aggregate = self.mapper.to_domain_event(
                StoredEvent(originator_id, after, topic, state)
            ).mutate(None)
        rows = await self.store.read_aggregate(
            originator_id, after_version=after, to_version=version, as_of=as_of
        )
        aggregate = self._replay(rows, aggregate)
        if aggregate is None:
            raise AggregateNotFound(originator_id)
        return aggregate

    def _replay(self, rows: list[Recorded], aggregate: Any = None) -> Aggregate | None:
        for row in rows:
            aggregate = self.to_domain_event(row).mutate(aggregate)
        return aggregate

    async def save(
        self,
        *aggregates: Aggregate,
        metadata: dict[str, Any],
        metadata_for: dict[UUID, dict[str, Any]] | None = None,
        idempotency: Idempotency | None = None,
        expect: dict[UUID, int] | None = None,
    ) -> AppendResult:
        """Append the aggregates' pending events atomically, or none of them."""
        events: list[NewEvent] = []
        for aggregate in aggregates:
            extra = (metadata_for or {}).get(aggregate.id, {})
            for domain_event in aggregate.collect_events():
                stored = self.mapper.to_stored_event(domain_event)
                meta = {**metadata, **extra}
                meta["event_id"] = str(event_id(stored.originator_id, stored.originator_version))
                events.append(NewEvent(stored.originator_id, stored.originator_version,
                                       stored.topic, stored.state, meta))
        result = await self.store.append(events, idempotency, expect)
        if not result.duplicate:
            for aggregate in aggregates:
                self._remember(aggregate)
            await self._snapshot_long_streams(aggregates, events)
        return result

    def snapshot_interval(self, aggregate: Aggregate) -> int:
        """Every ``snapshot_every`` events, or, for an aggregate whose state holds many
        items (``state_size``: a cohort's members), every power-of-two multiple of it at
        least that large. A snapshot serialises the whole state, so this keeps its cost
        per event the same however large the state grows, and a load replays no more
        events than the snapshot holds items."""
        interval = self.snapshot_every
        size = getattr(aggregate, "state_size", 0)
        while interval < size:
            interval *= 2
        return interval

    async def _snapshot_long_streams(self, aggregates: tuple[Aggregate, ...], events: list[NewEvent]) -> None:
        versions: dict[UUID, list[int]] = {}
        for e in events:
            versions.setdefault(e.originator_id, []).append(e.originator_version)
        for aggregate in aggregates:
            interval = self.snapshot_interval(aggregate)
            if any(v % interval == 0 for v in versions.get(aggregate.id, ())):
                stored = self.mapper.to_stored_event(Snapshot.take(aggregate))
                await self.store.write_snapshot(
                    aggregate.id, stored.originator_version, stored.topic, stored.state
                )

    def release(self, *aggregates: Aggregate) -> None:
        """Put back aggregates that a failed command only read: still committed state."""
        for aggregate in aggregates:
            self._remember(aggregate)

    def _remember(self, aggregate: Aggregate) -> None:
        cached = self._cache.get(aggregate.id)
        if cached is not None and cached.version > aggregate.version:
            return
        self._cache[aggregate.id] = aggregate
        self._cache.move_to_end(aggregate.id)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)


__all__ = ["Repository", "VersionConflict", "AggregateNotFound", "event_id"]
