"""The GraphQL boundary's checks, without HTTP: the first pass over raw variables and
the walk over converted arguments."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest

from program.api.graphql.enums import CohortFormat, ConsentMethod, LawfulBasis
from program.api.graphql.mutations.inputs import GiveConsentInput, PlanCohortInput
from program.api.graphql.validation import MAX_NESTING, check_value, check_variables
from program.domain import InvalidInput, limits


def refusal(check: Any, *args: Any) -> str:
    with pytest.raises(InvalidInput) as error:
        check(*args)
    assert error.value.code == "BAD_USER_INPUT"
    return str(error.value.details["field"])


def consent_input(**changes: Any) -> GiveConsentInput:
    values: dict[str, Any] = {
        "participant_id": uuid4(), "purpose": "p", "notice_id": "n", "notice_version": "1",
        "lawful_basis": LawfulBasis.CONSENT, "method": ConsentMethod.PAPER_FORM,
        "recipients": ["a", "b"], **changes}
    return GiveConsentInput(**values)


def test_check_variables_when_list_past_its_fields_limit_names_it_in_graphql_spelling() -> None:
    too_many = ["m"] * (limits.list_limit("outcome_measures") + 1)
    assert refusal(check_variables, {"input": {"outcomeMeasures": too_many}}) == \
        "input.outcomeMeasures"


def test_check_variables_when_list_within_limits_passes() -> None:
    check_variables({"input": {"recipients": ["a"] * limits.list_limit("recipients")}})


def test_check_variables_when_nested_too_deeply_refuses() -> None:
    value: Any = "x"
    for _ in range(MAX_NESTING + 2):
        value = [value]
    refusal(check_variables, {"v": value})


def test_check_variables_when_too_many_values_in_all_refuses() -> None:
    variables = {f"v{i}": [[1] * 100] * 100 for i in range(2)}
    assert refusal(check_variables, variables) == "variables"


def test_check_value_when_list_item_has_nul_names_the_item() -> None:
    assert refusal(check_value, consent_input(recipients=["a", "b\x00"]), "input", "input") == \
        "input.recipients[1]"


def test_check_value_when_idempotency_key_too_long_names_it() -> None:
    key = "k" * (limits.text_limit("idempotency_key").max_length + 1)
    assert refusal(check_value, consent_input(idempotency_key=key), "input", "input") == \
        "input.idempotencyKey"


def test_check_value_when_date_out_of_range_names_it() -> None:
    plan = PlanCohortInput(programme_id=uuid4(), name="C", format=CohortFormat.ENROLLED,
                           starts_on=date(1, 1, 1))
    assert refusal(check_value, plan, "input", "input") == "input.startsOn"


def test_check_value_when_capacity_past_maximum_names_it() -> None:
    plan = PlanCohortInput(programme_id=uuid4(), name="C", format=CohortFormat.ENROLLED,
                           starts_on=date(2030, 1, 1), capacity=2**31 - 1)
    assert refusal(check_value, plan, "input", "input") == "input.capacity"


def test_check_value_when_capacity_below_minimum_leaves_it_to_the_domain() -> None:
    plan = PlanCohortInput(programme_id=uuid4(), name="C", format=CohortFormat.ENROLLED,
                           starts_on=date(2030, 1, 1), capacity=0)
    check_value(plan, "input", "input")


@pytest.mark.parametrize("value", [
    datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=14))),
    datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-12))),
    datetime(9999, 12, 31, 23),
])
def test_check_value_when_datetime_would_overflow_refuses_cleanly(value: datetime) -> None:
    assert refusal(check_value, value, "since", "filter.since") == "filter.since"


def test_check_value_when_everything_is_fine_passes() -> None:
    check_value(consent_input(valid_until=date(2030, 1, 1), language="en-GB"), "input", "input")
