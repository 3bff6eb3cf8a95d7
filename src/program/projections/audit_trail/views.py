"""What the audit trail queries return: frozen dataclasses built from its rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True)
class AuditEntryView:
    position: int
    recorded_at: datetime
    aggregate_id: UUID
    aggregate_type: str
    event_type: str
    originator_version: int
    actor: str | None
    role: str | None
    command: str | None
    correlation_id: str | None
    causation_id: str | None
    request_id: str | None
    event_id: str | None
    hash: bytes | None = None
    detail: str | None = None
