"""Input limits: the one table both the domain's value checks and the API's boundary
read, keyed by field name (the domain's snake_case argument, which is also the
Python name of the GraphQL input field), so the two never disagree.

Why limits at all: every accepted value is stored forever, copied by projections and
sent to partners. A NUL or a lone surrogate cannot be stored by PostgreSQL as text, so
a projection would fail on that event for good; a megabyte name or a list of 50,000
items costs every reader, and a year-9999 date overflows once a time zone moves it.
README "Input limits" documents this table; change both together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone


@dataclass(frozen=True, slots=True)
class TextLimit:
    """At most ``max_length`` characters (code points). Single-line text refuses every
    C0 control character and DEL; multi-line text allows tab, line feed and carriage
    return. No text may hold NUL or an unpaired surrogate."""

    max_length: int
    multiline: bool = False


NAME = TextLimit(200)  # a programme, cohort, venue, facilitator or person
CODE = TextLimit(100)  # short identifiers: purpose, notice id, method, language, recipient, …
IDENTITY = TextLimit(200)  # who recorded it, an actor filter, an idempotency key
PROSE = TextLimit(4000, multiline=True)  # descriptions and reasons
EMAIL = TextLimit(254)  # RFC 5321's longest path
PHONE = TextLimit(64)
CURSOR = TextLimit(4096)  # a page cursor carries a sort key (e.g. a name) base64-encoded
# The encrypted personal data (name, email, phone, referral source, each bounded above),
# JSON-escaped and base64-encoded, stays well under this.
CIPHERTEXT = TextLimit(32_768)
DEFAULT_TEXT = TextLimit(200)

TEXTS: dict[str, TextLimit] = {
    "name": NAME,
    "display_name": NAME,
    "venue": NAME,
    "referral_source": NAME,
    "description": PROSE,
    "reason": PROSE,
    "purpose": CODE,
    "required_consent_purposes": CODE,  # each item
    "outcome_measures": CODE,  # each item
    "measure": CODE,
    "notice_id": CODE,
    "notice_version": CODE,
    "notice_hash": CODE,  # a SHA-256 in hex: 64
    "language": CODE,
    "method": CODE,
    "lawful_basis": CODE,
    "recipients": CODE,  # each item
    "event_type": CODE,
    "recorded_by": IDENTITY,
    "actor": IDENTITY,
    "idempotency_key": IDENTITY,
    "email": EMAIL,
    "phone": PHONE,
    "after": CURSOR,
    "personal_data": CIPHERTEXT,
    "reason_ciphertext": CIPHERTEXT,
    "optional_consent_purposes": CODE,  # each item
    "custom_measures": CODE,  # each item's code
    "code": CODE,
    "search": NAME,
    "chosen_name": NAME,
    # partner feeds
    "purposes": CODE,  # each item
    "event_types": CODE,  # each item
    "url": TextLimit(2000),  # a webhook URL
    "secret": CIPHERTEXT,  # a sealed webhook signing secret
}

DEFAULT_LIST = 100
LISTS: dict[str, int] = {
    "recipients": 100,
    "required_consent_purposes": 20,
    "outcome_measures": 20,
    "optional_consent_purposes": 20,
    "custom_measures": 20,
    "purposes": 20,
    "event_types": 20,
}

# (minimum, maximum). The API's boundary checks only the maximum: the minimums are
# business rules the domain answers with its own codes (e.g. INVALID_CAPACITY).
INTS: dict[str, tuple[int, int]] = {
    "min_facilitators_per_cohort": (1, 20),
    "min_facilitators": (1, 20),
    "capacity": (1, 10_000),
    "max_cohorts": (1, 50),
    "from_sequence": (1, 2**62),
    "position": (1, 2**63 - 1),  # a position in the log (bigint)
    "size": (1, 2**63 - 1),  # a size of the log (a checkpoint's)
    "from_size": (1, 2**63 - 1),
    "to_size": (1, 2**63 - 1),
}

# Outcome scales in use (Herth Hope Index 12–48, WEMWBS 14–70, CORE-10 0–40) sit far
# below this; a bound keeps sums and means in the read models finite.
MAX_SCORE = 10_000.0

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2200, 12, 31)
EARLIEST_DATETIME = datetime(1900, 1, 1, tzinfo=timezone.utc)
LATEST_DATETIME = datetime(2200, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)


def text_limit(field: str) -> TextLimit:
    return TEXTS.get(field, DEFAULT_TEXT)


def list_limit(field: str) -> int:
    return LISTS.get(field, DEFAULT_LIST)


def int_range(field: str) -> tuple[int, int] | None:
    return INTS.get(field)
