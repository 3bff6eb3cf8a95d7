"""What the consent history queries return: frozen dataclasses built from its rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from program.projections.participant_state.views import ConsentStateView


@dataclass(frozen=True)
class ConsentChangeView:
    position: int
    consent_id: UUID
    participant_id: UUID
    purpose: str
    state: str
    notice_id: str | None
    notice_version: str | None
    language: str | None
    lawful_basis: str | None
    method: str | None
    recipients: tuple[str, ...]
    recorded_by: str | None
    valid_until: date | None
    reason: str | None
    at: datetime
    recorded_at: datetime
    notice_hash: str | None = None  # SHA-256 (hex) of the notice's text, when given


@dataclass(frozen=True)
class ConsentHistoryView:
    participant_id: UUID
    changes: tuple[ConsentChangeView, ...]  # in time order
    states_as_of: tuple[ConsentStateView, ...]  # last change per purpose at or before ``as_of``
    as_of: datetime | None
