"""Programme: what a charity or service runs (DRAFT -> ACTIVE -> CLOSED)."""

from __future__ import annotations

from collections.abc import Iterable
from eventsourcing.domain import Aggregate, event

from program.domain.errors import DomainError, InvalidTransition
from program.domain.values import (
    DEFAULT_CONSENT_PURPOSE,
    ProgrammeStatus,
    optional_text,
    require_int,
    require_text,
    unique_texts,
)


class ProgrammeNotActive(DomainError):
    code = "PROGRAMME_NOT_ACTIVE"
    template = "Programme {programme_id} is {status}; it must be ACTIVE."


class Programme(Aggregate):
    """Holds what enrolment and evaluation need: consent purposes, measures,
    and the minimum number of facilitators per cohort."""

    @classmethod
    def create(
        cls,
        name: str,
        description: str,
        required_consent_purposes: Iterable[str] | None = None,
        outcome_measures: Iterable[str] | None = None,
        min_facilitators_per_cohort: int = 2,
    ) -> Programme:
        purposes = unique_texts(required_consent_purposes, "required_consent_purposes")
        return cls(
            name=require_text(name, "name"),
            description=optional_text(description, "description") or "",
            required_consent_purposes=purposes or [DEFAULT_CONSENT_PURPOSE],
            outcome_measures=unique_texts(outcome_measures, "outcome_measures"),
            min_facilitators_per_cohort=require_int(
                min_facilitators_per_cohort, "min_facilitators_per_cohort"
            ),
        )

    @event("Created")
    def __init__(
        self,
        name: str,
        description: str,
        required_consent_purposes: list[str],
        outcome_measures: list[str],
        min_facilitators_per_cohort: int,
    ) -> None:
        self._name = name
        self._status = ProgrammeStatus.DRAFT
        self._required_consent_purposes = list(required_consent_purposes)
        self._outcome_measures = list(outcome_measures)
        self._min_facilitators_per_cohort = min_facilitators_per_cohort

    @property
    def name(self) -> str:
        return self._name

    @property
    def status(self) -> ProgrammeStatus:
        return ProgrammeStatus(self._status)

    @property
    def required_consent_purposes(self) -> list[str]:
        return list(self._required_consent_purposes)

    @property
    def outcome_measures(self) -> list[str]:
        return list(self._outcome_measures)

    @property
    def min_facilitators_per_cohort(self) -> int:
        return self._min_facilitators_per_cohort

    @property
    def is_active(self) -> bool:
        return self._status == ProgrammeStatus.ACTIVE

    def require_active(self) -> None:
        """Guard for services that plan cohorts or enrol people."""
        if not self.is_active:
            raise ProgrammeNotActive(programme_id=self.id, status=self._status)

    def activate(self) -> None:
        if self._status != ProgrammeStatus.DRAFT:
            raise InvalidTransition("Programme", self._status, ProgrammeStatus.ACTIVE)
        self._activate()

    def close(self) -> None:
        if self._status not in (ProgrammeStatus.DRAFT, ProgrammeStatus.ACTIVE):
            raise InvalidTransition("Programme", self._status, ProgrammeStatus.CLOSED)
        self._close()

    @event("Activated")
    def _activate(self) -> None:
        self._status = ProgrammeStatus.ACTIVE

    @event("Closed")
    def _close(self) -> None:
        self._status = ProgrammeStatus.CLOSED
