from __future__ import annotations

from program.domain import EventAlreadySkipped, InvalidInput, ProjectionMaintenance

from .gwt import given, rejected, then


def maintenance(*skipped: int) -> ProjectionMaintenance:
    m = ProjectionMaintenance.open("cohort_dashboard")
    for position in skipped:
        m.skip(position, "Cohort.Planned", "poison")
    return given(m)


def test_open_when_named_derives_its_id_from_the_projection() -> None:
    assert maintenance().id == ProjectionMaintenance.create_id("cohort_dashboard")


def test_skip_when_not_skipped_yet_records_event_skipped() -> None:
    m = maintenance()

    m.skip(42, "Cohort.Planned", "NUL in the venue")

    assert then(m) == [("EventSkipped", {"position": 42, "event_type": "Cohort.Planned",
                                         "reason": "NUL in the venue"})]
    assert m.skipped == {42}


def test_skip_when_already_skipped_is_rejected() -> None:
    m = maintenance(42)

    with rejected(m, EventAlreadySkipped):
        m.skip(42, "Cohort.Planned", "again")


def test_skip_when_no_reason_is_bad_input() -> None:
    m = maintenance()

    with rejected(m, InvalidInput):
        m.skip(42, None, " ")


def test_request_retry_when_asked_records_retry_requested() -> None:
    m = maintenance()

    m.request_retry(42, "index rebuilt")

    assert then(m) == [("RetryRequested", {"position": 42, "reason": "index rebuilt"})]
