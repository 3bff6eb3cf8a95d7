from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest

from program.domain import (
    AlreadyEnrolled,
    AttendanceNotAllowed,
    CapacityBelowEnrolled,
    Cohort,
    CohortEnded,
    CohortFormat,
    CohortIsDropIn,
    CohortNotOpen,
    CohortStatus,
    EnrolmentOutcome,
    FacilitatorAlreadyAssigned,
    FacilitatorRole,
    InvalidCapacity,
    InvalidInput,
    InvalidTransition,
    NotEnoughFacilitators,
    NotEnrolled,
    SessionNotFound,
)

from .gwt import event_classes, given, names, rejected, then

PROGRAMME = uuid4()
ANA, BEN, CAL, DEV = uuid4(), uuid4(), uuid4(), uuid4()
FAY, GUS, HAL = uuid4(), uuid4(), uuid4()
SESSION = uuid4()
STARTS_ON = date(2025, 3, 4)
SESSION_AT = datetime(2025, 3, 4, 18, 30, tzinfo=timezone.utc)

S = CohortStatus


def a_cohort(
    status: CohortStatus = S.OPEN,
    *,
    format: str = "ENROLLED",
    capacity: int | None = 2,
    enrolled: Sequence[UUID] = (),
    waitlisted: Sequence[UUID] = (),
    sessions: Sequence[UUID] = (SESSION,),
) -> Cohort:
    """A cohort with FAY (LEAD) and GUS (CO) assigned, walked to ``status``."""
    cohort = Cohort.plan(PROGRAMME, "Tuesday group", format, capacity, STARTS_ON, "Room 4", 2)
    cohort.assign_facilitator(FAY, "LEAD")
    cohort.assign_facilitator(GUS, "CO")
    for session_id in sessions:
        cohort.schedule_session(session_id, SESSION_AT)
    if status != S.PLANNED:
        cohort.open_enrolment()
    for participant_id in [*enrolled, *waitlisted]:
        cohort.enrol(participant_id)
    assert cohort.enrolled == list(enrolled) and cohort.waitlist == list(waitlisted)
    if status in (S.RUNNING, S.COMPLETED):
        cohort.start(STARTS_ON, [FAY, GUS])
    if status == S.COMPLETED:
        cohort.complete()
    if status == S.CANCELLED:
        cohort.cancel("Venue closed")
    return given(cohort)


def a_drop_in(status: CohortStatus = S.RUNNING) -> Cohort:
    return a_cohort(status, format="DROP_IN", capacity=None)


# --- plan --------------------------------------------------------------------


def test_plan_when_enrolled_with_capacity_records_planned() -> None:
    cohort = Cohort.plan(PROGRAMME, " Tuesday group ", "ENROLLED", 8, STARTS_ON, " ", 3)

    assert then(cohort) == [
        (
            "Planned",
            {
                "programme_id": PROGRAMME,
                "name": "Tuesday group",
                "format": "ENROLLED",
                "capacity": 8,
                "starts_on": STARTS_ON,
                "venue": None,
                "min_facilitators": 3,
            },
        )
    ]
    assert (cohort.status, cohort.format, cohort.capacity) == (S.PLANNED, CohortFormat.ENROLLED, 8)
    assert cohort.min_facilitators == 3


def test_plan_when_drop_in_without_capacity_means_unlimited() -> None:
    cohort = Cohort.plan(PROGRAMME, "Open café", "DROP_IN", None, STARTS_ON, "Library", 1)

    [(name, data)] = then(cohort)
    assert (name, data["format"], data["capacity"]) == ("Planned", "DROP_IN", None)


def test_plan_when_enrolled_without_capacity_raises_invalid_capacity() -> None:
    with pytest.raises(InvalidCapacity, match="ENROLLED cohort needs a capacity"):
        Cohort.plan(PROGRAMME, "Tuesday group", "ENROLLED", None, STARTS_ON, None, 2)


@pytest.mark.parametrize("format", ["ENROLLED", "DROP_IN"])
@pytest.mark.parametrize("capacity", [0, -3, True])
def test_plan_when_capacity_below_one_raises_invalid_capacity(format: str, capacity: int) -> None:
    with pytest.raises(InvalidCapacity) as error:
        Cohort.plan(PROGRAMME, "Tuesday group", format, capacity, STARTS_ON, None, 2)

    assert error.value.code == "INVALID_CAPACITY"


def test_plan_when_format_unknown_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="'WEEKLY' is not one of ENROLLED, DROP_IN"):
        Cohort.plan(PROGRAMME, "Tuesday group", "WEEKLY", 8, STARTS_ON, None, 2)


def test_plan_when_name_blank_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="name"):
        Cohort.plan(PROGRAMME, " ", "ENROLLED", 8, STARTS_ON, None, 2)


def test_plan_when_starts_on_is_a_datetime_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="starts_on"):
        Cohort.plan(PROGRAMME, "Tuesday group", "ENROLLED", 8, SESSION_AT, None, 2)


def test_plan_when_min_facilitators_below_one_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="min_facilitators"):
        Cohort.plan(PROGRAMME, "Tuesday group", "ENROLLED", 8, STARTS_ON, None, 0)


# --- lifecycle ---------------------------------------------------------------


def test_open_enrolment_when_planned_records_enrolment_opened() -> None:
    cohort = a_cohort(S.PLANNED)

    cohort.open_enrolment()

    assert then(cohort) == [("EnrolmentOpened", {})]
    assert cohort.status is S.OPEN


@pytest.mark.parametrize("status", [S.OPEN, S.RUNNING, S.COMPLETED, S.CANCELLED])
def test_open_enrolment_when_not_planned_raises_invalid_transition(status: CohortStatus) -> None:
    cohort = a_cohort(status)

    with rejected(cohort, InvalidTransition) as error:
        cohort.open_enrolment()

    assert str(error.value) == f"Cohort cannot go from {status} to OPEN."


def test_start_when_open_with_enough_eligible_facilitators_records_started() -> None:
    cohort = a_cohort(S.OPEN)

    cohort.start(STARTS_ON, [GUS, HAL, FAY])

    assert then(cohort) == [
        ("Started", {"started_on": STARTS_ON, "facilitator_ids": sorted([FAY, GUS], key=str)})
    ]
    assert cohort.status is S.RUNNING


def test_start_when_too_few_assigned_are_eligible_raises_not_enough_facilitators() -> None:
    cohort = a_cohort(S.OPEN)

    with rejected(cohort, NotEnoughFacilitators) as error:
        cohort.start(STARTS_ON, [FAY])

    assert error.value.details == {"cohort_id": cohort.id, "required": 2, "eligible": 1}


def test_start_when_eligible_facilitators_are_not_assigned_they_do_not_count() -> None:
    cohort = a_cohort(S.OPEN)

    with rejected(cohort, NotEnoughFacilitators):
        cohort.start(STARTS_ON, [FAY, HAL])


def test_start_when_planned_drop_in_records_started() -> None:
    cohort = a_drop_in(S.PLANNED)

    cohort.start(STARTS_ON, [FAY, GUS])

    assert names(cohort.collect_events()) == ["Started"]


def test_start_when_planned_enrolled_cohort_raises_invalid_transition() -> None:
    cohort = a_cohort(S.PLANNED)

    with rejected(cohort, InvalidTransition):
        cohort.start(STARTS_ON, [FAY, GUS])


@pytest.mark.parametrize("status", [S.RUNNING, S.COMPLETED, S.CANCELLED])
def test_start_when_running_or_ended_raises_invalid_transition(status: CohortStatus) -> None:
    cohort = a_cohort(status)

    with rejected(cohort, InvalidTransition):
        cohort.start(STARTS_ON, [FAY, GUS])


def test_complete_when_running_records_completed() -> None:
    cohort = a_cohort(S.RUNNING)

    cohort.complete()

    assert then(cohort) == [("Completed", {})]
    assert cohort.status is S.COMPLETED


@pytest.mark.parametrize("status", [S.PLANNED, S.OPEN, S.COMPLETED, S.CANCELLED])
def test_complete_when_not_running_raises_invalid_transition(status: CohortStatus) -> None:
    cohort = a_cohort(status)

    with rejected(cohort, InvalidTransition):
        cohort.complete()


@pytest.mark.parametrize("status", [S.PLANNED, S.OPEN, S.RUNNING])
def test_cancel_when_not_ended_records_cancelled(status: CohortStatus) -> None:
    cohort = a_cohort(status)

    cohort.cancel(" Facilitators unavailable ")

    assert then(cohort) == [("Cancelled", {"reason": "Facilitators unavailable"})]
    assert cohort.status is S.CANCELLED


@pytest.mark.parametrize("status", [S.COMPLETED, S.CANCELLED])
def test_cancel_when_ended_raises_invalid_transition(status: CohortStatus) -> None:
    cohort = a_cohort(status)

    with rejected(cohort, InvalidTransition):
        cohort.cancel("Too late")


def test_cancel_when_reason_blank_raises_invalid_input() -> None:
    cohort = a_cohort(S.OPEN)

    with rejected(cohort, InvalidInput):
        cohort.cancel("  ")


# --- enrolment ---------------------------------------------------------------


@pytest.mark.parametrize("status", [S.OPEN, S.RUNNING])
def test_enrol_when_place_free_records_participant_enrolled(status: CohortStatus) -> None:
    cohort = a_cohort(status, enrolled=[ANA])

    outcome = cohort.enrol(BEN)

    assert outcome is EnrolmentOutcome.ENROLLED and outcome == "ENROLLED"
    assert then(cohort) == [("ParticipantEnrolled", {"participant_id": BEN})]
    assert cohort.enrolled == [ANA, BEN]


def test_enrol_when_cohort_full_waitlists_in_arrival_order() -> None:
    cohort = a_cohort(capacity=2, enrolled=[ANA, BEN], waitlisted=[CAL])

    outcome = cohort.enrol(DEV)

    assert outcome == "WAITLISTED"
    assert then(cohort) == [("ParticipantWaitlisted", {"participant_id": DEV, "position": 2})]
    assert cohort.waitlist == [CAL, DEV]


def test_enrol_when_already_enrolled_raises_already_enrolled() -> None:
    cohort = a_cohort(enrolled=[ANA])

    with rejected(cohort, AlreadyEnrolled) as error:
        cohort.enrol(ANA)

    assert "already enrolled" in str(error.value)


def test_enrol_when_already_waitlisted_raises_already_enrolled() -> None:
    cohort = a_cohort(capacity=1, enrolled=[ANA], waitlisted=[BEN])

    with rejected(cohort, AlreadyEnrolled) as error:
        cohort.enrol(BEN)

    assert "already waitlisted" in str(error.value)


@pytest.mark.parametrize("status", [S.PLANNED, S.COMPLETED, S.CANCELLED])
def test_enrol_when_not_open_or_running_raises_cohort_not_open(status: CohortStatus) -> None:
    cohort = a_cohort(status)

    with rejected(cohort, CohortNotOpen):
        cohort.enrol(ANA)


def test_enrol_when_drop_in_raises_cohort_is_drop_in() -> None:
    cohort = a_drop_in(S.OPEN)

    with rejected(cohort, CohortIsDropIn):
        cohort.enrol(ANA)


def test_withdraw_when_enrolled_and_someone_waiting_promotes_head_of_waitlist() -> None:
    cohort = a_cohort(capacity=2, enrolled=[ANA, BEN], waitlisted=[CAL, DEV])

    cohort.withdraw(ANA, "Moved away")

    assert then(cohort) == [
        (
            "ParticipantWithdrawn",
            {"participant_id": ANA, "reason": "Moved away", "was_waitlisted": False},
        ),
        ("ParticipantPromoted", {"participant_id": CAL}),
    ]
    assert (cohort.enrolled, cohort.waitlist) == ([BEN, CAL], [DEV])


def test_withdraw_when_enrolled_and_nobody_waiting_records_only_withdrawal() -> None:
    cohort = a_cohort(enrolled=[ANA])

    cohort.withdraw(ANA, "Feeling better")

    assert names(cohort.collect_events()) == ["ParticipantWithdrawn"]
    assert cohort.enrolled == []


def test_withdraw_when_waitlisted_leaves_the_waitlist_without_promotion() -> None:
    cohort = a_cohort(capacity=1, enrolled=[ANA], waitlisted=[BEN, CAL])

    cohort.withdraw(BEN, "Found another group")

    assert then(cohort) == [
        (
            "ParticipantWithdrawn",
            {"participant_id": BEN, "reason": "Found another group", "was_waitlisted": True},
        )
    ]
    assert (cohort.enrolled, cohort.waitlist) == ([ANA], [CAL])


@pytest.mark.parametrize("status", [S.COMPLETED, S.CANCELLED])
def test_withdraw_when_cohort_ended_does_not_promote(status: CohortStatus) -> None:
    cohort = a_cohort(S.RUNNING, capacity=1, enrolled=[ANA], waitlisted=[BEN])
    cohort.complete() if status == S.COMPLETED else cohort.cancel("Venue closed")
    given(cohort)

    cohort.withdraw(ANA, "Consent withdrawn")

    assert names(cohort.collect_events()) == ["ParticipantWithdrawn"]
    assert cohort.waitlist == [BEN]


def test_withdraw_when_not_enrolled_or_waitlisted_raises_not_enrolled() -> None:
    cohort = a_cohort(enrolled=[ANA])

    with rejected(cohort, NotEnrolled):
        cohort.withdraw(BEN, "Never joined")


@pytest.mark.parametrize("reason", [None, "", "  "])
def test_withdraw_when_no_reason_given_records_none(reason: str | None) -> None:
    cohort = a_cohort(enrolled=[ANA])

    cohort.withdraw(ANA, reason)

    assert then(cohort) == [
        ("ParticipantWithdrawn", {"participant_id": ANA, "reason": None, "was_waitlisted": False})
    ]


def test_change_capacity_when_raised_promotes_heads_of_waitlist_in_order() -> None:
    cohort = a_cohort(capacity=1, enrolled=[ANA], waitlisted=[BEN, CAL, DEV])

    cohort.change_capacity(3)

    assert then(cohort) == [
        ("CapacityChanged", {"capacity": 3}),
        ("ParticipantPromoted", {"participant_id": BEN}),
        ("ParticipantPromoted", {"participant_id": CAL}),
    ]
    assert (cohort.enrolled, cohort.waitlist) == ([ANA, BEN, CAL], [DEV])


def test_change_capacity_when_lowered_to_number_enrolled_records_capacity_changed() -> None:
    cohort = a_cohort(capacity=3, enrolled=[ANA, BEN])

    cohort.change_capacity(2)

    assert then(cohort) == [("CapacityChanged", {"capacity": 2})]


def test_change_capacity_when_unchanged_records_nothing() -> None:
    cohort = a_cohort(capacity=2)

    cohort.change_capacity(2)

    assert then(cohort) == []


def test_change_capacity_when_below_enrolled_raises_capacity_below_enrolled() -> None:
    cohort = a_cohort(capacity=2, enrolled=[ANA, BEN])

    with rejected(cohort, CapacityBelowEnrolled) as error:
        cohort.change_capacity(1)

    assert error.value.details == {"capacity": 1, "enrolled": 2}


@pytest.mark.parametrize("capacity", [0, -1])
def test_change_capacity_when_below_one_raises_invalid_capacity(capacity: int) -> None:
    cohort = a_cohort()

    with rejected(cohort, InvalidCapacity):
        cohort.change_capacity(capacity)


def test_change_capacity_when_drop_in_raises_cohort_is_drop_in() -> None:
    cohort = a_drop_in(S.OPEN)

    with rejected(cohort, CohortIsDropIn):
        cohort.change_capacity(10)


@pytest.mark.parametrize("status", [S.COMPLETED, S.CANCELLED])
def test_change_capacity_when_ended_raises_cohort_ended(status: CohortStatus) -> None:
    cohort = a_cohort(status)

    with rejected(cohort, CohortEnded):
        cohort.change_capacity(5)


# --- facilitators, sessions, attendance -------------------------------------


def test_assign_facilitator_when_new_records_facilitator_assigned() -> None:
    cohort = a_cohort(S.RUNNING)

    cohort.assign_facilitator(HAL, "CO")

    assert then(cohort) == [("FacilitatorAssigned", {"facilitator_id": HAL, "role": "CO"})]
    assert cohort.facilitators == {
        FAY: FacilitatorRole.LEAD,
        GUS: FacilitatorRole.CO,
        HAL: FacilitatorRole.CO,
    }


def test_assign_facilitator_when_already_assigned_raises_facilitator_already_assigned() -> None:
    cohort = a_cohort()

    with rejected(cohort, FacilitatorAlreadyAssigned):
        cohort.assign_facilitator(FAY, "CO")


def test_assign_facilitator_when_role_unknown_raises_invalid_input() -> None:
    cohort = a_cohort()

    with rejected(cohort, InvalidInput) as error:
        cohort.assign_facilitator(HAL, "HELPER")

    assert error.value.details["field"] == "role"


@pytest.mark.parametrize("status", [S.COMPLETED, S.CANCELLED])
def test_assign_facilitator_when_ended_raises_cohort_ended(status: CohortStatus) -> None:
    cohort = a_cohort(status)

    with rejected(cohort, CohortEnded):
        cohort.assign_facilitator(HAL, "CO")


def test_unassign_facilitator_when_assigned_records_facilitator_unassigned() -> None:
    cohort = a_cohort()

    cohort.unassign_facilitator(GUS)

    assert then(cohort) == [("FacilitatorUnassigned", {"facilitator_id": GUS})]
    assert cohort.facilitators == {FAY: FacilitatorRole.LEAD}


def test_unassign_facilitator_when_not_assigned_records_nothing() -> None:
    cohort = a_cohort()

    cohort.unassign_facilitator(HAL)

    assert then(cohort) == []


def test_schedule_session_when_not_ended_records_session_scheduled_in_utc() -> None:
    cohort = a_cohort(S.RUNNING)
    session_id = uuid4()
    local = datetime(2025, 3, 11, 19, 30, tzinfo=timezone(timedelta(hours=1)))

    cohort.schedule_session(session_id, local)

    [(name, data)] = then(cohort)
    assert (name, data) == ("SessionScheduled", {"session_id": session_id, "starts_at": local})
    assert data["starts_at"].tzinfo is timezone.utc
    assert cohort.sessions[session_id] == local


def test_schedule_session_when_datetime_naive_raises_invalid_input() -> None:
    cohort = a_cohort()

    with rejected(cohort, InvalidInput):
        cohort.schedule_session(uuid4(), datetime(2025, 3, 11, 18, 30))


def test_schedule_session_when_id_already_scheduled_raises_invalid_input() -> None:
    cohort = a_cohort()

    with rejected(cohort, InvalidInput):
        cohort.schedule_session(SESSION, SESSION_AT)


@pytest.mark.parametrize("status", [S.COMPLETED, S.CANCELLED])
def test_schedule_session_when_ended_raises_cohort_ended(status: CohortStatus) -> None:
    cohort = a_cohort(status)

    with rejected(cohort, CohortEnded):
        cohort.schedule_session(uuid4(), SESSION_AT)


@pytest.mark.parametrize("status", ["PRESENT", "ABSENT_EXCUSED", "ABSENT_UNEXCUSED"])
def test_record_attendance_when_enrolled_member_records_attendance(status: str) -> None:
    cohort = a_cohort(S.RUNNING, enrolled=[ANA])

    cohort.record_attendance(SESSION, ANA, status)

    assert then(cohort) == [
        ("AttendanceRecorded", {"session_id": SESSION, "participant_id": ANA, "status": status})
    ]


def test_record_attendance_when_recorded_again_records_the_replacement() -> None:
    cohort = a_cohort(S.RUNNING, enrolled=[ANA])
    cohort.record_attendance(SESSION, ANA, "ABSENT_UNEXCUSED")
    given(cohort)

    cohort.record_attendance(SESSION, ANA, "ABSENT_EXCUSED")

    assert then(cohort) == [
        (
            "AttendanceRecorded",
            {"session_id": SESSION, "participant_id": ANA, "status": "ABSENT_EXCUSED"},
        )
    ]


def test_record_attendance_when_drop_in_accepts_anyone() -> None:
    cohort = a_drop_in(S.RUNNING)

    cohort.record_attendance(SESSION, DEV, "PRESENT")

    assert names(cohort.collect_events()) == ["AttendanceRecorded"]


@pytest.mark.parametrize("status", [S.PLANNED, S.OPEN, S.COMPLETED, S.CANCELLED])
def test_record_attendance_when_not_running_raises_attendance_not_allowed(
    status: CohortStatus,
) -> None:
    cohort = a_cohort(status, enrolled=[] if status == S.PLANNED else [ANA])

    with rejected(cohort, AttendanceNotAllowed):
        cohort.record_attendance(SESSION, ANA, "PRESENT")


def test_record_attendance_when_session_unknown_raises_session_not_found() -> None:
    cohort = a_cohort(S.RUNNING, enrolled=[ANA])

    with rejected(cohort, SessionNotFound):
        cohort.record_attendance(uuid4(), ANA, "PRESENT")


def test_record_attendance_when_waitlisted_raises_not_enrolled() -> None:
    cohort = a_cohort(S.RUNNING, capacity=1, enrolled=[ANA], waitlisted=[BEN])

    with rejected(cohort, NotEnrolled):
        cohort.record_attendance(SESSION, BEN, "PRESENT")


def test_record_attendance_when_status_unknown_raises_invalid_input() -> None:
    cohort = a_cohort(S.RUNNING, enrolled=[ANA])

    with rejected(cohort, InvalidInput):
        cohort.record_attendance(SESSION, ANA, "LATE")


# --- serialisation -----------------------------------------------------------


def test_every_event_round_trips_through_the_store_mapper(round_trip) -> None:
    cohort = Cohort.plan(PROGRAMME, "Tuesday group", "ENROLLED", 1, STARTS_ON, "Room 4", 1)
    cohort.assign_facilitator(FAY, "LEAD")
    cohort.assign_facilitator(GUS, "CO")
    cohort.unassign_facilitator(GUS)
    cohort.schedule_session(SESSION, SESSION_AT)
    cohort.open_enrolment()
    cohort.enrol(ANA)
    cohort.enrol(BEN)
    cohort.change_capacity(2)
    cohort.enrol(CAL)
    cohort.withdraw(CAL)
    cohort.start(STARTS_ON, [FAY])
    cohort.record_attendance(SESSION, ANA, "PRESENT")
    cohort.correct_attendance(SESSION, ANA, "ABSENT_EXCUSED", "aesgcm1:sealed")
    later = uuid4()
    cohort.schedule_session(later, SESSION_AT + timedelta(days=7))
    cohort.reschedule_session(later, SESSION_AT + timedelta(days=8))
    cohort.cancel_session(later, None)
    cohort.complete()
    other = Cohort.plan(PROGRAMME, "Café", "DROP_IN", None, STARTS_ON, None, 1)
    other.cancel("No venue")
    events = [*cohort.collect_events(), *other.collect_events()]

    for domain_event in events:
        round_trip(domain_event)
    assert set(names(events)) == event_classes(Cohort)


def test_snapshot_round_trips_through_the_store_mapper(snapshot_round_trip) -> None:
    cohort = a_cohort(S.RUNNING, capacity=1, enrolled=[ANA], waitlisted=[BEN])

    restored = snapshot_round_trip(cohort)

    assert restored.status is S.RUNNING and restored.format is CohortFormat.ENROLLED
    assert restored.facilitators == {FAY: FacilitatorRole.LEAD, GUS: FacilitatorRole.CO}
    assert restored.sessions == {SESSION: SESSION_AT}
    restored.withdraw(ANA, "Moved away")
    assert restored.enrolled == [BEN]


def test_snapshot_of_version_1_state_loads_with_its_order_and_keeps_deciding(mapper) -> None:
    # Snapshots written before class_version 2 hold the members as lists of UUIDs.
    cohort = a_cohort(S.OPEN, capacity=1, enrolled=[ANA], waitlisted=[BEN, CAL])
    snapshot = Cohort.Snapshot.take(cohort)
    old = dict(snapshot.state)
    del old["class_version"]
    old["_enrolled"], old["_waitlist"] = [ANA], [BEN, CAL]
    stored = mapper.to_stored_event(Cohort.Snapshot(
        originator_id=cohort.id, originator_version=cohort.version,
        timestamp=snapshot.timestamp, topic=snapshot.topic, state=old))

    restored = mapper.to_domain_event(stored).mutate(None)

    assert restored.enrolled == [ANA] and restored.waitlist == [BEN, CAL]
    with rejected(restored, AlreadyEnrolled):
        restored.enrol(CAL)
    restored.withdraw(ANA)
    assert restored.enrolled == [BEN] and restored.waitlist_head(5) == [CAL]
