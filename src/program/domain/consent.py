"""Consent: one aggregate per (participant, purpose), in W3C DPV states
GIVEN, REFUSED, WITHDRAWN (by the person), REVOKED (by someone else), EXPIRED.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, NoReturn
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from program.domain.errors import DomainError, InvalidInput
from program.domain.values import (
    ConsentMethod,
    ConsentState,
    LawfulBasis,
    optional_date,
    optional_text,
    parse_enum,
    require_date,
    require_text,
    require_utc,
    require_uuid,
    unique_texts,
)

# Never change: consent ids are derived from it (uuid5 of "urn:program:domain:consent").
CONSENT_NAMESPACE = UUID("1179ce16-2aa8-5502-9519-43e990a2431b")


class ConsentRequired(DomainError):
    """Raised by application services when a required consent is not valid."""

    code = "CONSENT_REQUIRED"
    template = "Participant {participant_id} has no valid consent for purpose '{purpose}'."

    def __init__(self, participant_id: UUID, purpose: str) -> None:
        super().__init__(participant_id=participant_id, purpose=purpose)


class InvalidConsentChange(DomainError):
    code = "INVALID_CONSENT_CHANGE"
    template = "Consent to '{purpose}' cannot be {change}: {problem}."


class ConsentNotGiven(InvalidConsentChange):
    """Withdrawing, revoking or expiring a consent that is not GIVEN (or was never recorded)."""

    code = "CONSENT_NOT_GIVEN"


def state_on(state: str | None, valid_until: date | None, on: date) -> str | None:
    """The state as read on ``on``: a GIVEN consent past its ``valid_until`` reads EXPIRED,
    whether or not an Expired event was recorded (the read models use this too)."""
    if state == ConsentState.GIVEN and valid_until is not None and valid_until < on:
        return ConsentState.EXPIRED.value
    return None if state is None else str(state)
def notice_digest(notice_hash: object) -> str | None:
    """The SHA-256 of the notice's text as shown to the person: 64 hexadecimal digits
    (lower case once stored), or None when it was not given."""
    text = optional_text(notice_hash, "notice_hash")
    if text is None:
        return None
    if not re.fullmatch(r"[0-9a-fA-F]{64}", text):
        raise InvalidInput("notice_hash", "must be a SHA-256 digest: 64 hexadecimal digits")
    return text.lower()


def _notice_record(
    notice_id: str, notice_version: str, language: str, method: str, recorded_by: str,
    at: datetime, notice_hash: str | None = None,
) -> dict[str, Any]:
    return {
        "notice_id": require_text(notice_id, "notice_id"),
        "notice_version": require_text(notice_version, "notice_version"),
        "notice_hash": notice_digest(notice_hash),
        "language": require_text(language, "language"),
        "method": parse_enum(ConsentMethod, method, "method").value,
        "recorded_by": require_text(recorded_by, "recorded_by"),
        "at": require_utc(at, "at"),
    }


def _no_notice_hash(state: dict[str, Any]) -> None:
    state["notice_hash"] = None  # recorded before a notice's digest could be given


class Consent(Aggregate):
    """The current consent of one person for one purpose, and its validity."""

    # v2 keeps the notice's language and digest, for receipts of the changes that end it.
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["_language"] = None
        state["_notice_hash"] = None

    class Given(Aggregate.Event):
        """v2 may carry the SHA-256 of the notice's text (``notice_hash``)."""

        class_version = 2
        upcast_v1_v2 = staticmethod(_no_notice_hash)
        notice_id: str
        notice_version: str
        notice_hash: str | None
        language: str
        lawful_basis: str
        recipients: list[str]
        method: str
        recorded_by: str
        valid_until: date | None
        at: datetime

    class Refused(Aggregate.Event):
        """v2 may carry the SHA-256 of the notice's text (``notice_hash``)."""

        class_version = 2
        upcast_v1_v2 = staticmethod(_no_notice_hash)
        notice_id: str
        notice_version: str
        notice_hash: str | None
        language: str
        method: str
        recorded_by: str
        at: datetime

    @staticmethod
    def create_id(participant_id: UUID, purpose: str) -> UUID:
        return uuid5(CONSENT_NAMESPACE, f"{participant_id}:{purpose.strip()}")

    @classmethod
    def record(cls, participant_id: UUID, purpose: str) -> Consent:
        """Opens the stream; the caller appends it together with a first change."""
        return cls(
            participant_id=require_uuid(participant_id, "participant_id"),
            purpose=require_text(purpose, "purpose"),
        )

    @event("Opened")
    def __init__(self, participant_id: UUID, purpose: str) -> None:
        self._participant_id = participant_id
        self._purpose = purpose
        self._state: ConsentState | None = None
        self._notice_id: str | None = None
        self._notice_version: str | None = None
        self._notice_hash: str | None = None
        self._language: str | None = None
        self._lawful_basis: str | None = None
        self._recipients: list[str] = []
        self._valid_until: date | None = None
        self._changed_at: datetime | None = None

    @property
    def participant_id(self) -> UUID:
        return self._participant_id

    @property
    def purpose(self) -> str:
        return self._purpose

    @property
    def state(self) -> ConsentState | None:
        return None if self._state is None else ConsentState(self._state)

    @property
    def notice_id(self) -> str | None:
        return self._notice_id

    @property
    def notice_version(self) -> str | None:
        return self._notice_version

    @property
    def notice_hash(self) -> str | None:
        """SHA-256 (hex) of the notice's text, when it was given with the change."""
        return self._notice_hash

    @property
    def language(self) -> str | None:
        return self._language

    @property
    def lawful_basis(self) -> str | None:
        return self._lawful_basis

    @property
    def recipients(self) -> list[str]:
        return list(self._recipients)

    @property
    def valid_until(self) -> date | None:
        return self._valid_until

    @property
    def changed_at(self) -> datetime | None:
        return self._changed_at

    def state_on(self, on: date) -> ConsentState | None:
        found = state_on(self._state, self._valid_until, require_date(on, "on"))
        return None if found is None else ConsentState(found)

    def is_valid_on(self, on: date) -> bool:
        on = require_date(on, "on")
        return self._state == ConsentState.GIVEN and (
            self._valid_until is None or self._valid_until >= on
        )

    def covers(self, recipient: str, on: date) -> bool:
        return self.is_valid_on(on) and recipient in self._recipients

    # --- changes -------------------------------------------------------------

    def give(
        self,
        notice_id: str,
        notice_version: str,
        language: str,
        lawful_basis: str,
        recipients: Iterable[str],
        method: str,
        recorded_by: str,
        valid_until: date | None,
        at: datetime,
        notice_hash: str | None = None,
    ) -> None:
        """Allowed in any state: renewal, a new notice version, or consenting again.
        ``notice_hash`` is the SHA-256 of the notice's text, when the caller has it."""
        record = _notice_record(notice_id, notice_version, language, method, recorded_by, at,
                                notice_hash)
        basis = parse_enum(LawfulBasis, lawful_basis, "lawful_basis")
        until = optional_date(valid_until, "valid_until")
        if until is not None and until < record["at"].date():
            raise InvalidInput("valid_until", f"{until} is before the day consent is given")
        self._give(
            **record,
            lawful_basis=basis.value,
            recipients=sorted(unique_texts(recipients, "recipients")),
            valid_until=until,
        )

    def refuse(
        self,
        notice_id: str,
        notice_version: str,
        language: str,
        method: str,
        recorded_by: str,
        at: datetime,
        notice_hash: str | None = None,
    ) -> None:
        record = _notice_record(notice_id, notice_version, language, method, recorded_by, at,
                                notice_hash)
        if self._state == ConsentState.GIVEN:
            self._reject("refused", "it is GIVEN; withdraw or revoke it instead")
        self._refuse(**record)

    def withdraw(self, method: str, recorded_by: str, reason: str | None, at: datetime) -> None:
        """The person takes their consent back; ``reason`` is optional ciphertext under
        the person's key (free text may hold health information)."""
        method = parse_enum(ConsentMethod, method, "method").value
        recorded_by = require_text(recorded_by, "recorded_by")
        reason = optional_text(reason, "reason_ciphertext")
        at = require_utc(at, "at")
        self._require_given("withdrawn")
        self._withdraw(method=method, recorded_by=recorded_by, reason=reason, at=at)

    def revoke(self, recorded_by: str, reason: str, at: datetime) -> None:
        """Someone other than the person ends the consent; ``reason`` is ciphertext."""
        recorded_by = require_text(recorded_by, "recorded_by")
        reason = require_text(reason, "reason_ciphertext")
        at = require_utc(at, "at")
        self._require_given("revoked")
        self._revoke(recorded_by=recorded_by, reason=reason, at=at)

    def expire(self, at: datetime) -> None:
        at = require_utc(at, "at")
        self._require_given("expired")
        if self._valid_until is None or self._valid_until >= at.date():
            until = self._valid_until or "no end date"
            self._reject("expired", f"it is valid until {until}")
        self._expire(at=at)

    def _require_given(self, change: str) -> None:
        if self._state != ConsentState.GIVEN:
            state = self._state or "not recorded yet"
            raise ConsentNotGiven(purpose=self._purpose, change=change,
                                  problem=f"it is {state}, not GIVEN")

    def _reject(self, change: str, problem: str) -> NoReturn:
        raise InvalidConsentChange(purpose=self._purpose, change=change, problem=problem)

    @event(Given)
    def _give(
        self,
        notice_id: str,
        notice_version: str,
        notice_hash: str | None,
        language: str,
        lawful_basis: str,
        recipients: list[str],
        method: str,
        recorded_by: str,
        valid_until: date | None,
        at: datetime,
    ) -> None:
        self._state = ConsentState.GIVEN
        self._notice_id, self._notice_version = notice_id, notice_version
        self._notice_hash, self._language = notice_hash, language
        self._lawful_basis = lawful_basis
        self._recipients = list(recipients)
        self._valid_until = valid_until
        self._changed_at = at

    @event(Refused)
    def _refuse(
        self,
        notice_id: str,
        notice_version: str,
        notice_hash: str | None,
        language: str,
        method: str,
        recorded_by: str,
        at: datetime,
    ) -> None:
        self._state = ConsentState.REFUSED
        self._notice_id, self._notice_version = notice_id, notice_version
        self._notice_hash, self._language = notice_hash, language
        self._lawful_basis, self._recipients, self._valid_until = None, [], None
        self._changed_at = at

    @event("Withdrawn")
    def _withdraw(self, method: str, recorded_by: str, reason: str | None, at: datetime) -> None:
        self._state, self._changed_at = ConsentState.WITHDRAWN, at

    @event("Revoked")
    def _revoke(self, recorded_by: str, reason: str, at: datetime) -> None:
        self._state, self._changed_at = ConsentState.REVOKED, at

    @event("Expired")
    def _expire(self, at: datetime) -> None:
        self._state, self._changed_at = ConsentState.EXPIRED, at
