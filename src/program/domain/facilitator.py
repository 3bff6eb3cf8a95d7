"""Facilitator: a trained volunteer (APPLIED -> IN_TRAINING -> ACTIVE ->
SUSPENDED -> RETIRED) with expiring credentials and a cohort limit.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from program.domain.cohort_errors import FacilitatorAlreadyAssigned
from program.domain.errors import DomainError, InvalidInput, InvalidTransition
from program.domain.values import (
    CredentialKind,
    FacilitatorStatus,
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


def _require_email(email: object) -> str:
    text = require_text(email, "email")
    local, _, domain = text.rpartition("@")
    if not local or not domain or any(c.isspace() for c in text):
        raise InvalidInput("email", f"{text!r} is not an email address")
    return text


class Facilitator(Aggregate):
    """Decides whether a facilitator may take on a cohort on a given date."""

    @classmethod
    def register(cls, display_name: str, email: str, max_cohorts: int) -> Facilitator:
        return cls(
            display_name=require_text(display_name, "display_name"),
            email=_require_email(email),
            max_cohorts=require_int(max_cohorts, "max_cohorts"),
        )

    @event("Registered")
    def __init__(self, display_name: str, email: str, max_cohorts: int) -> None:
        # Name and email are for read models; decisions need none of them.
        self._status = Status.APPLIED
        self._max_cohorts = max_cohorts
        self._credentials: dict[str, date] = {}
        self._cohort_ids: list[UUID] = []

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
        information)."""
        reason = require_text(reason, "reason_ciphertext")
        self._require_status_in((Status.ACTIVE,), Status.SUSPENDED)
        self._suspend(reason=reason)

    def retire(self) -> None:
        allowed = tuple(s for s in Status if s != Status.RETIRED)
        self._require_status_in(allowed, Status.RETIRED)
        self._retire()

    def _require_status_in(self, allowed: tuple[Status, ...], target: Status) -> None:
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

    # --- credentials and cohorts ----------------------------------------------

    def record_credential(self, kind: str, valid_until: date) -> None:
        """The latest record of a kind replaces earlier ones."""
        credential = parse_enum(CredentialKind, kind, "kind")
        valid_until = require_date(valid_until, "valid_until")
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
