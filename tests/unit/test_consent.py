from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4, uuid5

import pytest

from program.domain import (
    CONSENT_NAMESPACE,
    Consent,
    ConsentRequired,
    ConsentState,
    ConsentNotGiven,
    InvalidConsentChange,
    InvalidInput,
)

from .gwt import event_classes, given, names, rejected, then

PARTICIPANT = uuid4()
PURPOSE = "programme-participation"
AT = datetime(2025, 3, 4, 10, 0, tzinfo=timezone.utc)
UNTIL = date(2026, 3, 4)
C = ConsentState


def giving(**changes: Any) -> dict[str, Any]:
    """Arguments of a typical consent given on paper at intake."""
    return {
        "notice_id": "intake-notice",
        "notice_version": "3",
        "language": "en-GB",
        "lawful_basis": "explicit-consent",
        "recipients": ["referrer-nhs-trust", "evaluator-uni"],
        "method": "paper-form",
        "recorded_by": "manager:alex",
        "valid_until": UNTIL,
        "at": AT,
        **changes,
    }


REFUSING = {
    k: giving()[k]
    for k in ("notice_id", "notice_version", "language", "method", "recorded_by", "at")
}


def a_consent(state: ConsentState | None = C.GIVEN, **give: Any) -> Consent:
    consent = Consent.record(PARTICIPANT, PURPOSE)
    if state is C.REFUSED:
        consent.refuse(**REFUSING)
    elif state is not None:
        consent.give(**giving(**give))
    if state is C.WITHDRAWN:
        consent.withdraw("phone", "manager:alex", None, AT)
    if state is C.REVOKED:
        consent.revoke("dpo:sam", "Recorded without a valid notice", AT)
    if state is C.EXPIRED:
        consent.expire(datetime(2026, 3, 5, tzinfo=timezone.utc))
    assert consent.state is state
    return given(consent)


# --- opening -----------------------------------------------------------------


def test_record_when_new_records_opened_under_deterministic_id() -> None:
    consent = Consent.record(PARTICIPANT, f" {PURPOSE} ")

    assert then(consent) == [("Opened", {"participant_id": PARTICIPANT, "purpose": PURPOSE})]
    assert consent.id == uuid5(CONSENT_NAMESPACE, f"{PARTICIPANT}:{PURPOSE}")
    assert consent.id == Consent.create_id(PARTICIPANT, PURPOSE)
    assert consent.state is None


def test_create_id_when_purpose_differs_gives_another_id() -> None:
    assert Consent.create_id(PARTICIPANT, "evaluation") != Consent.create_id(PARTICIPANT, PURPOSE)
    assert Consent.create_id(uuid4(), PURPOSE) != Consent.create_id(PARTICIPANT, PURPOSE)


def test_record_when_purpose_blank_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="purpose"):
        Consent.record(PARTICIPANT, " ")


# --- give / refuse -------------------------------------------------------------


def test_give_when_not_yet_recorded_records_given_with_full_change_record() -> None:
    consent = a_consent(None)

    consent.give(**giving(recipients=["evaluator-uni", "referrer-nhs-trust", "evaluator-uni"]))

    assert then(consent) == [
        (
            "Given",
            {
                "notice_id": "intake-notice",
                "notice_version": "3",
                "notice_hash": None,
                "language": "en-GB",
                "lawful_basis": "explicit-consent",
                "recipients": ["evaluator-uni", "referrer-nhs-trust"],
                "method": "paper-form",
                "recorded_by": "manager:alex",
                "valid_until": UNTIL,
                "at": AT,
            },
        )
    ]
    assert consent.state is C.GIVEN
    assert (consent.notice_id, consent.notice_version) == ("intake-notice", "3")
    assert consent.valid_until == UNTIL


def test_give_when_given_records_renewal_under_new_notice_version() -> None:
    consent = a_consent(C.GIVEN)

    consent.give(**giving(notice_version="4", valid_until=None, recipients=[]))

    assert names(consent.collect_events()) == ["Given"]
    assert (consent.notice_version, consent.valid_until, consent.recipients) == ("4", None, [])


@pytest.mark.parametrize("state", [C.REFUSED, C.WITHDRAWN, C.REVOKED, C.EXPIRED])
def test_give_when_previously_ended_records_given_again(state: ConsentState) -> None:
    consent = a_consent(state)

    consent.give(**giving(at=datetime(2026, 4, 1, tzinfo=timezone.utc), valid_until=None))

    assert names(consent.collect_events()) == ["Given"]
    assert consent.state is C.GIVEN


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lawful_basis", "because"),
        ("method", " "),
        ("notice_id", ""),
        ("notice_version", None),
        ("language", ""),
        ("recorded_by", ""),
        ("recipients", "evaluator-uni"),
        ("recipients", ["evaluator-uni", ""]),
        ("valid_until", datetime(2026, 3, 4, tzinfo=timezone.utc)),
        ("at", datetime(2025, 3, 4, 10, 0)),
    ],
)
def test_give_when_a_field_is_malformed_raises_invalid_input(field: str, value: Any) -> None:
    consent = a_consent(None)

    with rejected(consent, InvalidInput) as error:
        consent.give(**giving(**{field: value}))

    # A bad list item is named with its index: recipients[1].
    assert error.value.details["field"].partition("[")[0] == field


def test_give_when_valid_until_before_the_day_given_raises_invalid_input() -> None:
    consent = a_consent(None)

    with rejected(consent, InvalidInput) as error:
        consent.give(**giving(valid_until=date(2025, 3, 3)))

    assert error.value.details["field"] == "valid_until"


def test_give_when_at_in_another_timezone_records_it_in_utc() -> None:
    consent = a_consent(None)
    local = datetime(2025, 3, 4, 11, 0, tzinfo=timezone(timedelta(hours=1)))

    consent.give(**giving(at=local))

    [(_, data)] = then(consent)
    assert data["at"] == AT and data["at"].tzinfo is timezone.utc


@pytest.mark.parametrize("state", [None, C.REFUSED, C.WITHDRAWN, C.REVOKED, C.EXPIRED])
def test_refuse_when_not_given_records_refused(state: ConsentState | None) -> None:
    consent = a_consent(state)

    consent.refuse(**REFUSING)

    assert then(consent) == [("Refused", {**REFUSING, "notice_hash": None})]
    assert consent.state is C.REFUSED and consent.recipients == []


def test_refuse_when_given_raises_invalid_consent_change() -> None:
    consent = a_consent(C.GIVEN)

    with rejected(consent, InvalidConsentChange) as error:
        consent.refuse(**REFUSING)

    assert "withdraw or revoke it instead" in str(error.value)


# --- withdraw / revoke / expire ------------------------------------------------


def test_withdraw_when_given_records_withdrawn() -> None:
    consent = a_consent(C.GIVEN)

    consent.withdraw("email", "manager:alex", " Wants a break ", AT)

    assert then(consent) == [
        (
            "Withdrawn",
            {
                "method": "email",
                "recorded_by": "manager:alex",
                "reason": "Wants a break",
                "at": AT,
            },
        )
    ]
    assert consent.state is C.WITHDRAWN


def test_withdraw_when_no_reason_given_records_none() -> None:
    consent = a_consent(C.GIVEN)

    consent.withdraw("email", "manager:alex", "", AT)

    [(_, data)] = then(consent)
    assert data["reason"] is None


@pytest.mark.parametrize("state", [None, C.REFUSED, C.WITHDRAWN, C.REVOKED, C.EXPIRED])
def test_withdraw_when_not_given_raises_consent_not_given(state: ConsentState | None) -> None:
    consent = a_consent(state)

    with rejected(consent, ConsentNotGiven) as error:
        consent.withdraw("email", "manager:alex", None, AT)

    assert error.value.details["change"] == "withdrawn"


def test_withdraw_when_method_blank_raises_invalid_input() -> None:
    consent = a_consent(C.GIVEN)

    with rejected(consent, InvalidInput):
        consent.withdraw("", "manager:alex", None, AT)


def test_revoke_when_given_records_revoked() -> None:
    consent = a_consent(C.GIVEN)

    consent.revoke("dpo:sam", "Notice was out of date", AT)

    assert then(consent) == [
        ("Revoked", {"recorded_by": "dpo:sam", "reason": "Notice was out of date", "at": AT})
    ]
    assert consent.state is C.REVOKED


@pytest.mark.parametrize("state", [None, C.REFUSED, C.WITHDRAWN, C.REVOKED, C.EXPIRED])
def test_revoke_when_not_given_raises_consent_not_given(state: ConsentState | None) -> None:
    consent = a_consent(state)

    with rejected(consent, ConsentNotGiven):
        consent.revoke("dpo:sam", "Notice was out of date", AT)


def test_revoke_when_reason_blank_raises_invalid_input() -> None:
    consent = a_consent(C.GIVEN)

    with rejected(consent, InvalidInput):
        consent.revoke("dpo:sam", " ", AT)


def test_expire_when_past_valid_until_records_expired() -> None:
    consent = a_consent(C.GIVEN, valid_until=UNTIL)
    at = datetime(2026, 3, 5, 0, 5, tzinfo=timezone.utc)

    consent.expire(at)

    assert then(consent) == [("Expired", {"at": at})]
    assert consent.state is C.EXPIRED


def test_expire_when_valid_until_not_passed_raises_invalid_consent_change() -> None:
    consent = a_consent(C.GIVEN, valid_until=UNTIL)

    with rejected(consent, InvalidConsentChange) as error:
        consent.expire(datetime(2026, 3, 4, 23, 59, tzinfo=timezone.utc))

    assert "valid until 2026-03-04" in str(error.value)


def test_expire_when_no_end_date_raises_invalid_consent_change() -> None:
    consent = a_consent(C.GIVEN, valid_until=None)

    with rejected(consent, InvalidConsentChange):
        consent.expire(datetime(2030, 1, 1, tzinfo=timezone.utc))


@pytest.mark.parametrize("state", [None, C.REFUSED, C.WITHDRAWN, C.REVOKED, C.EXPIRED])
def test_expire_when_not_given_raises_consent_not_given(state: ConsentState | None) -> None:
    consent = a_consent(state)

    with rejected(consent, ConsentNotGiven):
        consent.expire(datetime(2030, 1, 1, tzinfo=timezone.utc))


# --- queries -----------------------------------------------------------------


def test_is_valid_on_when_given_holds_through_valid_until() -> None:
    consent = a_consent(C.GIVEN, valid_until=UNTIL)

    assert consent.is_valid_on(UNTIL)
    assert not consent.is_valid_on(UNTIL + timedelta(days=1))


def test_is_valid_on_when_given_without_end_date_is_always_true() -> None:
    assert a_consent(C.GIVEN, valid_until=None).is_valid_on(date(2099, 1, 1))


@pytest.mark.parametrize("state", [None, C.REFUSED, C.WITHDRAWN, C.REVOKED, C.EXPIRED])
def test_is_valid_on_when_not_given_is_false(state: ConsentState | None) -> None:
    assert not a_consent(state).is_valid_on(date(2025, 6, 1))


def test_covers_when_recipient_listed_and_valid_is_true() -> None:
    consent = a_consent(C.GIVEN)

    assert consent.covers("evaluator-uni", date(2025, 6, 1))
    assert not consent.covers("marketing-partner", date(2025, 6, 1))
    assert not consent.covers("evaluator-uni", UNTIL + timedelta(days=1))


def test_consent_required_names_participant_and_purpose() -> None:
    error = ConsentRequired(PARTICIPANT, PURPOSE)

    assert error.code == "CONSENT_REQUIRED"
    assert str(error) == (
        f"Participant {PARTICIPANT} has no valid consent for purpose 'programme-participation'."
    )


# --- serialisation -----------------------------------------------------------


def test_every_event_round_trips_through_the_store_mapper(round_trip) -> None:
    consent = Consent.record(PARTICIPANT, PURPOSE)
    consent.refuse(**REFUSING)
    consent.give(**giving())
    consent.withdraw("email", "manager:alex", None, AT)
    consent.give(**giving())
    consent.revoke("dpo:sam", "Wrong notice", AT)
    consent.give(**giving())
    consent.expire(datetime(2026, 3, 5, tzinfo=timezone.utc))
    events = consent.collect_events()

    for domain_event in events:
        round_trip(domain_event)
    assert set(names(events)) == event_classes(Consent)


def test_snapshot_round_trips_through_the_store_mapper(snapshot_round_trip) -> None:
    consent = a_consent(C.GIVEN)

    restored = snapshot_round_trip(consent)

    assert restored.state is C.GIVEN and restored.covers("evaluator-uni", date(2025, 6, 1))
    restored.withdraw("email", "manager:alex", None, AT)
    assert restored.state is C.WITHDRAWN


# --- the notice's digest ----------------------------------------------------------

NOTICE_SHA256 = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"


def test_give_when_notice_hash_given_records_it_in_lower_case() -> None:
    consent = a_consent(None)

    consent.give(**giving(), notice_hash=NOTICE_SHA256)

    assert then(consent)[0][1]["notice_hash"] == NOTICE_SHA256.lower()


@pytest.mark.parametrize("bad", ["abc", "g" * 64, NOTICE_SHA256 + "0"])
def test_give_when_notice_hash_is_not_a_sha256_raises_invalid_input(bad: str) -> None:
    consent = a_consent(None)

    with rejected(consent, InvalidInput) as error:
        consent.give(**giving(), notice_hash=bad)
    assert "notice_hash" in str(error.value)


def test_given_v1_event_when_read_upcasts_without_a_notice_hash(round_trip) -> None:
    from program.store.mapping import create_mapper
    from eventsourcing.persistence import StoredEvent

    consent = a_consent(None)
    consent.give(**giving())
    mapper = create_mapper()
    stored = mapper.to_stored_event(consent.collect_events()[-1])
    state = mapper.transcoder.decode(stored.state)
    del state["notice_hash"], state["class_version"]

    event = mapper.to_domain_event(StoredEvent(stored.originator_id, stored.originator_version,
                                               stored.topic, mapper.transcoder.encode(state)))

    assert event.notice_hash is None and event.notice_id == "intake-notice"
