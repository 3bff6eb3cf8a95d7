"""Value types of the ubiquitous language, and the checks that turn raw command
arguments into values events may carry (JSON-native, UUID, date, UTC datetime).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import StrEnum
from itertools import islice
from typing import TypeVar
from uuid import UUID

from program.domain import limits
from program.domain.errors import InvalidInput
from program.domain.limits import TextLimit

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


class ConsentMethod(StrEnum):
    """How a consent change was collected, spelled as it is stored (lower-case, hyphenated)."""

    PAPER_FORM = "paper-form"
    WEB_FORM = "web-form"
    EMAIL = "email"
    PHONE = "phone"
    IN_PERSON = "in-person"


E = TypeVar("E", bound=StrEnum)

# Refused in every text: NUL and unpaired surrogates, which PostgreSQL cannot store as
# text (a projection copying one would fail on that event for ever), and the other C0
# controls and DEL, which only garble logs, CSV exports and screens. Multi-line text
# keeps tab, line feed and carriage return.
_SINGLE_LINE_BAD = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_MULTI_LINE_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_OUT_OF_RANGE = f"must lie between {limits.EARLIEST_DATE} and {limits.LATEST_DATE} (UTC)"


def check_text(value: str, field: str, limit: TextLimit) -> str:
    """Refuse what no text may hold, or more than ``limit`` allows; the value is unchanged.

    The length is checked first (it costs nothing), so a megabyte is refused at once.
    """
    if len(value) > limit.max_length:
        raise InvalidInput(field, f"must be at most {limit.max_length} characters")
    bad = (_MULTI_LINE_BAD if limit.multiline else _SINGLE_LINE_BAD).search(value)
    if bad is not None:
        raise InvalidInput(field, _problem(bad.group()))
    return value


def _problem(char: str) -> str:
    if char == "\x00":
        return "must not contain NUL characters"
    if "\ud800" <= char <= "\udfff":
        return "must be valid Unicode (it holds an unpaired surrogate)"
    return f"must not contain the control character U+{ord(char):04X}"


def parse_enum(enum_cls: type[E], value: object, field: str) -> E:
    if isinstance(value, str):
        check_text(value, field, limits.CODE)  # the error below repeats the value
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_cls)
        raise InvalidInput(field, f"{value!r} is not one of {allowed}") from None


def require_text(value: object, field: str, limit: TextLimit | None = None) -> str:
    """Non-blank text within ``limit`` (by default the field's own, see ``limits``), stripped."""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a non-empty string")
    check_text(value, field, limit or limits.text_limit(field))
    if not value.strip():
        raise InvalidInput(field, "must be a non-empty string")
    return value.strip()


def optional_text(value: object, field: str) -> str | None:
    """Blank means absent."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a string")
    return check_text(value, field, limits.text_limit(field)).strip() or None


def unique_texts(
    values: Iterable[str] | None, field: str, max_items: int | None = None
) -> list[str]:
    """Non-empty strings, duplicates dropped, first occurrence kept; at most
    ``max_items`` (by default the field's own limit) before de-duplication.

    Linear: an earlier version searched the result list for each value, and 50,000
    recipients held the event loop for seconds.
    """
    if values is None:
        return []
    if isinstance(values, (str, bytes)):
        raise InvalidInput(field, "must be a list of strings, not one string")
    if not isinstance(values, Iterable):
        raise InvalidInput(field, "must be a list of strings")
    most = limits.list_limit(field) if max_items is None else max_items
    items = list(islice(values, most + 1))  # never more than one past the limit
    if len(items) > most:
        raise InvalidInput(field, f"must hold at most {most} items")
    item_limit = limits.text_limit(field)
    seen: dict[str, None] = {}
    for i, value in enumerate(items):
        seen.setdefault(require_text(value, f"{field}[{i}]", item_limit))
    return list(seen)


def require_int(value: object, field: str) -> int:
    """A whole number within the field's range in ``limits.INTS``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, "must be a whole number")
    minimum, maximum = limits.INTS[field]
    if value < minimum:
        raise InvalidInput(field, f"must be at least {minimum}")
    return check_int(value, field, maximum)


def check_int(value: int, field: str, maximum: int) -> int:
    if value > maximum:
        raise InvalidInput(field, f"must be at most {maximum}")
    return value


def require_uuid(value: object, field: str) -> UUID:
    if not isinstance(value, UUID):
        raise InvalidInput(field, "must be a UUID")
    return value


def require_date(value: object, field: str) -> date:
    # datetime is a date subclass but would be stored as a datetime.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidInput(field, "must be a calendar date")
    return check_date(value, field)


def check_date(value: date, field: str) -> date:
    if not limits.EARLIEST_DATE <= value <= limits.LATEST_DATE:
        raise InvalidInput(field, _OUT_OF_RANGE)
    return value


def optional_date(value: object, field: str) -> date | None:
    return None if value is None else require_date(value, field)


def require_utc(value: object, field: str) -> datetime:
    """A timezone-aware datetime within the sane range, normalised to UTC."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidInput(field, "must be a timezone-aware date and time")
    return check_datetime(value, field)


def check_datetime(value: datetime, field: str) -> datetime:
    """Within the sane range; an aware value comes back in UTC, a naive one unchanged."""
    # The local year first: moving year 1 or 9999 by an offset overflows.
    if not limits.EARLIEST_DATE.year <= value.year <= limits.LATEST_DATE.year:
        raise InvalidInput(field, _OUT_OF_RANGE)
    if value.utcoffset() is None:
        return value
    utc = value.astimezone(timezone.utc)
    if not limits.EARLIEST_DATETIME <= utc <= limits.LATEST_DATETIME:
        raise InvalidInput(field, _OUT_OF_RANGE)
    return utc



def require_score(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise InvalidInput(field, "must be a number")
    score = float(value)
    if not math.isfinite(score):
        raise InvalidInput(field, "must be a finite number")
    if score < 0:
        raise InvalidInput(field, "must not be negative")
    if score > limits.MAX_SCORE:
        raise InvalidInput(field, f"must be at most {limits.MAX_SCORE:g}")
    return score
