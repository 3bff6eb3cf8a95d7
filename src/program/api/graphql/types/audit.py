"""The audit trail and the projections' status."""

from __future__ import annotations

import base64
from datetime import datetime
from uuid import UUID

import strawberry

from program.api.graphql.enums import AuditEventType, Role, to_enum
from program.projections.audit_trail import AuditEntryView
from program.projections.checkpoint import ProjectionStatus


@strawberry.input(description="Narrow the audit trail; since is inclusive, until exclusive.")
class AuditTrailFilter:
    aggregate_id: UUID | None = strawberry.field(
        default=None, description="Only the events of this aggregate (a programme, cohort, "
        "person, consent, facilitator or partner).")
    actor: str | None = strawberry.field(
        default=None, description="Only the events recorded for this token subject.")
    event_type: AuditEventType | None = strawberry.field(
        default=None, description="Only events of this type (aggregate and event).")
    since: datetime | None = strawberry.field(
        default=None, description="Only events recorded at or after this time.")
    until: datetime | None = strawberry.field(
        default=None, description="Only events recorded before this time.")


@strawberry.type(description="One stored event: who did what to which aggregate, when and why.")
class AuditEntry:
    position: int
    recorded_at: datetime
    aggregate_id: UUID
    aggregate_type: str
    event_type: str
    originator_version: int
    actor: str | None
    role: Role | None = strawberry.field(description="The role of the token it was recorded "
                                         "for; null for events recorded without one.")
    command: str | None
    correlation_id: str | None
    causation_id: str | None
    request_id: str | None
    event_id: str | None
    detail: str | None = strawberry.field(
        default=None, description="What an operations command did and why (a skipped "
        "projection event: the read model, position and reason); never personal data.")
    hash: str | None = strawberry.field(
        default=None, description="The row's chain hash, base64: the leaf of the transparency log's Merkle "
        "tree at this position. GET /ledger/proof/{position} proves it is in the signed log.",
    )

    @classmethod
    def from_view(cls, v: AuditEntryView) -> AuditEntry:
        return cls(
            position=v.position, recorded_at=v.recorded_at, aggregate_id=v.aggregate_id,
            aggregate_type=v.aggregate_type, event_type=v.event_type,
            originator_version=v.originator_version, actor=v.actor,
            role=to_enum(Role, v.role),
            command=v.command, correlation_id=v.correlation_id, causation_id=v.causation_id,
            request_id=v.request_id, event_id=v.event_id, detail=v.detail,
            hash=base64.b64encode(v.hash).decode() if v.hash is not None else None,
        )


@strawberry.type(description="How far one projection has applied the log.")
class Projection:
    name: str
    position: int
    head: int
    lag_events: int
    lag_seconds: float
    error: str | None
    updated_at: datetime | None
    stuck_at: int | None = strawberry.field(
        default=None, description="The position of the event it cannot apply, while stuck "
        "(it keeps serving what it has and retries with backoff).")
    stuck_event_type: str | None = None
    stuck_since: datetime | None = None
    failed_attempts: int = 0

    @classmethod
    def from_status(cls, s: ProjectionStatus) -> Projection:
        f = s.failure
        return cls(name=s.name, position=s.position, head=s.head, lag_events=s.lag_events,
                   lag_seconds=s.lag_seconds, error=s.error, updated_at=s.updated_at,
                   stuck_at=f.position if f else None, stuck_event_type=f.event_type if f else None,
                   stuck_since=f.first_failed_at if f else None,
                   failed_attempts=f.attempts if f else 0)
