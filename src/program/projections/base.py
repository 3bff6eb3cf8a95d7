"""What a projection is: a named read model in its own schema, fed batches of events."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, ClassVar, NamedTuple
from uuid import UUID

import asyncpg

from program.projections.tables import Table, note_indexes
from program.store.records import Recorded


def kind_of(topic: str) -> str:
    """``program.domain.cohort:Cohort.ParticipantEnrolled`` -> ``Cohort.ParticipantEnrolled``."""
    return topic.rpartition(":")[2]


class Envelope(NamedTuple):
    """One stored event as a projection sees it (a tuple: cheap to make by the thousand)."""

    position: int
    originator_id: UUID
    originator_version: int
    kind: str
    recorded_at: datetime
    metadata: dict[str, Any]
    event: Any  # the decoded event; None for projections that handle every row undecoded


class LogRow(NamedTuple):
    """A row of the log with what projections read (metadata only when asked for)."""

    position: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes
    recorded_at: datetime
    metadata: dict[str, Any] | None


# What the decoder reads, by index: a LogRow, or an asyncpg record of the same columns.
Row = Sequence[Any]


def as_rows(records: Iterable[Recorded]) -> list[LogRow]:
    return [LogRow(r.position, r.originator_id, r.originator_version, r.topic, r.state,
                   r.recorded_at, r.metadata) for r in records]


class Projection:
    """A read model: its tables live in schema ``rm_<name>`` and move with one checkpoint.

    Subclasses name the event kinds they handle (``handles``), declare their tables and
    indexes, and implement ``apply`` for a whole batch at once. Decoded events are shared
    between projections: read them, never change them. ``handles = None`` means
    every row, undecoded (the audit trail reads only row columns and metadata).
    A rebuild reads rows without their metadata unless a projection sets
    ``reads_metadata``.
    """

    name: ClassVar[str]
    schema: ClassVar[str]  # ``rm_<name>``, set from ``name``: queries read their tables there
    version: ClassVar[int] = 1
    handles: ClassVar[frozenset[str] | None] = frozenset()
    tables: ClassVar[tuple[Table, ...]] = ()
    indexes: ClassVar[tuple[str, ...]] = ()
    reads_metadata: ClassVar[bool] = False
    # True when every row ``apply`` writes goes through ``tables.Rows`` keyed by the entity
    # first: the batch's changed entities are then told to every process (``changes``).
    publishes_changes: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            cls.schema = f"rm_{cls.name}"
        note_indexes(cls.tables, cls.indexes)  # so indexed text is kept short enough

    @classmethod
    def schema_version(cls) -> str:
        """Changes when the tables or the declared version change: a reason to rebuild."""
        ddl = "\n".join([t.ddl("s") for t in cls.tables] + [i.format(schema="s") for i in cls.indexes])
        return f"{cls.version}:{hashlib.sha256(ddl.encode()).hexdigest()[:16]}"

    def wants(self, kind: str) -> bool:
        return self.handles is None or kind in self.handles

    async def apply(
        self, conn: asyncpg.Connection, schema: str, batch: Sequence[Envelope]
    ) -> None:
        """Apply a batch (in log order) inside the caller's transaction."""
        raise NotImplementedError


class RangeProjection(Projection):
    """A read model copied from the log inside the database, a range of positions at a
    time: nothing to decode, nothing to ship to Python and back."""

    handles = None

    async def apply_range(self, conn: asyncpg.Connection, schema: str, after: int, upto: int
                          ) -> None:
        """Apply the rows with positions in (after, upto], in the caller's transaction."""
        raise NotImplementedError

    async def apply(
        self, conn: asyncpg.Connection, schema: str, batch: Sequence[Envelope]
    ) -> None:
        """Apply the positions in ``batch``, a range for each run without gaps (a batch
        has gaps where an operator skipped an event)."""
        start = previous = batch[0].position
        for e in batch[1:]:
            if e.position != previous + 1:
                await self.apply_range(conn, schema, start - 1, previous)
                start = e.position
            previous = e.position
        await self.apply_range(conn, schema, start - 1, previous)


class Kinds(NamedTuple):
    of_row: list[str]
    by_kind: dict[str, list[int]]


class Decoder:
    """Turns rows into envelopes for a projection, decoding only the kinds it handles."""

    def __init__(self, decode: Callable[[str, bytes, Any, int], Any]) -> None:
        self._decode = decode
        self._kinds: dict[str, str] = {}

    @classmethod
    def for_mapper(cls, mapper: Any) -> Decoder:
        from program.projections.decoding import EventDecoder

        return cls(EventDecoder(mapper).decode)

    def kinds(self, rows: Sequence[Row]) -> Kinds:
        """Each row's kind, and the rows of each kind: once per batch for every projection."""
        known = self._kinds
        of_row = []
        by_kind: dict[str, list[int]] = {}
        for i, row in enumerate(rows):
            topic = row[3]
            kind = known.get(topic)
            if kind is None:
                kind = known[topic] = kind_of(topic)
            of_row.append(kind)
            group = by_kind.get(kind)
            if group is None:
                by_kind[kind] = [i]
            else:
                group.append(i)
        return Kinds(of_row, by_kind)

    def envelopes_skipping(
        self, projection: Projection, rows: Sequence[Row], skip: frozenset[int],
        cache: dict[int, Any] | None = None, kinds: Kinds | None = None,
    ) -> list[Envelope]:
        """``envelopes`` without the positions in ``skip``; an event that cannot be decoded
        (and is not skipped) raises ``EventFailed`` naming it."""
        from program.projections.failures import EventFailed

        try:
            batch = self.envelopes(projection, rows, cache, kinds)
        except Exception:
            batch = []
            for r in rows:
                if r[0] not in skip:
                    try:
                        batch += self.envelopes(projection, [r], cache)
                    except Exception as exc:
                        raise EventFailed(r[0], kind_of(r[3]), exc, projection.name) from exc
        return [e for e in batch if e.position not in skip] if skip else batch

    def envelopes(
        self,
        projection: Projection,
        rows: Sequence[Row],
        cache: dict[int, Any] | None = None,
        kinds: Kinds | None = None,
    ) -> list[Envelope]:
        """``cache`` (position -> event) lets several projections share one decoding."""
        handles = projection.handles
        kinds = kinds if kinds is not None else self.kinds(rows)
        if handles is None:
            return [Envelope(r[0], r[1], r[2], k, r[5], r[6], None)
                    for r, k in zip(rows, kinds.of_row, strict=True)]
        groups = [g for k, g in kinds.by_kind.items() if k in handles]
        picked = groups[0] if len(groups) == 1 else sorted(i for g in groups for i in g)
        of_row = kinds.of_row
        decode = self._decode
        cache = {} if cache is None else cache
        out = []
        for i in picked:
            r = rows[i]
            event = cache.get(r[0])
            if event is None:
                event = cache[r[0]] = decode(r[3], r[4], r[1], r[2])
            out.append(Envelope(r[0], r[1], r[2], of_row[i], r[5], r[6], event))
        return out
