"""Programme: what a charity or service runs (DRAFT -> ACTIVE -> CLOSED)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from eventsourcing.domain import Aggregate, event

from program.domain.catalogue import Ranges, check_purpose, check_score, measure_ranges
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

    # v2 keeps the catalogue: optional purposes and each measure's score range.
    class_version = 2

    class Created(Aggregate.Created):
        """v2 adds the catalogue: purposes the programme may also ask for, and the
        valid score range of each outcome measure."""

        class_version = 2
        name: str
        description: str
        required_consent_purposes: list[str]
        outcome_measures: list[str]
        min_facilitators_per_cohort: int
        optional_consent_purposes: list[str]
        measure_ranges: dict[str, Any]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["optional_consent_purposes"] = []
            state["measure_ranges"] = {m: None for m in state["outcome_measures"]}

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["_optional_consent_purposes"] = []
        state["_measure_ranges"] = {m: None for m in state["_outcome_measures"]}

    @classmethod
    def create(
        cls,
        name: str,
        description: str,
        required_consent_purposes: Iterable[str] | None = None,
        outcome_measures: Iterable[str] | None = None,
        min_facilitators_per_cohort: int = 2,
        optional_consent_purposes: Iterable[str] | None = None,
        custom_measures: Iterable[Mapping[str, Any]] | None = None,
    ) -> Programme:
        required, optional = _purposes(required_consent_purposes, optional_consent_purposes)
        measures = unique_texts(outcome_measures, "outcome_measures")
        return cls._create(
            cls.Created,
            name=require_text(name, "name"),
            description=optional_text(description, "description") or "",
            required_consent_purposes=required,
            outcome_measures=measures,
            min_facilitators_per_cohort=require_int(
                min_facilitators_per_cohort, "min_facilitators_per_cohort"
            ),
            optional_consent_purposes=optional,
            measure_ranges=measure_ranges(measures, custom_measures),
        )

    @event(Created)
    def __init__(
        self,
        name: str,
        description: str,
        required_consent_purposes: list[str],
        outcome_measures: list[str],
        min_facilitators_per_cohort: int,
        optional_consent_purposes: list[str],
        measure_ranges: dict[str, Any],
    ) -> None:
        self._name = name
        self._status = ProgrammeStatus.DRAFT
        self._required_consent_purposes = list(required_consent_purposes)
        self._outcome_measures = list(outcome_measures)
        self._min_facilitators_per_cohort = min_facilitators_per_cohort
        self._optional_consent_purposes = list(optional_consent_purposes)
        self._measure_ranges = dict(measure_ranges)

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
    def consent_purposes(self) -> list[str]:
        """The catalogue: required purposes, then those it may also ask for."""
        return list(dict.fromkeys(self._required_consent_purposes + self._optional_consent_purposes))

    @property
    def measure_ranges(self) -> dict[str, list[float] | None]:
        return dict(self._measure_ranges)

    def check_purpose(self, purpose: str) -> None:
        check_purpose(self.consent_purposes, purpose)

    def check_score(self, measure: str, score: float) -> None:
        check_score(self._measure_ranges, measure, score)

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

    def update(
        self,
        description: str | None = None,
        required_consent_purposes: Iterable[str] | None = None,
        optional_consent_purposes: Iterable[str] | None = None,
        outcome_measures: Iterable[str] | None = None,
        custom_measures: Iterable[Mapping[str, Any]] | None = None,
    ) -> None:
        """Change the description and the catalogue; what is not given stays as it is.
        A measure already in use keeps its range unless a custom one is declared."""
        if self._status == ProgrammeStatus.CLOSED:
            raise InvalidTransition("Programme", self._status, "UPDATED")
        required, optional = _purposes(
            self._required_consent_purposes if required_consent_purposes is None
            else required_consent_purposes,
            self._optional_consent_purposes if optional_consent_purposes is None
            else optional_consent_purposes,
        )
        measures = (self._outcome_measures if outcome_measures is None
                    else unique_texts(outcome_measures, "outcome_measures"))
        kept = [m for m in measures if m in self._measure_ranges
                and not any(c.get("code") == m for c in custom_measures or ())]
        ranges = measure_ranges([m for m in measures if m not in kept], custom_measures)
        ranges.update({m: self._measure_ranges[m] for m in kept})
        text = (self._description_or_none() if description is None
                else optional_text(description, "description") or "")
        self._update(description=text, required_consent_purposes=required,
                     optional_consent_purposes=optional, outcome_measures=measures,
                     measure_ranges={m: ranges[m] for m in measures})

    def _description_or_none(self) -> str | None:
        return None  # the description lives in the read model; None keeps it there

    @event("Updated")
    def _update(
        self,
        description: str | None,
        required_consent_purposes: list[str],
        optional_consent_purposes: list[str],
        outcome_measures: list[str],
        measure_ranges: dict[str, Any],
    ) -> None:
        self._required_consent_purposes = list(required_consent_purposes)
        self._optional_consent_purposes = list(optional_consent_purposes)
        self._outcome_measures = list(outcome_measures)
        self._measure_ranges = dict(measure_ranges)


def _purposes(
    required: Iterable[str] | None, optional: Iterable[str] | None
) -> tuple[list[str], list[str]]:
    required_list = unique_texts(required, "required_consent_purposes") or [DEFAULT_CONSENT_PURPOSE]
    optional_list = [p for p in unique_texts(optional, "optional_consent_purposes")
                     if p not in required_list]
    return required_list, optional_list
