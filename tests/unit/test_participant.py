from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from uuid import uuid4

import pytest

from program.domain import (
    InvalidInput,
    OutcomeAlreadyRecorded,
    Participant,
    ParticipantErased,
    UnknownMeasure,
)

from .gwt import event_classes, given, names, rejected, then

CIPHERTEXT = "djEuZmFrZS1jaXBoZXJ0ZXh0"  # opaque to the domain
PROGRAMME = uuid4()
HOME = uuid4()  # the programme people are registered into
COHORT_A, COHORT_B = uuid4(), uuid4()
MEASURES = {"HHI": [12.0, 48.0], "WEMWBS": [14.0, 70.0]}  # the programme's catalogue


def a_participant(*, cohorts: tuple = (), erased: bool = False) -> Participant:
    participant = Participant.register(uuid4(), CIPHERTEXT, HOME)
    for cohort_id in cohorts:
        participant.join_cohort(cohort_id, PROGRAMME)
    if erased:
        participant.erase()
    return given(participant)


def test_register_when_ciphertext_given_records_registered_under_the_given_id() -> None:
    participant_id = uuid4()

    participant = Participant.register(participant_id, CIPHERTEXT, HOME)

    assert then(participant) == [
        ("Registered", {"personal_data": CIPHERTEXT, "programme_id": HOME})
    ]
    assert participant.id == participant_id
    assert participant.programme_ids == {HOME}
    assert not participant.erased


def test_register_when_programme_not_a_uuid_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="programme_id"):
        Participant.register(uuid4(), CIPHERTEXT, None)  # type: ignore[arg-type]


def test_join_cohort_when_another_programme_adds_it_to_the_persons_programmes() -> None:
    participant = a_participant()

    participant.join_cohort(COHORT_A, PROGRAMME)
    participant.leave_cohort(COHORT_A)

    assert participant.programme_ids == {HOME, PROGRAMME}  # "is or was in"
    assert not participant.is_member_of(COHORT_A)


def test_registered_when_stored_before_programmes_loads_with_no_programme(mapper) -> None:
    """v1 events (no programme_id) still load: the person is in the programmes of
    the cohorts they joined."""
    stored = mapper.to_stored_event(Participant.register(uuid4(), CIPHERTEXT, HOME).collect_events()[0])
    v1 = json.loads(stored.state)
    del v1["programme_id"], v1["class_version"]
    old = type(stored)(stored.originator_id, 1, stored.topic, json.dumps(v1).encode())

    participant = mapper.to_domain_event(old).mutate(None)
    participant.join_cohort(COHORT_A, PROGRAMME)

    assert participant.programme_ids == {PROGRAMME}


def test_snapshot_when_taken_before_programmes_loads_with_its_cohorts_programmes(mapper) -> None:
    participant = a_participant(cohorts=(COHORT_A,))
    stored = mapper.to_stored_event(Participant.Snapshot.take(participant))
    v1 = json.loads(stored.state)
    del v1["state"]["_programmes"], v1["state"]["class_version"]
    old = type(stored)(stored.originator_id, stored.originator_version, stored.topic,
                       json.dumps(v1).encode())

    restored = mapper.to_domain_event(old).mutate(None)

    assert restored.programme_ids == {PROGRAMME}


@pytest.mark.parametrize("personal_data", ["", "  ", None, b"bytes"])
def test_register_when_personal_data_not_a_string_raises_invalid_input(personal_data) -> None:
    with pytest.raises(InvalidInput, match="personal_data"):
        Participant.register(uuid4(), personal_data, HOME)


def test_register_when_id_not_a_uuid_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="participant_id"):
        Participant.register(str(uuid4()), CIPHERTEXT, HOME)  # type: ignore[arg-type]


def test_update_personal_data_when_registered_records_personal_data_updated() -> None:
    participant = a_participant()

    participant.update_personal_data("bmV3LWNpcGhlcnRleHQ=")

    assert then(participant) == [
        ("PersonalDataUpdated", {"personal_data": "bmV3LWNpcGhlcnRleHQ="})
    ]


def test_join_cohort_when_new_records_joined_cohort() -> None:
    participant = a_participant(cohorts=(COHORT_A,))

    participant.join_cohort(COHORT_B, PROGRAMME)

    assert then(participant) == [
        ("JoinedCohort", {"cohort_id": COHORT_B, "programme_id": PROGRAMME})
    ]
    assert participant.cohorts == {COHORT_A: PROGRAMME, COHORT_B: PROGRAMME}
    assert participant.cohort_ids_in(PROGRAMME) == [COHORT_A, COHORT_B]


def test_join_cohort_when_already_joined_records_nothing() -> None:
    participant = a_participant(cohorts=(COHORT_A,))

    participant.join_cohort(COHORT_A, PROGRAMME)

    assert then(participant) == []


def test_leave_cohort_when_joined_records_left_cohort() -> None:
    participant = a_participant(cohorts=(COHORT_A, COHORT_B))

    participant.leave_cohort(COHORT_A)

    assert then(participant) == [("LeftCohort", {"cohort_id": COHORT_A})]
    assert participant.cohorts == {COHORT_B: PROGRAMME}


def test_leave_cohort_when_not_joined_records_nothing() -> None:
    participant = a_participant(cohorts=(COHORT_A,))

    participant.leave_cohort(COHORT_B)

    assert then(participant) == []


@pytest.mark.parametrize("score", [Decimal("42.5"), 42.5, 42])
def test_record_outcome_when_measure_allowed_records_outcome_as_float(score) -> None:
    participant = a_participant(cohorts=(COHORT_A,))

    participant.record_outcome(COHORT_A, "HHI", "BASELINE", score, MEASURES)

    [(name, data)] = then(participant)
    assert (name, data) == (
        "OutcomeRecorded",
        {"cohort_id": COHORT_A, "measure": "HHI", "timepoint": "BASELINE", "score": float(score)},
    )
    assert type(data["score"]) is float
    assert participant.outcome(COHORT_A, "HHI", "BASELINE") == float(score)


def test_record_outcome_when_other_timepoint_records_it() -> None:
    participant = a_participant(cohorts=(COHORT_A,))
    participant.record_outcome(COHORT_A, "HHI", "BASELINE", 30, MEASURES)
    given(participant)

    participant.record_outcome(COHORT_A, "HHI", "FOLLOW_UP", 36, MEASURES)

    assert names(participant.collect_events()) == ["OutcomeRecorded"]


def test_record_outcome_when_measure_unknown_raises_unknown_measure() -> None:
    participant = a_participant(cohorts=(COHORT_A,))

    with rejected(participant, UnknownMeasure) as error:
        participant.record_outcome(COHORT_A, "PHQ-9", "BASELINE", 12, MEASURES)

    assert error.value.details == {"measure": "PHQ-9", "allowed": "HHI, WEMWBS"}


def test_record_outcome_when_already_recorded_raises_outcome_already_recorded() -> None:
    participant = a_participant(cohorts=(COHORT_A,))
    participant.record_outcome(COHORT_A, "HHI", "BASELINE", 30, MEASURES)
    given(participant)

    with rejected(participant, OutcomeAlreadyRecorded):
        participant.record_outcome(COHORT_A, "HHI", "BASELINE", 31, MEASURES)


@pytest.mark.parametrize("score", [-1, -0.5, float("nan"), float("inf"), "30", True])
def test_record_outcome_when_score_negative_or_not_a_number_raises_invalid_input(score) -> None:
    participant = a_participant(cohorts=(COHORT_A,))

    with rejected(participant, InvalidInput) as error:
        participant.record_outcome(COHORT_A, "HHI", "BASELINE", score, MEASURES)

    assert error.value.details["field"] == "score"


def test_record_outcome_when_timepoint_unknown_raises_invalid_input() -> None:
    participant = a_participant(cohorts=(COHORT_A,))

    with rejected(participant, InvalidInput):
        participant.record_outcome(COHORT_A, "HHI", "MIDPOINT", 30, MEASURES)


def test_erase_when_registered_records_erased() -> None:
    participant = a_participant(cohorts=(COHORT_A,))

    participant.erase()

    assert then(participant) == [("Erased", {})]
    assert participant.erased


COMMANDS: dict[str, Callable[[Participant], None]] = {
    "erase": lambda p: p.erase(),
    "update_personal_data": lambda p: p.update_personal_data(CIPHERTEXT),
    "join_cohort": lambda p: p.join_cohort(COHORT_B, PROGRAMME),
    "leave_cohort": lambda p: p.leave_cohort(COHORT_A),
    "record_outcome": lambda p: p.record_outcome(COHORT_A, "HHI", "BASELINE", 1, MEASURES),
}


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_any_command_when_erased_raises_participant_erased(command) -> None:
    participant = a_participant(cohorts=(COHORT_A,), erased=True)

    with rejected(participant, ParticipantErased):
        command(participant)


def test_require_not_erased_when_erased_raises_participant_erased() -> None:
    participant = a_participant(erased=True)

    with rejected(participant, ParticipantErased) as error:
        participant.require_not_erased()

    assert error.value.details["participant_id"] == participant.id


def test_require_not_erased_when_not_erased_passes() -> None:
    participant = a_participant()

    participant.require_not_erased()

    assert then(participant) == []


# --- serialisation -----------------------------------------------------------


def test_every_event_round_trips_through_the_store_mapper(round_trip) -> None:
    participant = Participant.register(uuid4(), CIPHERTEXT, HOME)
    participant.update_personal_data(CIPHERTEXT + "x")
    participant.join_cohort(COHORT_A, PROGRAMME)
    participant.record_outcome(COHORT_A, "WEMWBS", "BASELINE", Decimal("47.25"), MEASURES)
    participant.amend_outcome(COHORT_A, "WEMWBS", "BASELINE", 48, MEASURES, CIPHERTEXT)
    participant.leave_cohort(COHORT_A)
    participant.erase()
    participant.record_data_export("json")
    events = participant.collect_events()

    for domain_event in events:
        round_trip(domain_event)
    assert set(names(events)) == event_classes(Participant)


def test_snapshot_round_trips_through_the_store_mapper(snapshot_round_trip) -> None:
    participant = a_participant(cohorts=(COHORT_A,))
    participant.record_outcome(COHORT_A, "HHI", "BASELINE", 30, MEASURES)
    given(participant)

    restored = snapshot_round_trip(participant)

    assert restored.cohorts == {COHORT_A: PROGRAMME}
    assert restored.outcome(COHORT_A, "HHI", "BASELINE") == 30.0


def test_record_data_export_when_erased_still_records_it() -> None:
    participant = Participant.register(uuid4(), CIPHERTEXT, HOME)
    participant.erase()
    given(participant)

    participant.record_data_export("html")

    assert then(participant) == [("DataExported", {"format": "html"})]
