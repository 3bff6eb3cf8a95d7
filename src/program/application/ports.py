"""What the application needs of the store, as protocols: the only way in from the
application layer to ``program.store``.

The PostgreSQL implementations (``store.repository.Repository`` over
``store.eventstore.EventStore``, ``store.keys.KeyStore``, ``store.checkpoints.CheckpointLog``)
and the in-memory ones (``store.memory``) satisfy them structurally; the composition root
(``program.bootstrap``) picks which. The vocabulary they speak (records, errors, sealing,
the event id) is the store's own, in modules that import no database driver.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from program.store.errors import AggregateNotFound, VersionConflict
from program.store.records import AppendResult, Idempotency, Recorded, event_id
from program.store.sealing import KeyErased, decrypt, encrypt
from program.transparency.checkpoint import InclusionProof
from program.transparency.note import Signer

A = TypeVar("A", bound=Aggregate)


class EventHistory(Protocol):
    """The log, as the application reads it: replays by idempotency key and the rows
    of one aggregate's stream (for consent receipts)."""

    async def idempotent_result(self, key: str) -> AppendResult | None: ...

    async def positions_of(self, originator_id: UUID) -> list[tuple[int, int]]: ...

    async def read_position(self, position: int) -> Recorded | None: ...


class Aggregates(Protocol):
    """Aggregates by id, saved together with expected versions, or not at all.

    ``get`` checks an aggregate out (a concurrent command cannot see it until it is
    saved or released); ``save`` appends every pending event atomically, expecting
    each changed aggregate at the version it was loaded at and each in ``expect``
    (read to decide, not changed) still at the given version, else ``VersionConflict``;
    an ``idempotency`` key already used answers the first result with ``duplicate``.
    """

    @property
    def store(self) -> EventHistory: ...

    def to_domain_event(self, row: Recorded) -> Any: ...

    async def get(
        self,
        originator_id: UUID,
        cls: type[A] | None = None,
        *,
        version: int | None = None,
        as_of: datetime | None = None,
    ) -> A: ...

    async def save(
        self,
        *aggregates: Aggregate,
        metadata: dict[str, Any],
        metadata_for: dict[UUID, dict[str, Any]] | None = None,
        idempotency: Idempotency | None = None,
        expect: dict[UUID, int] | None = None,
    ) -> AppendResult: ...

    def release(self, *aggregates: Aggregate) -> None: ...


class PersonalDataKeys(Protocol):
    """One data key per person; destroying it erases their personal data for good."""

    async def create(self, subject_id: UUID) -> bytes: ...

    async def get_many(self, subject_ids: list[UUID]) -> dict[UUID, bytes]: ...

    async def destroy(self, subject_id: UUID) -> None: ...


class KeptCheckpointLike(Protocol):
    @property
    def size(self) -> int: ...


class Ledger(Protocol):
    """Signed checkpoints of the log and inclusion proofs against them (receipts)."""

    @property
    def signer(self) -> Signer: ...

    async def latest(self) -> KeptCheckpointLike | None: ...

    async def issue(self) -> KeptCheckpointLike: ...

    async def inclusion_proof(
        self, position: int, size: int | None = None
    ) -> tuple[InclusionProof, bytes]: ...


__all__ = [
    "AggregateNotFound",
    "Aggregates",
    "AppendResult",
    "EventHistory",
    "Idempotency",
    "KeyErased",
    "Ledger",
    "PersonalDataKeys",
    "Recorded",
    "VersionConflict",
    "decrypt",
    "encrypt",
    "event_id",
]
