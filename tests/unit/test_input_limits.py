"""Input limits enforced by the domain's value checks (DESIGN §8, issue 6 findings 4, 6, 7).

Every command refuses text with NUL, unpaired surrogates or (single-line) control
characters, text past its documented length, lists past their size, dates and
datetimes outside 1900-01-01 … 2200-12-31 and whole numbers past their maximum, with
``InvalidInput`` naming the field, before any event is triggered.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest

from program.domain import (
    Cohort,
    Consent,
    Facilitator,
    InvalidInput,
    Participant,
    Programme,
)
from program.domain import limits
from program.domain.values import require_text, require_utc, unique_texts

from .gwt import given, rejected

AT = datetime(2025, 3, 4, 10, 0, tzinfo=timezone.utc)
NUL = "bad\x00value"
SURROGATE = "bad\ud800value"
FAR_EAST = timezone(timedelta(hours=14))
FAR_WEST = timezone(timedelta(hours=-12))


def field_of(error: pytest.ExceptionInfo[InvalidInput]) -> str:
    return str(error.value.details["field"])


def a_consent() -> Consent:
    return given(Consent.record(uuid4(), "programme-participation"))


def giving(**changes: Any) -> dict[str, Any]:
    return {
        "notice_id": "intake-notice", "notice_version": "3", "language": "en-GB",
        "lawful_basis": "consent", "recipients": ["evaluator-uni"], "method": "paper-form",
        "recorded_by": "manager:alex", "valid_until": None, "at": AT, **changes,
    }


def a_cohort() -> Cohort:
    return given(Cohort.plan(uuid4(), "Tuesday group", "ENROLLED", 5, date(2025, 3, 4), "Hall", 2))


# --- text ------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [NUL, SURROGATE, "line\nbreak", "bell\x07", "del\x7f"],
                         ids=["nul", "surrogate", "newline", "bell", "del"])
def test_create_programme_when_name_has_forbidden_character_raises_invalid_input(bad: str) -> None:
    with pytest.raises(InvalidInput) as error:
        Programme.create(bad, "")
    assert field_of(error) == "name"


def test_create_programme_when_description_has_newlines_and_tabs_accepts_them() -> None:
    programme = Programme.create("Hope", "Weekly.\n\tBring tea.\r\n")
    assert programme.name == "Hope"


@pytest.mark.parametrize("bad", [NUL, SURROGATE, "bell\x07"], ids=["nul", "surrogate", "bell"])
def test_create_programme_when_description_has_nul_or_control_raises_invalid_input(bad: str) -> None:
    with pytest.raises(InvalidInput) as error:
        Programme.create("Hope", bad)
    assert field_of(error) == "description"


def test_create_programme_when_name_is_a_megabyte_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput) as error:
        Programme.create("x" * 1_000_000, "")
    assert field_of(error) == "name"
    assert "at most 200" in str(error.value)


def test_create_programme_when_name_at_the_limit_is_accepted() -> None:
    name = "x" * limits.text_limit("name").max_length
    assert Programme.create(name, "").name == name


def test_create_programme_when_purpose_has_nul_raises_invalid_input_naming_item() -> None:
    with pytest.raises(InvalidInput) as error:
        Programme.create("Hope", "", ["a", "b", NUL])
    assert field_of(error) == "required_consent_purposes[2]"


def test_create_programme_when_too_many_measures_raises_invalid_input() -> None:
    too_many = [f"m{i}" for i in range(limits.list_limit("outcome_measures") + 1)]
    with pytest.raises(InvalidInput) as error:
        Programme.create("Hope", "", None, too_many)
    assert field_of(error) == "outcome_measures"


def test_plan_cohort_when_venue_has_nul_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput) as error:
        Cohort.plan(uuid4(), "Group", "ENROLLED", 5, date(2025, 3, 4), NUL, 2)
    assert field_of(error) == "venue"


# Reasons reach the domain as ciphertext (the service checks the plain text against
# ``reason`` first): the domain bounds what it stores under ``reason_ciphertext``.
def test_cancel_cohort_when_reason_has_nul_raises_invalid_input() -> None:
    cohort = a_cohort()
    with rejected(cohort, InvalidInput) as error:
        cohort.cancel(NUL)
    assert field_of(error) == "reason_ciphertext"


def test_cancel_cohort_when_reason_is_too_long_raises_invalid_input() -> None:
    cohort = a_cohort()
    with rejected(cohort, InvalidInput) as error:
        cohort.cancel("x" * (limits.text_limit("reason_ciphertext").max_length + 1))
    assert field_of(error) == "reason_ciphertext"


def test_register_facilitator_when_display_name_has_nul_raises_invalid_input() -> None:
    from program.domain.facilitator import contact_details

    with pytest.raises(InvalidInput) as error:
        contact_details(NUL, "a@example.org")
    assert field_of(error) == "display_name"


def test_register_participant_when_personal_data_is_huge_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput) as error:
        Participant.register(uuid4(), "x" * 1_000_000, uuid4())
    assert field_of(error) == "personal_data"


@pytest.mark.parametrize("field", ["notice_id", "notice_version", "language", "method",
                                   "recorded_by"])
def test_give_consent_when_text_has_nul_raises_invalid_input(field: str) -> None:
    consent = a_consent()
    with rejected(consent, InvalidInput) as error:
        consent.give(**giving(**{field: NUL}))
    assert field_of(error) == field


def test_record_consent_when_purpose_has_nul_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput) as error:
        Consent.record(uuid4(), NUL)
    assert field_of(error) == "purpose"


def test_record_consent_when_purpose_is_a_megabyte_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput) as error:
        Consent.record(uuid4(), "p" * 1_000_000)
    assert field_of(error) == "purpose"


def test_give_consent_when_recipient_has_nul_raises_invalid_input_naming_item() -> None:
    consent = a_consent()
    with rejected(consent, InvalidInput) as error:
        consent.give(**giving(recipients=["ok", NUL]))
    assert field_of(error) == "recipients[1]"


def test_give_consent_when_recipient_is_a_surrogate_raises_invalid_input() -> None:
    consent = a_consent()
    with rejected(consent, InvalidInput) as error:
        consent.give(**giving(recipients=["\udc00"]))
    assert field_of(error) == "recipients[0]"


def test_give_consent_when_fifty_thousand_recipients_raises_invalid_input() -> None:
    consent = a_consent()
    with rejected(consent, InvalidInput) as error:
        consent.give(**giving(recipients=[f"r{i}" for i in range(50_000)]))
    assert field_of(error) == "recipients"


def test_give_consent_when_recipients_repeat_keeps_each_once() -> None:
    consent = a_consent()
    consent.give(**giving(recipients=["b", "a", " b", "a "]))
    assert consent.recipients == ["a", "b"]


def test_withdraw_consent_when_reason_has_nul_raises_invalid_input() -> None:
    consent = a_consent()
    consent.give(**giving())
    given(consent)
    with rejected(consent, InvalidInput) as error:
        consent.withdraw("phone", "manager:alex", NUL, AT)
    assert field_of(error) == "reason_ciphertext"


def test_suspend_facilitator_when_reason_has_nul_raises_invalid_input() -> None:
    facilitator = given(Facilitator.register(uuid4(), "aesgcm1:eA==", 2))
    with rejected(facilitator, InvalidInput) as error:
        facilitator.suspend(NUL)
    assert field_of(error) == "reason_ciphertext"


def test_record_outcome_when_measure_has_nul_raises_invalid_input() -> None:
    participant = given(Participant.register(uuid4(), "ciphertext", uuid4()))
    with rejected(participant, InvalidInput) as error:
        participant.record_outcome(uuid4(), NUL, "BASELINE", 10, {"HHI": None})
    assert field_of(error) == "measure"


def test_record_outcome_when_score_is_astronomical_raises_invalid_input() -> None:
    participant = given(Participant.register(uuid4(), "ciphertext", uuid4()))
    with rejected(participant, InvalidInput) as error:
        participant.record_outcome(uuid4(), "HHI", "BASELINE", 1e308, {"HHI": None})
    assert field_of(error) == "score"


def test_record_outcome_when_programme_lists_many_measures_still_records() -> None:
    """Stored programmes may hold more measures than today's limit: still usable."""
    participant = given(Participant.register(uuid4(), "ciphertext", uuid4()))
    measures = [f"m{i}" for i in range(limits.list_limit("outcome_measures") + 5)]
    participant.record_outcome(uuid4(), "m0", "BASELINE", 10, dict.fromkeys(measures))
    assert len(participant.collect_events()) == 1


# --- whole numbers -----------------------------------------------------------------


@pytest.mark.parametrize("value", [21, 2**31 - 1])
def test_create_programme_when_min_facilitators_past_maximum_raises_invalid_input(value: int) -> None:
    with pytest.raises(InvalidInput) as error:
        Programme.create("Hope", "", min_facilitators_per_cohort=value)
    assert field_of(error) == "min_facilitators_per_cohort"


def test_plan_cohort_when_capacity_past_maximum_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput) as error:
        Cohort.plan(uuid4(), "Group", "ENROLLED", 10_001, date(2025, 3, 4), None, 2)
    assert field_of(error) == "capacity"


def test_change_capacity_when_past_maximum_raises_invalid_input() -> None:
    cohort = a_cohort()
    with rejected(cohort, InvalidInput) as error:
        cohort.change_capacity(2**31 - 1)
    assert field_of(error) == "capacity"


def test_register_facilitator_when_max_cohorts_past_maximum_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput) as error:
        Facilitator.register(uuid4(), "aesgcm1:eA==", 51)
    assert field_of(error) == "max_cohorts"


# --- dates and datetimes -------------------------------------------------------------


@pytest.mark.parametrize("starts_on", [date(1, 1, 1), date(1899, 12, 31), date(2201, 1, 1),
                                       date(9999, 12, 31)])
def test_plan_cohort_when_starts_on_outside_sane_range_raises_invalid_input(starts_on: date) -> None:
    with pytest.raises(InvalidInput) as error:
        Cohort.plan(uuid4(), "Group", "ENROLLED", 5, starts_on, None, 2)
    assert field_of(error) == "starts_on"


@pytest.mark.parametrize("starts_on", [date(1900, 1, 1), date(2200, 12, 31)])
def test_plan_cohort_when_starts_on_at_the_edges_is_accepted(starts_on: date) -> None:
    assert Cohort.plan(uuid4(), "Group", "ENROLLED", 5, starts_on, None, 2).id


@pytest.mark.parametrize(
    "starts_at",
    [
        datetime(1, 1, 1, 0, 30, tzinfo=FAR_EAST),      # would overflow below year 1
        datetime(9999, 12, 31, 23, 0, tzinfo=FAR_WEST),  # would overflow past 9999
        datetime(1, 1, 1, tzinfo=timezone.utc),
        datetime(2200, 12, 31, 23, 0, tzinfo=FAR_WEST),  # 2201 in UTC
        datetime(1900, 1, 1, 0, 30, tzinfo=FAR_EAST),    # 1899 in UTC
    ],
    ids=["year-1-east", "year-9999-west", "year-1-utc", "2201-in-utc", "1899-in-utc"],
)
def test_schedule_session_when_starts_at_outside_sane_range_raises_invalid_input(
    starts_at: datetime,
) -> None:
    cohort = a_cohort()
    with rejected(cohort, InvalidInput) as error:
        cohort.schedule_session(uuid4(), starts_at)
    assert field_of(error) == "starts_at"


def test_record_credential_when_valid_until_in_year_9999_raises_invalid_input() -> None:
    facilitator = given(Facilitator.register(uuid4(), "aesgcm1:eA==", 2))
    with rejected(facilitator, InvalidInput) as error:
        facilitator.record_credential("SAFEGUARDING", date(9999, 12, 31))
    assert field_of(error) == "valid_until"


def test_give_consent_when_valid_until_in_year_9999_raises_invalid_input() -> None:
    consent = a_consent()
    with rejected(consent, InvalidInput) as error:
        consent.give(**giving(valid_until=date(9999, 12, 31)))
    assert field_of(error) == "valid_until"


# --- the checks themselves ------------------------------------------------------------


def test_unique_texts_when_many_distinct_values_runs_in_linear_time() -> None:
    """50,000 distinct values under a raised limit: a quadratic scan would take seconds."""
    values = [f"r{i}" for i in range(50_000)]
    assert len(unique_texts(values, "recipients", max_items=50_000)) == 50_000


def test_unique_texts_when_given_one_string_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        unique_texts("abc", "recipients")  # type: ignore[arg-type]


def test_unique_texts_when_given_endless_iterable_stops_at_the_limit() -> None:
    def endless() -> Any:
        while True:
            yield "x"

    with pytest.raises(InvalidInput):
        unique_texts(endless(), "recipients")


def test_require_utc_when_offset_given_normalises_to_utc() -> None:
    assert require_utc(datetime(2025, 1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
                       "at") == datetime(2025, 1, 1, tzinfo=timezone.utc)


def test_require_text_when_unknown_field_uses_the_default_limit() -> None:
    limit = limits.text_limit("some_new_field").max_length
    assert require_text("x" * limit, "some_new_field")
    with pytest.raises(InvalidInput):
        require_text("x" * (limit + 1), "some_new_field")
