"""Consent state per purpose, and the consent history an auditor reads."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import strawberry

from program.api.graphql.enums import ConsentMethod, LawfulBasis, to_enum
from program.api.graphql.enums import ConsentState as ConsentStateEnum
from program.projections.consent_history import ConsentChangeView, ConsentHistoryView
from program.projections.participant_state import ConsentStateView


@strawberry.type(description="Where a person's consent for one purpose stands (now, or as of a time).")
class Consent:
    purpose: str
    state: ConsentStateEnum
    consent_id: UUID
    notice_id: str | None
    notice_version: str | None
    language: str | None
    lawful_basis: LawfulBasis | None
    recipients: list[str]
    valid_until: date | None
    changed_at: datetime
    position: int = strawberry.field(description="Global log position of the change.")
    valid_at: bool | None = strawberry.field(
        description="In a history as of a time: GIVEN and not past validUntil at that time."
    )

    @classmethod
    def from_view(cls, v: ConsentStateView) -> Consent:
        return cls(
            purpose=v.purpose, state=to_enum(ConsentStateEnum, v.state),  # type: ignore[arg-type]
            consent_id=v.consent_id, notice_id=v.notice_id, notice_version=v.notice_version,
            language=v.language, lawful_basis=to_enum(LawfulBasis, v.lawful_basis),
            recipients=list(v.recipients), valid_until=v.valid_until, changed_at=v.changed_at,
            position=v.position, valid_at=v.valid_at,
        )


@strawberry.type(description="One recorded consent change.")
class ConsentChange:
    position: int
    consent_id: UUID
    purpose: str
    state: ConsentStateEnum
    notice_id: str | None
    notice_version: str | None
    notice_hash: str | None = strawberry.field(
        description="SHA-256 (hex) of the notice's text, when it was given with the change.")
    language: str | None
    lawful_basis: LawfulBasis | None
    method: ConsentMethod | None = strawberry.field(
        description="How it was collected; null for a change recorded, before methods were "
        "a closed set, with a method outside it.")
    recipients: list[str]
    recorded_by: str | None = strawberry.field(description="Subject of the token that recorded it.")
    valid_until: date | None
    reason: str | None = strawberry.field(description=(
        "Why it was withdrawn or revoked: for admins and the person's managers only."))
    at: datetime = strawberry.field(description="When the change took effect.")
    recorded_at: datetime

    @classmethod
    def from_view(cls, v: ConsentChangeView, reason: str | None = None) -> ConsentChange:
        return cls(
            position=v.position, consent_id=v.consent_id, purpose=v.purpose,
            state=to_enum(ConsentStateEnum, v.state),  # type: ignore[arg-type]
            notice_id=v.notice_id, notice_version=v.notice_version, language=v.language,
            lawful_basis=to_enum(LawfulBasis, v.lawful_basis),
            method=to_enum(ConsentMethod, v.method), recipients=list(v.recipients),
            recorded_by=v.recorded_by, valid_until=v.valid_until, reason=reason, at=v.at,
            recorded_at=v.recorded_at, notice_hash=v.notice_hash,
        )


@strawberry.type
class ConsentHistory:
    participant_id: UUID
    as_of: datetime | None
    changes: list[ConsentChange] = strawberry.field(description="Every change, in time order.")
    states_as_of: list[Consent] = strawberry.field(
        description="The state per purpose as of asOf (or now)."
    )

    @classmethod
    def from_view(cls, v: ConsentHistoryView, reasons: list[str | None] | None = None
                  ) -> ConsentHistory:
        """``reasons``: each change's reason as the caller may see it (default: none)."""
        opened = reasons or [None] * len(v.changes)
        return cls(
            participant_id=v.participant_id, as_of=v.as_of,
            changes=[ConsentChange.from_view(c, r) for c, r in zip(v.changes, opened, strict=True)],
            states_as_of=[Consent.from_view(s) for s in v.states_as_of],
        )
