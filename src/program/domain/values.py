"""Value types of the ubiquitous language, and the checks that turn raw command
arguments into values events may carry (JSON-native, UUID, date, UTC datetime).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar
from uuid import UUID

from program.domain.errors import InvalidInput

DEFAULT_CONSENT_PURPOSE = "programme-participation"


class ProgrammeStatus(StrEnum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    CLOSED = "CLOSED"


class CohortStatus(StrEnum):
    PLANNED = "PLANNED"
    OPEN = "OPEN"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class CohortFormat(StrEnum):
    ENROLLED = "ENROLLED"
    DROP_IN = "DROP_IN"


class EnrolmentOutcome(StrEnum):
    ENROLLED = "ENROLLED"
    WAITLISTED = "WAITLISTED"


class FacilitatorRole(StrEnum):
    LEAD = "LEAD"
    CO = "CO"


class AttendanceStatus(StrEnum):
    PRESENT = "PRESENT"
    ABSENT_EXCUSED = "ABSENT_EXCUSED"
    ABSENT_UNEXCUSED = "ABSENT_UNEXCUSED"


class FacilitatorStatus(StrEnum):
    APPLIED = "APPLIED"
    IN_TRAINING = "IN_TRAINING"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    RETIRED = "RETIRED"


class CredentialKind(StrEnum):
    PEER_SUPPORT_TRAINING = "PEER_SUPPORT_TRAINING"
    SAFEGUARDING = "SAFEGUARDING"
    BACKGROUND_CHECK = "BACKGROUND_CHECK"


class Timepoint(StrEnum):
    BASELINE = "BASELINE"
    FOLLOW_UP = "FOLLOW_UP"


class ConsentState(StrEnum):
    """W3C DPV consent states."""

    GIVEN = "GIVEN"
    REFUSED = "REFUSED"
    WITHDRAWN = "WITHDRAWN"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


class LawfulBasis(StrEnum):
    """GDPR Art. 6/9 bases, spelled as in DPV (lower-case, hyphenated)."""

    CONSENT = "consent"
    EXPLICIT_CONSENT = "explicit-consent"
    LEGITIMATE_INTEREST = "legitimate-interest"
    PUBLIC_TASK = "public-task"
    VITAL_INTEREST = "vital-interest"
    LEGAL_OBLIGATION = "legal-obligation"
    CONTRACT = "contract"


E = TypeVar("E", bound=StrEnum)


def parse_enum(enum_cls: type[E], value: object, field: str) -> E:
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_cls)
        raise InvalidInput(field, f"{value!r} is not one of {allowed}") from None


def require_text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "must be a non-empty string")
    return value.strip()


def optional_text(value: object, field: str) -> str | None:
    """Blank means absent."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a string")
    return value.strip() or None


def unique_texts(values: Iterable[str] | None, field: str) -> list[str]:
    """Non-empty strings, duplicates dropped, first occurrence kept."""
    if values is None:
        return []
    if isinstance(values, str):
        raise InvalidInput(field, "must be a list of strings, not one string")
    result: list[str] = []
    for value in values:
        text = require_text(value, field)
        if text not in result:
            result.append(text)
    return result


def require_int(value: object, field: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, "must be a whole number")
    if value < minimum:
        raise InvalidInput(field, f"must be at least {minimum}")
    return value


def require_uuid(value: object, field: str) -> UUID:
    if not isinstance(value, UUID):
        raise InvalidInput(field, "must be a UUID")
    return value


def require_date(value: object, field: str) -> date:
    # datetime is a date subclass but would be stored as a datetime.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidInput(field, "must be a calendar date")
    return value


def optional_date(value: object, field: str) -> date | None:
    return None if value is None else require_date(value, field)


def require_utc(value: object, field: str) -> datetime:
    """A timezone-aware datetime, normalised to UTC."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidInput(field, "must be a timezone-aware date and time")
    return value.astimezone(timezone.utc)


def require_score(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise InvalidInput(field, "must be a number")
    score = float(value)
    if not math.isfinite(score):
        raise InvalidInput(field, "must be a finite number")
    if score < 0:
        raise InvalidInput(field, "must not be negative")
    return score
