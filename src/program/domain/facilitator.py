"""Facilitator: a trained volunteer (APPLIED -> IN_TRAINING -> ACTIVE ->
SUSPENDED -> RETIRED) with expiring credentials and a cohort limit.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from program.domain.cohort_errors import FacilitatorAlreadyAssigned
from program.domain.errors import DomainError, InvalidInput, InvalidTransition
from program.domain.values import (
    CredentialKind,
    FacilitatorStatus,
    optional_text,
    parse_enum,
    require_date,
    require_int,
    require_text,
    require_uuid,
)

Status = FacilitatorStatus


class FacilitatorNotEligible(DomainError):
    code = "FACILITATOR_NOT_ELIGIBLE"
    template = "Facilitator {facilitator_id} is not eligible on {on}: {reasons}."


class FacilitatorAtCapacity(DomainError):
    code = "FACILITATOR_AT_CAPACITY"
    template = (
        "Facilitator {facilitator_id} already facilitates {current} cohorts, "
        "the most allowed ({max_cohorts})."
    )


class TrainingRequired(DomainError):
    code = "TRAINING_REQUIRED"
    template = (
        "Facilitator {facilitator_id} needs a peer-support training credential valid on "
        "{on} to be activated ({problem})."
    )


class FacilitatorRetired(DomainError):
    code = "FACILITATOR_RETIRED"
    template = "Facilitator {facilitator_id} is RETIRED: cannot {action}."


class FacilitatorErased(DomainError):
    code = "FACILITATOR_ERASED"
    template = "Facilitator {facilitator_id} has been erased: cannot {action}."


def _require_email(email: object) -> str:
    text = require_text(email, "email")
    local, _, domain = text.rpartition("@")
    if not local or not domain or any(c.isspace() for c in text):
        raise InvalidInput("email", f"{text!r} is not an email address")
    return text


def contact_details(display_name: str, email: str, phone: str | None = None) -> dict[str, Any]:
    """A facilitator's name and contact details, checked: what the service encrypts
    under the facilitator's own data key before anything is recorded."""
    return {
        "display_name": require_text(display_name, "display_name"),
        "email": _require_email(email),
        "phone": optional_text(phone, "phone"),
    }


class Facilitator(Aggregate):
    """Decides whether a facilitator may take on a cohort on a given date."""

    # v2 knows whether the facilitator was erased.
    class_version = 2

    class Registered(Aggregate.Created):
        """v2 carries the name and contact details as ciphertext (``personal_data``).

        A v1 event holds them in plaintext (``display_name``, ``email``): it is upcast
        with ``personal_data`` None and its plaintext kept, because a stored row cannot
        be rewritten without breaking the hash chain and every proof (README "Erasure").
        """

        class_version = 2
        personal_data: str | None
        display_name: str | None
        email: str | None
        max_cohorts: int

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["personal_data"] = None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """A v1 snapshot is of a facilitator never erased."""
        state["_erased"] = False

    @classmethod
    def register(cls, facilitator_id: UUID, personal_data: str, max_cohorts: int) -> Facilitator:
        """The id comes from outside: the service needs it first, to create the
        facilitator's data key and encrypt ``personal_data`` (``contact_details``) under it."""
        return cls._create(
            cls.Registered,
            id=require_uuid(facilitator_id, "facilitator_id"),
            personal_data=require_text(personal_data, "personal_data"),
            display_name=None,
            email=None,
            max_cohorts=require_int(max_cohorts, "max_cohorts"),
        )

    @event(Registered)
    def __init__(
        self, personal_data: str | None, display_name: str | None, email: str | None,
        max_cohorts: int,
    ) -> None:
        # Name and contact details are for read models; decisions need none of them.
        self._status = Status.APPLIED
        self._max_cohorts = max_cohorts
        self._credentials: dict[str, date] = {}
        self._cohort_ids: list[UUID] = []
        self._erased = False

    @property
    def erased(self) -> bool:
        return self._erased

    @property
    def status(self) -> FacilitatorStatus:
        return Status(self._status)

    @property
    def max_cohorts(self) -> int:
        return self._max_cohorts

    @property
    def credentials(self) -> dict[CredentialKind, date]:
        return {CredentialKind(k): v for k, v in self._credentials.items()}

    @property
    def cohort_ids(self) -> list[UUID]:
        return list(self._cohort_ids)

    def ineligibility_reasons(self, on: date) -> list[str]:
        """Why this facilitator may not facilitate on ``on`` (empty if eligible)."""
        on = require_date(on, "on")
        status = [] if self._status == Status.ACTIVE else [f"status is {self._status}"]
        return status + self._credential_problems(on)

    def credentials_valid_on(self, on: date) -> bool:
        return not self._credential_problems(require_date(on, "on"))

    def is_eligible_on(self, on: date) -> bool:
        return not self.ineligibility_reasons(on)

    def _credential_problems(self, on: date) -> list[str]:
        problems = []
        for kind in CredentialKind:
            valid_until = self._credentials.get(kind.value)
            if valid_until is None:
                problems.append(f"{kind.value} credential missing")
            elif valid_until < on:
                problems.append(f"{kind.value} credential expired on {valid_until}")
        return problems

    # --- lifecycle -----------------------------------------------------------

    def begin_training(self) -> None:
        self._require_status_in((Status.APPLIED,), Status.IN_TRAINING)
        self._begin_training()

    def activate(self, on: date) -> None:
        on = require_date(on, "on")
        allowed = (Status.APPLIED, Status.IN_TRAINING, Status.SUSPENDED)
        self._require_status_in(allowed, Status.ACTIVE)
        training = self._credentials.get(CredentialKind.PEER_SUPPORT_TRAINING.value)
        if training is None or training < on:
            problem = "none recorded" if training is None else f"it expired on {training}"
            raise TrainingRequired(facilitator_id=self.id, on=on, problem=problem)
        self._activate(activated_on=on)

    def suspend(self, reason: str) -> None:
        """``reason`` is ciphertext under the facilitator's own key (it may hold health
        information), erased with them."""
        reason = require_text(reason, "reason_ciphertext")
        self.require_not_erased("suspend")
        self._require_status_in((Status.ACTIVE,), Status.SUSPENDED)
        self._suspend(reason=reason)

    def retire(self) -> None:
        allowed = tuple(s for s in Status if s != Status.RETIRED)
        self._require_status_in(allowed, Status.RETIRED)
        self._retire()

    def erase(self) -> None:
        """Retires the facilitator (if not retired yet) and marks them erased; the
        service destroys their data key, so their name and contact details are gone."""
        self.require_not_erased("erase again")
        if self._status != Status.RETIRED:
            self._retire()
        self._erase()

    def require_not_erased(self, action: str) -> None:
        if self._erased:
            raise FacilitatorErased(facilitator_id=self.id, action=action)

    def _require_status_in(self, allowed: tuple[Status, ...], target: Status) -> None:
        self.require_not_erased(f"become {target}")
        if self._status not in allowed:
            raise InvalidTransition("Facilitator", self._status, target)

    @event("TrainingBegun")
    def _begin_training(self) -> None:
        self._status = Status.IN_TRAINING

    @event("Activated")
    def _activate(self, activated_on: date) -> None:
        self._status = Status.ACTIVE

    @event("Suspended")
    def _suspend(self, reason: str) -> None:
        self._status = Status.SUSPENDED

    @event("Retired")
    def _retire(self) -> None:
        self._status = Status.RETIRED

    @event("Erased")
    def _erase(self) -> None:
        self._erased = True

    # --- credentials and cohorts ----------------------------------------------

    def record_credential(self, kind: str, valid_until: date) -> None:
        """The latest record of a kind replaces earlier ones."""
        credential = parse_enum(CredentialKind, kind, "kind")
        valid_until = require_date(valid_until, "valid_until")
        self.require_not_erased("record credentials")
        if self._status == Status.RETIRED:
            raise FacilitatorRetired(facilitator_id=self.id, action="record credentials")
        self._record_credential(kind=credential.value, valid_until=valid_until)

    def assign_to_cohort(self, cohort_id: UUID, on: date) -> None:
        cohort_id = require_uuid(cohort_id, "cohort_id")
        on = require_date(on, "on")
        if cohort_id in self._cohort_ids:
            raise FacilitatorAlreadyAssigned(cohort_id=cohort_id, facilitator_id=self.id)
        reasons = self.ineligibility_reasons(on)
        if reasons:
            raise FacilitatorNotEligible(
                facilitator_id=self.id, on=on, reasons="; ".join(reasons)
            )
        if len(self._cohort_ids) >= self._max_cohorts:
            raise FacilitatorAtCapacity(
                facilitator_id=self.id,
                current=len(self._cohort_ids),
                max_cohorts=self._max_cohorts,
            )
        self._assign_to_cohort(cohort_id=cohort_id, assigned_on=on)

    def release_from_cohort(self, cohort_id: UUID) -> None:
        """Does nothing if the facilitator is not assigned to that cohort."""
        cohort_id = require_uuid(cohort_id, "cohort_id")
        if cohort_id in self._cohort_ids:
            self._release_from_cohort(cohort_id=cohort_id)

    @event("CredentialRecorded")
    def _record_credential(self, kind: str, valid_until: date) -> None:
        self._credentials[kind] = valid_until

    @event("AssignedToCohort")
    def _assign_to_cohort(self, cohort_id: UUID, assigned_on: date) -> None:
        self._cohort_ids.append(cohort_id)

    @event("ReleasedFromCohort")
    def _release_from_cohort(self, cohort_id: UUID) -> None:
        self._cohort_ids.remove(cohort_id)
