"""Who is acting, why, and when: everything a command needs from outside the domain."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID


class Role(StrEnum):
    ADMIN = "ADMIN"
    PROGRAMME_MANAGER = "PROGRAMME_MANAGER"
    FACILITATOR = "FACILITATOR"
    AUDITOR = "AUDITOR"
    PARTNER = "PARTNER"


@dataclass(frozen=True)
class Actor:
    """The authenticated caller: a subject, a role and the scope the role is limited to."""

    subject: str
    role: Role
    programme_ids: frozenset[UUID] = frozenset()
    facilitator_id: UUID | None = None
    partner_id: str | None = None

    @classmethod
    def system(cls, subject: str = "system") -> Actor:
        return cls(subject=subject, role=Role.ADMIN)


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock tests can set and move."""

    at: datetime

    def now(self) -> datetime:
        return self.at

    def today(self) -> date:
        return self.at.date()


@dataclass(frozen=True)
class CommandContext:
    """The actor plus the ids that tie a command to its request and its cause."""

    actor: Actor
    correlation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    causation_id: str | None = None
    request_id: str | None = None
    idempotency_key: str | None = None
    # A digest of the command's input, stored with the key: a reused key must come
    # with the same input (see ``application.idempotency.fingerprint``).
    input_fingerprint: str | None = None

    def metadata(self) -> dict[str, str]:
        meta = {
            "actor": self.actor.subject,
            "role": str(self.actor.role),
            "correlation_id": self.correlation_id,
        }
        if self.causation_id:
            meta["causation_id"] = self.causation_id
        if self.request_id:
            meta["request_id"] = self.request_id
        return meta
