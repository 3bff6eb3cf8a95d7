"""The store in memory: the event log and the personal-data keys, with the PostgreSQL
store's rules (expected versions, a conflicting append failing alone, idempotency keys
bound to the input they came with, version checks of aggregates read but not changed,
crypto-shredding), so application rules can be tested given/when/then without a
database. ``tests/integration/test_store_contract.py`` runs the same contract against
both implementations.

Events go through the same mapper and repository as in production, so a test also
sees what serialisation does to them; results and metadata go through JSON as the
``jsonb`` columns would.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from program.store.errors import VersionConflict
from program.store.mapping import create_mapper
from program.store.records import (
    GENESIS_HASH,
    AppendResult,
    Idempotency,
    NewEvent,
    Recorded,
    canonical_json,
    chain_hash,
)
from program.store.repository import Repository
from program.store.sealing import KeyErased

# Called with the events of an append before it is checked: a test uses it to commit
# something else "at the same time" (see ``MemoryEventStore.before_append``).
BeforeAppend = Callable[[list[NewEvent]], Awaitable[None]]


def _json(value: Any) -> Any:
    """What a value looks like after a round trip through a ``jsonb`` column."""
    return json.loads(json.dumps(value))


class MemoryEventStore:
    """The event log as a list: gap-free positions, hash-chained rows, snapshots and
    idempotency keys, each append checked and applied atomically."""

    def __init__(self) -> None:
        self.rows: list[Recorded] = []
        self._versions: dict[UUID, int] = {}
        self._streams: dict[UUID, list[Recorded]] = {}
        self._keys: dict[str, AppendResult] = {}
        self._snapshots: dict[UUID, list[tuple[int, str, bytes]]] = {}
        self.before_append: BeforeAppend | None = None

    async def start(self) -> None:
        """Nothing to start: present so it stands in for ``EventStore`` in a composition."""

    async def close(self) -> None:
        """Nothing to close."""

    async def append(
        self,
        events: list[NewEvent],
        idempotency: Idempotency | None = None,
        expect: dict[UUID, int] | None = None,
    ) -> AppendResult:
        """Append events atomically, or none of them (as ``EventStore.append``)."""
        if self.before_append is not None:
            await self.before_append(list(events))
        await asyncio.sleep(0)  # an append is never synchronous with its caller
        if not events and idempotency is None and not expect:
            return AppendResult(positions=[await self.max_position()])
        if idempotency is not None and idempotency.key in self._keys:
            return self._keys[idempotency.key]
        for originator_id, expected in _expected_versions(events, expect or {}).items():
            actual = self._versions.get(originator_id, 0)
            if actual != expected:
                raise VersionConflict(originator_id, expected, actual)
        positions = [self._write(e) for e in events]
        at = positions[-1] if positions else len(self.rows)
        if idempotency is not None:
            self._keys[idempotency.key] = AppendResult(
                positions=[at], result=_json(idempotency.result), duplicate=True,
                fingerprint=idempotency.fingerprint,
            )
        return AppendResult(positions=positions or [at],
                            result=idempotency.result if idempotency is not None else None)

    def _write(self, e: NewEvent) -> int:
        position = len(self.rows) + 1
        now = datetime.now(UTC)
        metadata = _json(e.metadata)
        previous = self.rows[-1].hash if self.rows else GENESIS_HASH
        row = Recorded(
            position, e.originator_id, e.originator_version, e.topic, e.state, now, metadata,
            chain_hash(previous, position, e.originator_id, e.originator_version, e.topic,
                       e.state, now, canonical_json(metadata)),
        )
        self.rows.append(row)
        self._streams.setdefault(e.originator_id, []).append(row)
        self._versions[e.originator_id] = e.originator_version
        return position

    async def idempotent_result(self, key: str) -> AppendResult | None:
        return self._keys.get(key)

    async def max_position(self) -> int:
        return len(self.rows)

    async def read_position(self, position: int) -> Recorded | None:
        return self.rows[position - 1] if 0 < position <= len(self.rows) else None

    async def positions_of(self, originator_id: UUID) -> list[tuple[int, int]]:
        return [(r.position, r.originator_version) for r in self._streams.get(originator_id, [])]

    async def read_after(self, position: int, limit: int = 1000) -> list[Recorded]:
        return self.rows[max(position, 0):max(position, 0) + limit]

    async def read_aggregate(
        self,
        originator_id: UUID,
        *,
        after_version: int = 0,
        to_version: int | None = None,
        as_of: datetime | None = None,
    ) -> list[Recorded]:
        return [
            r for r in self._streams.get(originator_id, [])
            if r.originator_version > after_version
            and (to_version is None or r.originator_version <= to_version)
            and (as_of is None or r.recorded_at <= as_of)
        ]

    async def write_snapshot(self, originator_id: UUID, version: int, topic: str, state: bytes) -> None:
        kept = self._snapshots.setdefault(originator_id, [])
        if all(v != version for v, _, _ in kept):
            kept.append((version, topic, state))
            kept.sort()

    async def read_snapshot(
        self, originator_id: UUID, to_version: int | None = None
    ) -> tuple[int, str, bytes] | None:
        kept = [s for s in self._snapshots.get(originator_id, [])
                if to_version is None or s[0] <= to_version]
        return kept[-1] if kept else None


def _expected_versions(events: list[NewEvent], expect: dict[UUID, int]) -> dict[UUID, int]:
    """Each changed aggregate at the version before its first new event; each aggregate
    only read at the version it was read at."""
    expected: dict[UUID, int] = {}
    for e in events:
        expected.setdefault(e.originator_id, e.originator_version - 1)
    for originator_id, version in expect.items():
        expected.setdefault(originator_id, version)
    return expected


class MemoryKeyStore:
    """One data key per person; ``destroy`` leaves a tombstone, so a destroyed key is
    never created again (crypto-shredding, as ``KeyStore``)."""

    def __init__(self) -> None:
        self._keys: dict[UUID, bytes | None] = {}

    async def create(self, subject_id: UUID) -> bytes:
        if subject_id not in self._keys:
            self._keys[subject_id] = AESGCM.generate_key(bit_length=256)
        key = self._keys[subject_id]
        if key is None:
            raise KeyErased(f"data key of {subject_id} was destroyed")
        return key

    async def get_many(self, subject_ids: list[UUID]) -> dict[UUID, bytes]:
        return {s: k for s in subject_ids if (k := self._keys.get(s)) is not None}

    async def get(self, subject_id: UUID) -> bytes | None:
        return (await self.get_many([subject_id])).get(subject_id)

    async def destroy(self, subject_id: UUID) -> None:
        self._keys[subject_id] = None


def memory_repository(store: MemoryEventStore | None = None, **options: int) -> Repository:
    """The production repository (cache, snapshots, event ids) over an in-memory log."""
    return Repository(store or MemoryEventStore(), create_mapper(), **options)
