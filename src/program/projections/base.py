"""What a projection is: a named read model in its own schema, fed batches of events."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import asyncpg

from program.projections.tables import Table
from program.store.records import Recorded


def kind_of(topic: str) -> str:
    """``program.domain.cohort:Cohort.ParticipantEnrolled`` -> ``Cohort.ParticipantEnrolled``."""
    return topic.rpartition(":")[2]


@dataclass(frozen=True, slots=True)
class Envelope:
    """One stored event as a projection sees it: the row, and the decoded domain event."""

    row: Recorded
    kind: str
    event: Any = None

    @property
    def position(self) -> int:
        return self.row.position


class Projection:
    """A read model: its tables live in schema ``rm_<name>`` and move with one checkpoint.

    Subclasses name the event kinds they handle (``handles``), declare their tables and
    indexes, and implement ``apply`` for a whole batch at once. ``handles = None`` means
    every row, undecoded (the audit trail reads only row columns and metadata).
    """

    name: ClassVar[str]
    version: ClassVar[int] = 1
    handles: ClassVar[frozenset[str] | None] = frozenset()
    tables: ClassVar[tuple[Table, ...]] = ()
    indexes: ClassVar[tuple[str, ...]] = ()

    @property
    def schema(self) -> str:
        return f"rm_{self.name}"

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


class Decoder:
    """Turns rows into envelopes for a projection, decoding only the kinds it handles."""

    def __init__(self, to_domain_event: Callable[[Recorded], Any]) -> None:
        self._decode = to_domain_event
        self._kinds: dict[str, str] = {}

    def kind(self, topic: str) -> str:
        kind = self._kinds.get(topic)
        if kind is None:
            kind = self._kinds[topic] = kind_of(topic)
        return kind

    def envelopes(
        self, projection: Projection, rows: Iterable[Recorded], cache: dict[int, Any] | None = None
    ) -> list[Envelope]:
        """``cache`` (position -> event) lets several projections share one decoding."""
        handles = projection.handles
        kind = self.kind
        if handles is None:
            return [Envelope(row, kind(row.topic)) for row in rows]
        out = []
        for row in rows:
            k = kind(row.topic)
            if k not in handles:
                continue
            if cache is None:
                event = self._decode(row)
            else:
                event = cache.get(row.position)
                if event is None:
                    event = cache[row.position] = self._decode(row)
            out.append(Envelope(row, k, event))
        return out
