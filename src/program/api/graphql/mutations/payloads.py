"""Mutation payloads: the ids a command touched and the new global position."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import strawberry

from program.api.graphql.enums import EnrolmentStatus
from program.application.unit import CommandResult

POSITION_DOC = "Global log position of this change: pass it as consistentWith to read your write."


@strawberry.interface(description="What every mutation answers.")
class Payload:
    position: int = strawberry.field(description=POSITION_DOC)
    replayed: bool = strawberry.field(
        description="True when an earlier mutation with the same idempotencyKey answered."
    )


@strawberry.type
class ProgrammePayload(Payload):
    programme_id: UUID


@strawberry.type
class CohortPayload(Payload):
    cohort_id: UUID
    programme_id: UUID | None = None


@strawberry.type
class CohortCapacityPayload(Payload):
    cohort_id: UUID
    promoted_participant_ids: list[UUID]


@strawberry.type
class FacilitatorPayload(Payload):
    facilitator_id: UUID


@strawberry.type
class AssignFacilitatorPayload(Payload):
    cohort_id: UUID
    facilitator_id: UUID


@strawberry.type
class ParticipantPayload(Payload):
    participant_id: UUID


@strawberry.type
class ConsentPayload(Payload):
    consent_id: UUID
    participant_id: UUID
    ended_cohort_ids: list[UUID] = strawberry.field(
        default_factory=list,
        description="Cohorts the person left because a required consent was withdrawn.",
    )


@strawberry.type
class EnrolmentPayload(Payload):
    cohort_id: UUID
    participant_id: UUID
    status: EnrolmentStatus


@strawberry.type
class WithdrawalPayload(Payload):
    cohort_id: UUID
    participant_id: UUID
    promoted_participant_id: UUID | None = strawberry.field(
        default=None, description="The head of the waitlist, enrolled into the freed place."
    )


@strawberry.type
class SessionPayload(Payload):
    cohort_id: UUID
    session_id: UUID


@strawberry.type
class AttendancePayload(Payload):
    cohort_id: UUID
    session_id: UUID
    participant_id: UUID


@strawberry.type
class OutcomePayload(Payload):
    participant_id: UUID
    cohort_id: UUID


def build(payload_cls: type, result: CommandResult, **extra: Any) -> Any:
    """A payload from a command's result: its ids (text) become UUIDs, lists of ids too."""
    fields = {f.name for f in payload_cls.__strawberry_definition__.fields}  # type: ignore[attr-defined]
    values: dict[str, Any] = {}
    for name in fields - {"position", "replayed"}:
        if name in extra:
            values[name] = extra[name]
        elif name in result.value:
            values[name] = uuids(result.value[name])
    return payload_cls(position=result.position, replayed=result.replayed, **values)


def uuids(value: Any) -> Any:
    if isinstance(value, list):
        return [UUID(str(v)) for v in value]
    if isinstance(value, str):
        return UUID(value)
    return value
