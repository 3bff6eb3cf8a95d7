"""Guards for conventions other layers rely on: error codes, re-exports, and
the domain's import and clock discipline."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

import program.domain as domain

DOMAIN_DIR = Path(domain.__file__).parent

EXPECTED_CODES = {
    "DomainError": "DOMAIN_ERROR",
    "InvalidInput": "BAD_USER_INPUT",
    "InvalidTransition": "INVALID_STATE_TRANSITION",
    "ProgrammeNotActive": "PROGRAMME_NOT_ACTIVE",
    "CohortNotOpen": "COHORT_NOT_OPEN",
    "CohortIsDropIn": "COHORT_IS_DROP_IN",
    "CohortEnded": "COHORT_ENDED",
    "AlreadyEnrolled": "ALREADY_ENROLLED",
    "NotEnrolled": "NOT_ENROLLED",
    "CapacityBelowEnrolled": "CAPACITY_BELOW_ENROLLED",
    "InvalidCapacity": "INVALID_CAPACITY",
    "NotEnoughFacilitators": "NOT_ENOUGH_FACILITATORS",
    "FacilitatorAlreadyAssigned": "FACILITATOR_ALREADY_ASSIGNED",
    "SessionNotFound": "SESSION_NOT_FOUND",
    "AttendanceNotAllowed": "ATTENDANCE_NOT_ALLOWED",
    "FacilitatorNotEligible": "FACILITATOR_NOT_ELIGIBLE",
    "FacilitatorAtCapacity": "FACILITATOR_AT_CAPACITY",
    "FacilitatorRetired": "FACILITATOR_RETIRED",
    "FacilitatorErased": "FACILITATOR_ERASED",
    "ConsentRequired": "CONSENT_REQUIRED",
    "InvalidConsentChange": "INVALID_CONSENT_CHANGE",
    "UnknownMeasure": "UNKNOWN_MEASURE",
    "OutcomeAlreadyRecorded": "OUTCOME_ALREADY_RECORDED",
    "ParticipantErased": "PARTICIPANT_ERASED",
    "PartnerRetired": "PARTNER_RETIRED",
    "TooManyEndpoints": "TOO_MANY_ENDPOINTS",
    "UnknownEndpoint": "UNKNOWN_WEBHOOK_ENDPOINT",
    "EventAlreadySkipped": "EVENT_ALREADY_SKIPPED",
    "CohortNotYetDue": "BEFORE_START_DATE",
    "SessionNotStarted": "SESSION_NOT_STARTED",
    "SessionCancelled": "SESSION_CANCELLED",
    "AttendanceNotRecorded": "ATTENDANCE_NOT_RECORDED",
    "TrainingRequired": "TRAINING_REQUIRED",
    "ScoreOutOfRange": "SCORE_OUT_OF_RANGE",
    "UnknownPurpose": "UNKNOWN_PURPOSE",
    "OutcomeNotRecorded": "OUTCOME_NOT_RECORDED",
    "ConsentNotGiven": "CONSENT_NOT_GIVEN",
    "FacilitatorNotAssigned": "FACILITATOR_NOT_ASSIGNED",
}


def _exported_errors() -> dict[str, type[domain.DomainError]]:
    return {
        name: value
        for name, value in vars(domain).items()
        if isinstance(value, type) and issubclass(value, domain.DomainError)
    }


def test_error_codes_when_exported_match_the_api_contract() -> None:
    assert {name: cls.code for name, cls in _exported_errors().items()} == EXPECTED_CODES


def test_error_codes_when_compared_are_unique_screaming_snake() -> None:
    codes = [cls.code for cls in _exported_errors().values()]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[A-Z]+(_[A-Z]+)*", code) for code in codes)


def test_invalid_capacity_when_caught_as_bad_input_is_an_invalid_input() -> None:
    assert issubclass(domain.InvalidCapacity, domain.InvalidInput)


def test_domain_error_when_details_hold_enum_members_keeps_plain_values() -> None:
    error = domain.InvalidTransition("Cohort", domain.CohortStatus.OPEN, domain.CohortStatus.OPEN)

    assert type(error.details["from_state"]) is str
    assert str(error) == "Cohort cannot go from OPEN to OPEN."


def _imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
    return found


@pytest.mark.parametrize("path", sorted(DOMAIN_DIR.glob("*.py")), ids=lambda p: p.name)
def test_domain_module_when_imported_uses_only_stdlib_and_eventsourcing_domain(path: Path) -> None:
    for module in _imported_modules(path):
        top = module.split(".")[0]
        allowed = (
            top in sys.stdlib_module_names
            or module == "eventsourcing.domain"
            or module == "program.domain"
            or module.startswith("program.domain.")
        )
        assert allowed, f"{path.name} imports {module}"


@pytest.mark.parametrize("path", sorted(DOMAIN_DIR.glob("*.py")), ids=lambda p: p.name)
def test_domain_module_when_it_needs_time_takes_it_as_an_argument(path: Path) -> None:
    source = path.read_text()
    for clock in ("date.today(", "datetime.now(", "datetime.utcnow(", "time.time("):
        assert clock not in source, f"{path.name} reads the clock with {clock}"
