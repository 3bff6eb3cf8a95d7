"""Given / when / then: the rules a charity relies on (issue 7 "Rules that hold"), one
rule per test, each refusal with its code and nothing recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from program.domain import (
    Cohort,
    CohortNotYetDue,
    Consent,
    ConsentNotGiven,
    ConsentState,
    Facilitator,
    InvalidInput,
    NotEnrolled,
    Participant,
    Programme,
    ScoreOutOfRange,
    SessionCancelled,
    SessionNotStarted,
    TrainingRequired,
    UnknownMeasure,
    UnknownPurpose,
)
from program.domain.catalogue import INSTRUMENTS

from .gwt import given, rejected, then

STARTS_ON = date(2026, 3, 2)
FIRST_SESSION = datetime(2026, 3, 2, 18, tzinfo=UTC)
ANA, BEN = uuid4(), uuid4()
FAY, GUS = uuid4(), uuid4()


def a_programme(**kwargs: object) -> Programme:
    return given(Programme.create("Hope", "", **kwargs))  # type: ignore[arg-type]


def a_running_cohort(format: str = "ENROLLED") -> tuple[Cohort, object]:
    cohort = Cohort.plan(uuid4(), "Tue", format, 4 if format == "ENROLLED" else None,
                         STARTS_ON, None, 1)
    cohort.assign_facilitator(FAY, "LEAD")
    session = uuid4()
    cohort.schedule_session(session, FIRST_SESSION)
    if format == "ENROLLED":
        cohort.open_enrolment()
        cohort.enrol(ANA)
    cohort.start(STARTS_ON, [FAY])
    return given(cohort), session


# --- the catalogue: purposes and measures ---------------------------------------------------


def test_create_programme_when_measure_is_a_known_instrument_takes_its_range() -> None:
    programme = Programme.create("Hope", "", None, ["WEMWBS", "SWEMWBS", "HHI"])

    assert programme.measure_ranges == {"WEMWBS": [14.0, 70.0], "SWEMWBS": [7.0, 35.0],
                                        "HHI": [12.0, 48.0]}


def test_create_programme_when_measure_unknown_and_undeclared_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput) as error:
        Programme.create("Hope", "", None, ["WEMBWS"])  # a typo

    assert error.value.details["field"] == "outcome_measures"


def test_create_programme_when_custom_measure_declared_takes_its_range() -> None:
    programme = Programme.create("Hope", "", None, ["MY-SCALE"],
                                 custom_measures=[{"code": "MY-SCALE", "min_score": 1,
                                                   "max_score": 5}])

    assert programme.measure_ranges == {"MY-SCALE": [1.0, 5.0]}


def test_check_purpose_when_purpose_is_a_typo_raises_unknown_purpose() -> None:
    programme = a_programme(optional_consent_purposes=["research"])

    with pytest.raises(UnknownPurpose) as error:
        programme.check_purpose("reserch")

    assert error.value.code == "UNKNOWN_PURPOSE"


def test_check_purpose_when_optional_purpose_declared_allows_it() -> None:
    programme = a_programme(optional_consent_purposes=["research"])

    programme.check_purpose("research")
    programme.check_purpose("programme-participation")


@pytest.mark.parametrize("measure, score", [("WEMWBS", 13), ("WEMWBS", 71), ("SWEMWBS", 36),
                                            ("HHI", 11.5), ("HHI", 49)])
def test_record_outcome_when_score_out_of_instrument_range_raises_score_out_of_range(
    measure: str, score: float
) -> None:
    ranges = {m: list(r) for m, r in INSTRUMENTS.items()}
    participant = given(Participant.register(ANA, "aesgcm1:x", uuid4()))

    with rejected(participant, ScoreOutOfRange):
        participant.record_outcome(uuid4(), measure, "BASELINE", score, ranges)


def test_record_outcome_when_measure_not_in_catalogue_raises_unknown_measure() -> None:
    participant = given(Participant.register(ANA, "aesgcm1:x", uuid4()))

    with rejected(participant, UnknownMeasure):
        participant.record_outcome(uuid4(), "WEMBWS", "BASELINE", 40, {"WEMWBS": [14, 70]})


def test_amend_outcome_when_recorded_keeps_the_original_in_the_event() -> None:
    cohort = uuid4()
    participant = Participant.register(ANA, "aesgcm1:x", uuid4())
    participant.record_outcome(cohort, "HHI", "BASELINE", 30, {"HHI": [12, 48]})
    given(participant)

    participant.amend_outcome(cohort, "HHI", "BASELINE", 33, {"HHI": [12, 48]}, "aesgcm1:why")

    [(name, data)] = then(participant)
    assert name == "OutcomeAmended"
    assert (data["score"], data["previous_score"]) == (33.0, 30.0)


# --- attendance and outcomes only for members; attendance only once a session started ------


def test_record_attendance_when_person_not_enrolled_raises_not_enrolled() -> None:
    cohort, session = a_running_cohort()

    with rejected(cohort, NotEnrolled):
        cohort.record_attendance(session, BEN, "PRESENT", FIRST_SESSION)


def test_record_attendance_when_session_has_not_started_raises_session_not_started() -> None:
    cohort, session = a_running_cohort()

    with rejected(cohort, SessionNotStarted):
        cohort.record_attendance(session, ANA, "PRESENT", FIRST_SESSION - timedelta(minutes=1))


def test_record_attendance_when_session_started_records_it() -> None:
    cohort, session = a_running_cohort()

    cohort.record_attendance(session, ANA, "PRESENT", FIRST_SESSION)

    assert [name for name, _ in then(cohort)] == ["AttendanceRecorded"]


def test_record_attendance_when_session_cancelled_raises_session_cancelled() -> None:
    cohort, session = a_running_cohort()
    cohort.cancel_session(session, None)
    given(cohort)

    with rejected(cohort, SessionCancelled):
        cohort.record_attendance(session, ANA, "PRESENT", FIRST_SESSION)


def test_correct_attendance_when_recorded_replaces_the_mark_keeping_the_previous() -> None:
    cohort, session = a_running_cohort()
    cohort.record_attendance(session, ANA, "ABSENT_UNEXCUSED", FIRST_SESSION)
    given(cohort)

    cohort.correct_attendance(session, ANA, "ABSENT_EXCUSED", None)

    [(name, data)] = then(cohort)
    assert name == "AttendanceCorrected" and data["previous_status"] == "ABSENT_UNEXCUSED"


# --- dates: a cohort does not start early, sessions are not scheduled before it -----------


def test_start_when_before_starts_on_raises_before_start_date() -> None:
    cohort = Cohort.plan(uuid4(), "Tue", "DROP_IN", None, STARTS_ON, None, 1)
    cohort.assign_facilitator(FAY, "LEAD")
    given(cohort)

    with rejected(cohort, CohortNotYetDue) as error:
        cohort.start(STARTS_ON - timedelta(days=1), [FAY])

    assert error.value.code == "BEFORE_START_DATE"


def test_schedule_session_when_before_starts_on_raises_before_start_date() -> None:
    cohort = given(Cohort.plan(uuid4(), "Tue", "DROP_IN", None, STARTS_ON, None, 1))

    with rejected(cohort, CohortNotYetDue):
        cohort.schedule_session(uuid4(), FIRST_SESSION - timedelta(days=1))


def test_reschedule_session_when_before_starts_on_raises_before_start_date() -> None:
    cohort = Cohort.plan(uuid4(), "Tue", "DROP_IN", None, STARTS_ON, None, 1)
    session = uuid4()
    cohort.schedule_session(session, FIRST_SESSION)
    given(cohort)

    with rejected(cohort, CohortNotYetDue):
        cohort.reschedule_session(session, FIRST_SESSION - timedelta(days=2))


# --- facilitators need valid training to be activated --------------------------------------


def test_activate_when_no_training_credential_raises_training_required() -> None:
    facilitator = Facilitator.register(uuid4(), "aesgcm1:eA==", 2)
    facilitator.record_credential("SAFEGUARDING", date(2030, 1, 1))
    given(facilitator)

    with rejected(facilitator, TrainingRequired):
        facilitator.activate(STARTS_ON)


def test_activate_when_training_expired_raises_training_required() -> None:
    facilitator = Facilitator.register(uuid4(), "aesgcm1:eA==", 2)
    facilitator.record_credential("PEER_SUPPORT_TRAINING", STARTS_ON - timedelta(days=1))
    given(facilitator)

    with rejected(facilitator, TrainingRequired):
        facilitator.activate(STARTS_ON)


def test_activate_when_training_valid_records_activated() -> None:
    facilitator = Facilitator.register(uuid4(), "aesgcm1:eA==", 2)
    facilitator.record_credential("PEER_SUPPORT_TRAINING", STARTS_ON)
    given(facilitator)

    facilitator.activate(STARTS_ON)

    assert [name for name, _ in then(facilitator)] == ["Activated"]


# --- consent: never given, refused, revoked, expired ---------------------------------------


def test_withdraw_when_never_given_raises_consent_not_given() -> None:
    consent = given(Consent.record(ANA, "programme-participation"))

    with rejected(consent, ConsentNotGiven) as error:
        consent.withdraw("phone", "pm", None, FIRST_SESSION)

    assert error.value.code == "CONSENT_NOT_GIVEN"


def test_state_on_when_past_valid_until_reads_expired() -> None:
    consent = Consent.record(ANA, "programme-participation")
    consent.give("n", "v1", "en", "consent", [], "paper-form", "pm", STARTS_ON, FIRST_SESSION
                 - timedelta(days=30))

    assert consent.state_on(STARTS_ON) is ConsentState.GIVEN
    assert consent.state_on(STARTS_ON + timedelta(days=1)) is ConsentState.EXPIRED
    assert not consent.is_valid_on(STARTS_ON + timedelta(days=1))
