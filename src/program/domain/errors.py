"""Domain errors: the base class, the errors every aggregate shares, and
re-exports of the errors that live beside their aggregate (STYLE §2).

Every error has a machine-readable ``code`` (the GraphQL ``extensions.code``)
and a message a programme manager can read. Commands raise them before any
event is triggered, so a rejected command changes nothing.
"""

from __future__ import annotations

import importlib
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from program.domain.cohort_errors import (
        AlreadyEnrolled,
        AttendanceNotAllowed,
        CapacityBelowEnrolled,
        CohortEnded,
        CohortIsDropIn,
        CohortNotOpen,
        FacilitatorAlreadyAssigned,
        InvalidCapacity,
        NotEnoughFacilitators,
        NotEnrolled,
        SessionNotFound,
    )
    from program.domain.consent import ConsentRequired, InvalidConsentChange
    from program.domain.facilitator import (
        FacilitatorAtCapacity,
        FacilitatorNotEligible,
        FacilitatorRetired,
    )
    from program.domain.participant import (
        OutcomeAlreadyRecorded,
        ParticipantErased,
        UnknownMeasure,
    )
    from program.domain.programme import ProgrammeNotActive


class DomainError(Exception):
    """A command broke a business rule or got malformed input.

    Subclasses set ``code`` and a ``template`` filled from keyword details;
    ``details`` stays available for the API (e.g. GraphQL extensions).
    """

    code: ClassVar[str] = "DOMAIN_ERROR"
    template: ClassVar[str] = "{message}"

    def __init__(self, **details: Any) -> None:
        # Enum members become their plain values, so details are easy to emit.
        self.details = {
            k: (v.value if isinstance(v, StrEnum) else v) for k, v in details.items()
        }
        self.message = self.template.format(**details)
        super().__init__(self.message)


class InvalidInput(DomainError):
    """A value is malformed: empty name, negative score, unknown enum value..."""

    code = "BAD_USER_INPUT"
    template = "Invalid {field}: {problem}."

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(field=field, problem=problem)


class InvalidTransition(DomainError):
    """The aggregate's lifecycle does not allow this move."""

    code = "INVALID_STATE_TRANSITION"
    template = "{entity} cannot go from {from_state} to {to_state}."

    def __init__(self, entity: str, from_state: str, to_state: str) -> None:
        super().__init__(entity=entity, from_state=from_state, to_state=to_state)


# Aggregate-specific errors are defined beside their aggregate; they are
# re-exported lazily because those modules import this one (no import cycle).
_REEXPORTS = {
    "ProgrammeNotActive": "programme",
    "AlreadyEnrolled": "cohort_errors",
    "AttendanceNotAllowed": "cohort_errors",
    "CapacityBelowEnrolled": "cohort_errors",
    "CohortEnded": "cohort_errors",
    "CohortIsDropIn": "cohort_errors",
    "CohortNotOpen": "cohort_errors",
    "FacilitatorAlreadyAssigned": "cohort_errors",
    "InvalidCapacity": "cohort_errors",
    "NotEnoughFacilitators": "cohort_errors",
    "NotEnrolled": "cohort_errors",
    "SessionNotFound": "cohort_errors",
    "FacilitatorAtCapacity": "facilitator",
    "FacilitatorNotEligible": "facilitator",
    "FacilitatorRetired": "facilitator",
    "OutcomeAlreadyRecorded": "participant",
    "ParticipantErased": "participant",
    "UnknownMeasure": "participant",
    "ConsentRequired": "consent",
    "InvalidConsentChange": "consent",
}


def __getattr__(name: str) -> Any:
    try:
        module_name = _REEXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    module = importlib.import_module(f"program.domain.{module_name}")
    return getattr(module, name)


__all__ = ["DomainError", "InvalidInput", "InvalidTransition", *_REEXPORTS]
