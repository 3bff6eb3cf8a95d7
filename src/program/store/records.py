"""What the event store writes and reads, and the hash that chains its rows: the store's
vocabulary, free of asyncpg, shared by every implementation of the store and by the
application's ports."""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

GENESIS_HASH = bytes(32)

_EVENT_NS = UUID("6f1c1f0e-4a43-4f2b-9a55-0d1f6f0c2b7e")


def event_id(originator_id: UUID, originator_version: int) -> UUID:
    """A stable id for an event (used in causation and CloudEvents ids)."""
    return uuid5(_EVENT_NS, f"{originator_id}:{originator_version}")


@dataclass(frozen=True)
class NewEvent:
    """An event ready to append: the library's stored-event fields plus our metadata."""

    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Recorded:
    """One row of the log, as stored."""

    position: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes
    recorded_at: datetime
    metadata: dict[str, Any]
    hash: bytes


@dataclass
class Idempotency:
    """A command's idempotency key and the result to replay when it is used again."""

    key: str
    command: str
    result: Any = None
    fingerprint: str | None = None  # of the command's input; a reuse must match it


@dataclass(frozen=True)
class AppendResult:
    """Where an append landed; ``duplicate`` when its idempotency key was already used."""

    positions: list[int]
    result: Any = None
    duplicate: bool = False
    fingerprint: str | None = None  # of the input an earlier use of the key came with

    @property
    def position(self) -> int:
        return self.positions[-1] if self.positions else 0


def canonical_json(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(
    previous: bytes,
    position: int,
    originator_id: UUID,
    originator_version: int,
    topic: str,
    state: bytes,
    recorded_at: datetime,
    metadata_json: str,
) -> bytes:
    """SHA-256 over the previous hash and every stored column of the row."""
    h = hashlib.sha256(previous)
    h.update(struct.pack(">qq", position, originator_version))
    h.update(originator_id.bytes)
    for part in (topic.encode(), state, recorded_at.isoformat().encode(), metadata_json.encode()):
        h.update(struct.pack(">I", len(part)))
        h.update(part)
    return h.digest()


def row_hash(previous: bytes, row: Recorded) -> bytes:
    return chain_hash(
        previous,
        row.position,
        row.originator_id,
        row.originator_version,
        row.topic,
        row.state,
        row.recorded_at,
        canonical_json(row.metadata),
    )
