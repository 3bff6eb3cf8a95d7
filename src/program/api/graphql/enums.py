"""GraphQL enums: the API's own spelling of the ubiquitous language (not the domain's classes)."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum
class ProgrammeStatus(Enum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    CLOSED = "CLOSED"


@strawberry.enum
class CohortStatus(Enum):
    PLANNED = "PLANNED"
    OPEN = "OPEN"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


@strawberry.enum
class CohortFormat(Enum):
    ENROLLED = "ENROLLED"
    DROP_IN = "DROP_IN"


@strawberry.enum
class EnrolmentStatus(Enum):
    ENROLLED = "ENROLLED"
    WAITLISTED = "WAITLISTED"
    WITHDRAWN = "WITHDRAWN"


@strawberry.enum
class FacilitatorRole(Enum):
    LEAD = "LEAD"
    CO = "CO"


@strawberry.enum
class FacilitatorStatus(Enum):
    APPLIED = "APPLIED"
    IN_TRAINING = "IN_TRAINING"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    RETIRED = "RETIRED"


@strawberry.enum
class CredentialKind(Enum):
    PEER_SUPPORT_TRAINING = "PEER_SUPPORT_TRAINING"
    SAFEGUARDING = "SAFEGUARDING"
    BACKGROUND_CHECK = "BACKGROUND_CHECK"


@strawberry.enum
class AttendanceStatus(Enum):
    PRESENT = "PRESENT"
    ABSENT_EXCUSED = "ABSENT_EXCUSED"
    ABSENT_UNEXCUSED = "ABSENT_UNEXCUSED"


@strawberry.enum
class Timepoint(Enum):
    BASELINE = "BASELINE"
    FOLLOW_UP = "FOLLOW_UP"


@strawberry.enum
class ConsentState(Enum):
    GIVEN = "GIVEN"
    REFUSED = "REFUSED"
    WITHDRAWN = "WITHDRAWN"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


@strawberry.enum
class Role(Enum):
    ADMIN = "ADMIN"
    PROGRAMME_MANAGER = "PROGRAMME_MANAGER"
    FACILITATOR = "FACILITATOR"
    AUDITOR = "AUDITOR"
    PARTNER = "PARTNER"


def to_enum(enum_cls: type[Enum], value: object) -> Enum | None:
    """A read-model value as the API enum (unknown values become None rather than failing)."""
    if value is None:
        return None
    try:
        return enum_cls(str(value))
    except ValueError:
        return None
