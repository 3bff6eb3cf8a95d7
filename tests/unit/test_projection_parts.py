"""Pieces of the projections that need no database: decoding, tables, cursors, absences."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from eventsourcing.domain import Aggregate, event

from program.domain.cohort import Cohort
from program.domain.consent import Consent
from program.domain.facilitator import Facilitator
from program.domain.participant import Participant
from program.domain.programme import Programme
from program.projections.base import Decoder, kind_of
from program.projections.decoding import EventDecoder, EventView
from program.projections.paging import InvalidQuery, decode_cursor, encode_cursor, page_size
from program.projections.cohort_dashboard.projection import absence_streak, latest_first
from program.projections.registry import all_projections
from program.projections.tables import Rows, Table
from program.store.mapping import create_mapper


def every_kind_of_event() -> list[Any]:
    """Domain events of every aggregate, as the commands would produce them."""
    programme = Programme.create("Hope", "weekly", None, ["HHI"], 2)
    programme.activate()
    programme.update("fortnightly", None, ["research"], ["HHI", "WEMWBS"])
    f = Facilitator.register(uuid.uuid4(), "aesgcm1:eA==", 2)
    f.begin_training()
    for kind in ("PEER_SUPPORT_TRAINING", "SAFEGUARDING", "BACKGROUND_CHECK"):
        f.record_credential(kind, date(2030, 1, 1))
    f.activate(date(2026, 1, 1))
    cohort = Cohort.plan(programme.id, "Tue", "ENROLLED", 1, date(2026, 2, 1), "Hall", 1)
    cohort.open_enrolment()
    cohort.assign_facilitator(f.id, "LEAD")
    f.assign_to_cohort(cohort.id, date(2026, 1, 2))
    person, other = uuid.uuid4(), uuid.uuid4()
    cohort.enrol(person)
    cohort.enrol(other)
    cohort.start(date(2026, 2, 1), [f.id])
    session = uuid.uuid4()
    cohort.schedule_session(session, datetime(2026, 2, 3, 18, tzinfo=UTC))
    cohort.record_attendance(session, person, "PRESENT")
    cohort.correct_attendance(session, person, "ABSENT_EXCUSED", None)
    later = uuid.uuid4()
    cohort.schedule_session(later, datetime(2026, 2, 10, 18, tzinfo=UTC))
    cohort.reschedule_session(later, datetime(2026, 2, 11, 18, tzinfo=UTC))
    cohort.cancel_session(later, "aesgcm1:r")
    cohort.withdraw(person, "moved")
    p = Participant.register(person, "aesgcm1:abc", programme.id)
    p.join_cohort(cohort.id, programme.id)
    p.record_outcome(cohort.id, "HHI", "BASELINE", 31.5, programme.measure_ranges)
    p.amend_outcome(cohort.id, "HHI", "BASELINE", 32.5, programme.measure_ranges, "aesgcm1:r")
    p.erase()
    consent = Consent.record(person, "programme-participation")
    consent.give("n-1", "v1", "en", "consent", ["b", "a"], "paper-form", "admin", None,
                 datetime(2026, 1, 1, tzinfo=UTC))
    consent.withdraw("phone", "admin", None, datetime(2026, 1, 2, tzinfo=UTC))
    consent.refuse("n-1", "v2", "en", "paper-form", "admin", datetime(2026, 1, 3, tzinfo=UTC))
    consent.give("n-1", "v2", "en", "consent", [], "paper-form", "admin", None,
                 datetime(2026, 1, 4, tzinfo=UTC))
    consent.revoke("admin", "aesgcm1:r", datetime(2026, 1, 5, tzinfo=UTC))
    return [e for a in (programme, f, cohort, p, consent) for e in a.collect_events()]


def test_fast_decoding_reads_every_field_as_the_mapper_would() -> None:
    mapper = create_mapper()
    decoder = EventDecoder(mapper)
    for domain_event in every_kind_of_event():
        stored = mapper.to_stored_event(domain_event)
        fast = decoder.decode(stored.topic, stored.state, stored.originator_id,
                              stored.originator_version)
        # Classes that can upcast (Participant.Registered v2) go through the mapper.
        upcasts = getattr(type(domain_event), "class_version", 1) > 1
        assert isinstance(fast, EventView) is not upcasts, stored.topic
        expected = mapper.to_domain_event(stored)
        for name, value in expected.__dict__.items():
            assert getattr(fast, name) == value, (stored.topic, name)
            assert type(getattr(fast, name)) is type(value) or isinstance(value, uuid.UUID)
        with pytest.raises(AttributeError):
            fast.no_such_field  # noqa: B018


class Versioned(Aggregate):
    class Renamed(Aggregate.Event):
        class_version = 2
        name: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["name"] = state.pop("title")

    @event(Renamed)
    def rename(self, name: str) -> None:
        self.name = name


def test_events_that_can_upcast_go_through_the_mapper() -> None:
    mapper = create_mapper()
    thing = Versioned()
    thing.rename("new")
    stored = mapper.to_stored_event(thing.collect_events()[-1])
    old_state = stored.state.replace(b'"name"', b'"title"').replace(b',"class_version":2', b"")
    decoded = EventDecoder(mapper).decode(stored.topic, old_state, stored.originator_id, 2)
    assert not isinstance(decoded, EventView)
    assert decoded.name == "new"


def test_a_projection_decodes_only_the_kinds_it_handles() -> None:
    calls: list[str] = []
    decoder = Decoder(lambda topic, *_: calls.append(topic) or object())
    dashboard = next(p for p in all_projections() if p.name == "cohort_dashboard")
    rows = [(1, uuid.uuid4(), 1, "program.domain.cohort:Cohort.Planned", b"{}", None, None),
            (2, uuid.uuid4(), 1, "program.domain.facilitator:Facilitator.Retired", b"{}", None, None)]
    batch = decoder.envelopes(dashboard, rows)
    assert [e.kind for e in batch] == ["Cohort.Planned"] and len(calls) == 1
    assert kind_of("program.domain.cohort:Cohort.Planned") == "Cohort.Planned"


def test_table_sql_loads_and_upserts_by_key() -> None:
    table = Table.define("members", "cohort_id uuid, participant_id uuid, marks jsonb",
                         key="cohort_id, participant_id")
    assert table.key == ("cohort_id", "participant_id") and table.json_columns == ("marks",)
    assert "unnest($1::uuid[], $2::uuid[]) AS k(cohort_id, participant_id)" in table.select_sql("s")
    upsert = table.upsert_sql("s")
    assert "$3::text[]" in upsert and "x.marks::jsonb" in upsert
    assert "ON CONFLICT (cohort_id, participant_id) DO UPDATE SET marks = EXCLUDED.marks" in upsert
    assert "PRIMARY KEY (cohort_id, participant_id)" in table.ddl("s")


def test_rows_track_what_to_write_and_what_to_delete() -> None:
    rows = Rows(Table.define("t", "id int, name text", key="id"))
    rows.put({"id": 1, "name": "a"})
    rows.put({"id": 2})
    rows.delete(2)
    rows.delete(3)
    rows.put({"id": 3, "name": "back"})
    assert rows.get(2) is None and rows.get(3) == {"id": 3, "name": "back"}
    assert rows._dirty == {1, 3} and rows._deleted == {2}


def test_cursors_round_trip_and_reject_anything_else() -> None:
    key = ("Hope", uuid.UUID(int=7))
    assert decode_cursor(encode_cursor(*key), 2) == ["Hope", str(key[1])]
    assert decode_cursor(encode_cursor(42), 1) == [42]
    for bad in ("", "%%%", encode_cursor(1, 2)):
        with pytest.raises(InvalidQuery):
            decode_cursor(bad, 1)
    assert page_size(10_000) == 500
    with pytest.raises(InvalidQuery):
        page_size(-1)


def test_absence_streak_counts_from_the_latest_recorded_session_back() -> None:
    # Scheduled out of start order: slot 3 starts first, slot 0 last.
    sessions = [["s0", "2026-01-29"], ["s1", "2026-01-08"], ["s2", "2026-01-15"],
                ["s3", "2026-01-01"]]
    order = latest_first(sessions)
    assert order == [0, 2, 1, 3]
    assert absence_streak("-EUP", order) == 2  # s0 unrecorded; s2 U, s1 E, then s3 P
    assert absence_streak("P", order) == 0
    assert absence_streak("UE", order) == 2
    assert absence_streak("", order) == 0


def test_absence_streak_given_a_cancelled_session_when_counted_then_its_marks_do_not_count() -> None:
    # s1 was held, marked, then cancelled: it leaves the order and its marks with it.
    sessions = [["s0", "2026-01-01"], ["s1", None], ["s2", "2026-01-15"], ["s3", "2026-01-22"]]
    order = latest_first(sessions)
    assert order == [3, 2, 0]
    assert absence_streak("UUUU", order) == 3  # not 4: the cancelled one is not an absence
    assert absence_streak("PUUU", order) == 2  # s0 present; s1's absence does not join the run
    assert absence_streak("-U--", order) == 0


def test_every_read_model_lives_in_its_own_schema_with_a_version() -> None:
    projections = all_projections()
    assert len({p.schema for p in projections}) == len(projections) == 7
    assert all(p.schema == f"rm_{p.name}" for p in projections)
    assert all(p.schema_version().startswith(f"{p.version}:") for p in projections)


def test_storable_text_when_it_holds_nul_or_a_lone_surrogate_is_cleaned() -> None:
    from program.projections import storable

    assert storable.text("a\x00b\ud800c") == "ab\ufffdc"
    assert storable.text("plain") == "plain"
    assert storable.text(["x\x00"]) == ["x"]


def test_storable_text_when_indexed_and_too_long_keeps_distinct_values_distinct() -> None:
    from program.projections import storable

    one, two = storable.text("x" * 5000 + "1", indexed=True), storable.text("x" * 5000 + "2",
                                                                             indexed=True)
    assert one != two and len(one) <= storable.INDEXED_CHARS
    assert len(one.encode()) < 2704
    assert storable.text("x" * 5000) == "x" * 5000  # not indexed: kept whole


def test_failure_description_when_the_message_quotes_data_keeps_only_its_shape() -> None:
    from program.projections.failures import describe

    class UniqueViolation(Exception):
        sqlstate = "23505"

    error = UniqueViolation('duplicate key value "Alex Smith"; Key (name)=(Alex Smith) exists')
    assert describe(error) == ("UniqueViolation [23505]", "duplicate key value …; Key … exists")
    assert len(describe(RuntimeError("x" * 500))[1]) <= 200


def test_skip_and_retry_when_asked_for_help_say_what_they_record(capsys) -> None:
    import pytest

    from program.cli.main import build_parser

    for command in ("skip", "retry"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["projections", command, "--help"])
        assert "--reason" in capsys.readouterr().out
