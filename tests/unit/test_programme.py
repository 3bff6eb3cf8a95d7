from __future__ import annotations

import pytest

from program.domain import (
    InvalidInput,
    InvalidTransition,
    Programme,
    ProgrammeNotActive,
    ProgrammeStatus,
)

from .gwt import event_classes, given, names, rejected, then


def a_programme(status: ProgrammeStatus = ProgrammeStatus.DRAFT) -> Programme:
    programme = Programme.create("Hope Group", "Peer support for bipolar disorder")
    if status in (ProgrammeStatus.ACTIVE, ProgrammeStatus.CLOSED):
        programme.activate()
    if status == ProgrammeStatus.CLOSED:
        programme.close()
    return given(programme)


def test_create_when_valid_records_created_in_draft() -> None:
    programme = Programme.create(
        " Hope Group ", "Weekly", ["programme-participation", "evaluation"], ["HHI", "WEMWBS"], 3
    )

    assert then(programme) == [
        (
            "Created",
            {
                "name": "Hope Group",
                "description": "Weekly",
                "required_consent_purposes": ["programme-participation", "evaluation"],
                "outcome_measures": ["HHI", "WEMWBS"],
                "min_facilitators_per_cohort": 3,
                "optional_consent_purposes": [],
                "measure_ranges": {"HHI": [12.0, 48.0], "WEMWBS": [14.0, 70.0]},
            },
        )
    ]
    assert programme.status is ProgrammeStatus.DRAFT


def test_create_when_defaults_used_requires_participation_consent_and_two_facilitators() -> None:
    programme = Programme.create("Hope Group", "")

    assert programme.required_consent_purposes == ["programme-participation"]
    assert programme.outcome_measures == []
    assert programme.min_facilitators_per_cohort == 2


def test_create_when_purposes_empty_keeps_default_purpose() -> None:
    programme = Programme.create("Hope Group", "", required_consent_purposes=[])

    assert programme.required_consent_purposes == ["programme-participation"]


def test_create_when_purposes_repeat_keeps_first_of_each_in_order() -> None:
    programme = Programme.create("Hope Group", "", ["b", "a", " b ", "a"], ["HHI", "HHI"])

    assert programme.required_consent_purposes == ["b", "a"]
    assert programme.outcome_measures == ["HHI"]


@pytest.mark.parametrize("name", ["", "   ", None])
def test_create_when_name_blank_raises_invalid_input(name: str | None) -> None:
    with pytest.raises(InvalidInput, match="name"):
        Programme.create(name, "")  # type: ignore[arg-type]


def test_create_when_a_purpose_is_blank_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="required_consent_purposes"):
        Programme.create("Hope Group", "", ["programme-participation", " "])


def test_create_when_min_facilitators_below_one_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="min_facilitators_per_cohort"):
        Programme.create("Hope Group", "", min_facilitators_per_cohort=0)


def test_activate_when_draft_records_activated() -> None:
    programme = a_programme()

    programme.activate()

    assert then(programme) == [("Activated", {})]
    assert programme.status is ProgrammeStatus.ACTIVE


@pytest.mark.parametrize("status", [ProgrammeStatus.ACTIVE, ProgrammeStatus.CLOSED])
def test_activate_when_not_draft_raises_invalid_transition(status: ProgrammeStatus) -> None:
    programme = a_programme(status)

    with rejected(programme, InvalidTransition) as error:
        programme.activate()

    assert str(error.value) == f"Programme cannot go from {status} to ACTIVE."


@pytest.mark.parametrize("status", [ProgrammeStatus.DRAFT, ProgrammeStatus.ACTIVE])
def test_close_when_draft_or_active_records_closed(status: ProgrammeStatus) -> None:
    programme = a_programme(status)

    programme.close()

    assert then(programme) == [("Closed", {})]
    assert programme.status is ProgrammeStatus.CLOSED


def test_close_when_closed_raises_invalid_transition() -> None:
    programme = a_programme(ProgrammeStatus.CLOSED)

    with rejected(programme, InvalidTransition):
        programme.close()


@pytest.mark.parametrize("status", [ProgrammeStatus.DRAFT, ProgrammeStatus.CLOSED])
def test_require_active_when_not_active_raises_programme_not_active(
    status: ProgrammeStatus,
) -> None:
    programme = a_programme(status)

    with rejected(programme, ProgrammeNotActive) as error:
        programme.require_active()

    assert error.value.details == {"programme_id": programme.id, "status": status.value}


def test_require_active_when_active_passes() -> None:
    programme = a_programme(ProgrammeStatus.ACTIVE)

    programme.require_active()

    assert then(programme) == []


def test_every_event_round_trips_through_the_store_mapper(round_trip) -> None:
    programme = Programme.create("Hope Group", "", ["a", "b"], ["HHI"], 2)
    programme.activate()
    programme.update("Fortnightly", None, ["research"], ["HHI", "SWEMWBS"])
    programme.close()
    events = programme.collect_events()

    for domain_event in events:
        round_trip(domain_event)
    assert set(names(events)) == event_classes(Programme)


def test_snapshot_round_trips_through_the_store_mapper(snapshot_round_trip) -> None:
    programme = a_programme(ProgrammeStatus.ACTIVE)

    restored = snapshot_round_trip(programme)

    assert restored.status is ProgrammeStatus.ACTIVE
    assert restored.required_consent_purposes == ["programme-participation"]
