from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest

from program.domain import (
    CredentialKind,
    Facilitator,
    FacilitatorAlreadyAssigned,
    FacilitatorAtCapacity,
    FacilitatorErased,
    FacilitatorNotEligible,
    FacilitatorRetired,
    FacilitatorStatus,
    InvalidInput,
    InvalidTransition,
)

from program.domain.facilitator import contact_details

from .gwt import event_classes, given, names, rejected, then

S = FacilitatorStatus
TODAY = date(2025, 3, 4)
NEXT_YEAR = date(2026, 3, 4)
COHORT_A, COHORT_B, COHORT_C = uuid4(), uuid4(), uuid4()
ALL_KINDS = [kind.value for kind in CredentialKind]
SEALED = "aesgcm1:c2VhbGVk"  # ciphertext stand-in: the domain never sees plaintext


def a_facilitator(
    status: FacilitatorStatus = S.ACTIVE,
    *,
    credentials: Sequence[str] = ALL_KINDS,
    valid_until: date = NEXT_YEAR,
    max_cohorts: int = 2,
    cohorts: Sequence[UUID] = (),
) -> Facilitator:
    facilitator = Facilitator.register(uuid4(), SEALED, max_cohorts)
    for kind in credentials:
        facilitator.record_credential(kind, valid_until)
    if status in (S.IN_TRAINING, S.ACTIVE, S.SUSPENDED):
        facilitator.begin_training()
    if status in (S.ACTIVE, S.SUSPENDED) or cohorts:
        facilitator.activate(min(TODAY, valid_until))  # training must be valid that day
    for cohort_id in cohorts:
        facilitator.assign_to_cohort(cohort_id, TODAY)
    if status == S.SUSPENDED:
        facilitator.suspend("Safeguarding review")
    if status == S.RETIRED:
        facilitator.retire()
    assert facilitator.status is status
    return given(facilitator)


def test_register_when_valid_records_registered_with_ciphertext_only() -> None:
    fid = uuid4()
    facilitator = Facilitator.register(fid, SEALED, 3)

    assert then(facilitator) == [
        ("Registered", {"personal_data": SEALED, "display_name": None,
                        "email": None, "max_cohorts": 3})
    ]
    assert facilitator.id == fid
    assert facilitator.status is S.APPLIED
    assert facilitator.max_cohorts == 3


def test_contact_details_when_valid_are_trimmed_for_encryption() -> None:
    assert contact_details(" Fay ", "fay@example.org", " 07700 900123 ") == {
        "display_name": "Fay", "email": "fay@example.org", "phone": "07700 900123"}


@pytest.mark.parametrize("email", ["fay.example.org", "@example.org", "fay@", "fay @x.org", ""])
def test_contact_details_when_email_malformed_raises_invalid_input(email: str) -> None:
    with pytest.raises(InvalidInput, match="email"):
        contact_details("Fay", email)


def test_contact_details_when_display_name_blank_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="display_name"):
        contact_details(" ", "fay@example.org")


def test_register_when_v1_event_with_plaintext_is_read_upcasts_keeping_it(round_trip) -> None:
    from eventsourcing.persistence import StoredEvent

    from program.store.mapping import create_mapper

    mapper = create_mapper()
    current = mapper.to_stored_event(Facilitator.register(uuid4(), SEALED, 2).collect_events()[0])
    state = mapper.transcoder.decode(current.state)
    for gone in ("personal_data", "display_name", "email"):
        del state[gone]
    state.update(display_name="Old Fay", email="old@example.org")
    state["originator_topic"] = state.get("originator_topic")
    v1 = StoredEvent(current.originator_id, 1, current.topic,
                     mapper.transcoder.encode({k: v for k, v in state.items()
                                               if k != "class_version"}))

    event = mapper.to_domain_event(v1)
    facilitator = event.mutate(None)

    assert (event.personal_data, event.display_name, event.email) == (
        None, "Old Fay", "old@example.org")
    assert facilitator.status is S.APPLIED and not facilitator.erased


@pytest.mark.parametrize("max_cohorts", [0, -1, 1.5])
def test_register_when_max_cohorts_not_positive_whole_number_raises_invalid_input(
    max_cohorts: int,
) -> None:
    with pytest.raises(InvalidInput, match="max_cohorts"):
        Facilitator.register(uuid4(), SEALED, max_cohorts)


# --- lifecycle ---------------------------------------------------------------


def test_begin_training_when_applied_records_training_begun() -> None:
    facilitator = a_facilitator(S.APPLIED)

    facilitator.begin_training()

    assert then(facilitator) == [("TrainingBegun", {})]
    assert facilitator.status is S.IN_TRAINING


@pytest.mark.parametrize("status", [S.IN_TRAINING, S.ACTIVE, S.SUSPENDED, S.RETIRED])
def test_begin_training_when_not_applied_raises_invalid_transition(status: S) -> None:
    facilitator = a_facilitator(status)

    with rejected(facilitator, InvalidTransition) as error:
        facilitator.begin_training()

    assert str(error.value) == f"Facilitator cannot go from {status} to IN_TRAINING."


@pytest.mark.parametrize("status", [S.APPLIED, S.IN_TRAINING, S.SUSPENDED])
def test_activate_when_applied_in_training_or_suspended_records_activated(status: S) -> None:
    facilitator = a_facilitator(status)

    facilitator.activate(TODAY)

    assert then(facilitator) == [("Activated", {"activated_on": TODAY})]
    assert facilitator.status is S.ACTIVE


@pytest.mark.parametrize("status", [S.ACTIVE, S.RETIRED])
def test_activate_when_active_or_retired_raises_invalid_transition(status: S) -> None:
    facilitator = a_facilitator(status)

    with rejected(facilitator, InvalidTransition):
        facilitator.activate(TODAY)


def test_suspend_when_active_records_suspended() -> None:
    facilitator = a_facilitator(S.ACTIVE)

    facilitator.suspend("Complaint under review")

    assert then(facilitator) == [("Suspended", {"reason": "Complaint under review"})]
    assert facilitator.status is S.SUSPENDED


@pytest.mark.parametrize("status", [S.APPLIED, S.IN_TRAINING, S.SUSPENDED, S.RETIRED])
def test_suspend_when_not_active_raises_invalid_transition(status: S) -> None:
    facilitator = a_facilitator(status)

    with rejected(facilitator, InvalidTransition):
        facilitator.suspend("Complaint under review")


def test_suspend_when_reason_blank_raises_invalid_input() -> None:
    facilitator = a_facilitator(S.ACTIVE)

    with rejected(facilitator, InvalidInput):
        facilitator.suspend("")


@pytest.mark.parametrize("status", [S.APPLIED, S.IN_TRAINING, S.ACTIVE, S.SUSPENDED])
def test_retire_when_not_retired_records_retired(status: S) -> None:
    facilitator = a_facilitator(status)

    facilitator.retire()

    assert then(facilitator) == [("Retired", {})]
    assert facilitator.status is S.RETIRED


def test_retire_when_retired_raises_invalid_transition() -> None:
    facilitator = a_facilitator(S.RETIRED)

    with rejected(facilitator, InvalidTransition):
        facilitator.retire()


# --- credentials ---------------------------------------------------------------


def test_record_credential_when_recorded_again_latest_wins() -> None:
    facilitator = a_facilitator(valid_until=NEXT_YEAR)

    facilitator.record_credential("SAFEGUARDING", TODAY)

    assert then(facilitator) == [
        ("CredentialRecorded", {"kind": "SAFEGUARDING", "valid_until": TODAY})
    ]
    assert facilitator.credentials[CredentialKind.SAFEGUARDING] == TODAY


def test_record_credential_when_kind_unknown_raises_invalid_input() -> None:
    facilitator = a_facilitator()

    with rejected(facilitator, InvalidInput):
        facilitator.record_credential("FIRST_AID", NEXT_YEAR)


def test_record_credential_when_retired_raises_facilitator_retired() -> None:
    facilitator = a_facilitator(S.RETIRED)

    with rejected(facilitator, FacilitatorRetired):
        facilitator.record_credential("SAFEGUARDING", NEXT_YEAR)


def test_credentials_valid_on_when_all_kinds_valid_through_that_day_is_true() -> None:
    facilitator = a_facilitator(valid_until=TODAY)

    assert facilitator.credentials_valid_on(TODAY)
    assert not facilitator.credentials_valid_on(TODAY + timedelta(days=1))


def test_credentials_valid_on_when_a_kind_is_missing_is_false() -> None:
    facilitator = a_facilitator(credentials=["PEER_SUPPORT_TRAINING", "SAFEGUARDING"])

    assert not facilitator.credentials_valid_on(TODAY)


@pytest.mark.parametrize("status", [S.APPLIED, S.IN_TRAINING, S.SUSPENDED, S.RETIRED])
def test_is_eligible_on_when_not_active_is_false(status: S) -> None:
    facilitator = a_facilitator(status)

    assert facilitator.credentials_valid_on(TODAY)
    assert not facilitator.is_eligible_on(TODAY)


def test_is_eligible_on_when_active_with_valid_credentials_is_true() -> None:
    assert a_facilitator(S.ACTIVE).is_eligible_on(TODAY)


# --- cohorts -----------------------------------------------------------------


def test_assign_to_cohort_when_eligible_records_assigned_to_cohort() -> None:
    facilitator = a_facilitator(cohorts=[COHORT_A])

    facilitator.assign_to_cohort(COHORT_B, TODAY)

    assert then(facilitator) == [
        ("AssignedToCohort", {"cohort_id": COHORT_B, "assigned_on": TODAY})
    ]
    assert facilitator.cohort_ids == [COHORT_A, COHORT_B]


def test_assign_to_cohort_when_not_active_raises_facilitator_not_eligible() -> None:
    facilitator = a_facilitator(S.SUSPENDED)

    with rejected(facilitator, FacilitatorNotEligible) as error:
        facilitator.assign_to_cohort(COHORT_A, TODAY)

    assert "status is SUSPENDED" in str(error.value)


def test_assign_to_cohort_when_credential_expired_raises_not_eligible_naming_it() -> None:
    facilitator = a_facilitator(valid_until=TODAY - timedelta(days=1))

    with rejected(facilitator, FacilitatorNotEligible) as error:
        facilitator.assign_to_cohort(COHORT_A, TODAY)

    assert "SAFEGUARDING credential expired on 2025-03-03" in str(error.value)


def test_assign_to_cohort_when_credential_missing_raises_not_eligible_naming_it() -> None:
    facilitator = a_facilitator(credentials=["PEER_SUPPORT_TRAINING", "SAFEGUARDING"])

    with rejected(facilitator, FacilitatorNotEligible) as error:
        facilitator.assign_to_cohort(COHORT_A, TODAY)

    assert error.value.details["reasons"] == "BACKGROUND_CHECK credential missing"


def test_assign_to_cohort_when_at_max_cohorts_raises_facilitator_at_capacity() -> None:
    facilitator = a_facilitator(max_cohorts=2, cohorts=[COHORT_A, COHORT_B])

    with rejected(facilitator, FacilitatorAtCapacity) as error:
        facilitator.assign_to_cohort(COHORT_C, TODAY)

    assert error.value.details["max_cohorts"] == 2


def test_assign_to_cohort_when_already_assigned_raises_facilitator_already_assigned() -> None:
    facilitator = a_facilitator(cohorts=[COHORT_A])

    with rejected(facilitator, FacilitatorAlreadyAssigned):
        facilitator.assign_to_cohort(COHORT_A, TODAY)


def test_release_from_cohort_when_assigned_records_released_from_cohort() -> None:
    facilitator = a_facilitator(max_cohorts=2, cohorts=[COHORT_A, COHORT_B])

    facilitator.release_from_cohort(COHORT_A)

    assert then(facilitator) == [("ReleasedFromCohort", {"cohort_id": COHORT_A})]
    assert facilitator.cohort_ids == [COHORT_B]


def test_release_from_cohort_when_not_assigned_records_nothing() -> None:
    facilitator = a_facilitator(cohorts=[COHORT_A])

    facilitator.release_from_cohort(COHORT_B)

    assert then(facilitator) == []


# --- serialisation -----------------------------------------------------------


def test_every_event_round_trips_through_the_store_mapper(round_trip) -> None:
    facilitator = Facilitator.register(uuid4(), SEALED, 2)
    for kind in ALL_KINDS:
        facilitator.record_credential(kind, NEXT_YEAR)
    facilitator.begin_training()
    facilitator.activate(TODAY)
    facilitator.assign_to_cohort(COHORT_A, TODAY)
    facilitator.release_from_cohort(COHORT_A)
    facilitator.suspend("Review")
    facilitator.retire()
    facilitator.erase()
    events = facilitator.collect_events()

    for domain_event in events:
        round_trip(domain_event)
    assert set(names(events)) == event_classes(Facilitator)


def test_snapshot_round_trips_through_the_store_mapper(snapshot_round_trip) -> None:
    facilitator = a_facilitator(cohorts=[COHORT_A])

    restored = snapshot_round_trip(facilitator)

    assert restored.status is S.ACTIVE and restored.cohort_ids == [COHORT_A]
    assert restored.is_eligible_on(TODAY)
    assert restored.credentials[CredentialKind.BACKGROUND_CHECK] == NEXT_YEAR


# --- erasure ---------------------------------------------------------------------


def test_erase_when_active_retires_then_records_erased() -> None:
    facilitator = a_facilitator(cohorts=[COHORT_A])

    facilitator.erase()

    assert names_of(then(facilitator)) == ["Retired", "Erased"]
    assert facilitator.erased and facilitator.status is S.RETIRED


def test_erase_when_retired_records_erased_only() -> None:
    facilitator = a_facilitator(S.RETIRED)

    facilitator.erase()

    assert names_of(then(facilitator)) == ["Erased"]


def test_erase_when_already_erased_raises_facilitator_erased() -> None:
    facilitator = a_facilitator()
    facilitator.erase()
    given(facilitator)

    with rejected(facilitator, FacilitatorErased):
        facilitator.erase()


@pytest.mark.parametrize("command", [
    lambda f: f.activate(TODAY), lambda f: f.record_credential("SAFEGUARDING", NEXT_YEAR),
    lambda f: f.suspend("x"), lambda f: f.retire(),
])
def test_any_command_when_erased_raises_facilitator_erased(command) -> None:
    facilitator = a_facilitator()
    facilitator.erase()
    given(facilitator)

    with rejected(facilitator, FacilitatorErased):
        command(facilitator)


def test_snapshot_when_v1_is_upcast_is_not_erased(snapshot_round_trip) -> None:
    facilitator = a_facilitator(cohorts=[COHORT_A])
    state = {k: v for k, v in vars(facilitator).items() if k != "_erased"}
    Facilitator.upcast_v1_v2(state)

    assert state["_erased"] is False


def names_of(events: list[tuple[str, dict]]) -> list[str]:
    return [name for name, _ in events]
