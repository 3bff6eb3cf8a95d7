"""The eventsourcing library's own PostgreSQL recorder reads what our store writes."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

from program.domain.cohort import Cohort
from program.domain.programme import Programme
from program.store.eventstore import EventStore
from program.store.mapping import create_mapper
from program.store.repository import Repository


def library_recorder(url: str) -> PostgresApplicationRecorder:
    parts = urlsplit(url)
    host = parse_qs(parts.query).get("host", [parts.hostname or "localhost"])[0]
    datastore = PostgresDatastore(
        dbname=parts.path.lstrip("/"),
        host=host,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or "",
    )
    return PostgresApplicationRecorder(datastore, events_table_name="stored_events")


async def test_library_recorder_reads_every_event_and_mapper_rebuilds_equal_events(
    store: EventStore, db_url: str
) -> None:
    mapper = create_mapper()
    repository = Repository(store, mapper)
    programme = Programme.create("Hope Group", "peer support", None, ["HHI", "WEMWBS"], 2)
    programme.activate()
    cohort = Cohort.plan(programme.id, "Tuesdays", "ENROLLED", 8, date.today() + timedelta(7), "Hall", 2)
    cohort.open_enrolment()
    originals = list(programme.pending_events) + list(cohort.pending_events)
    await repository.save(programme, cohort, metadata={"actor": "t", "role": "ADMIN"})

    recorder = library_recorder(db_url)
    try:
        notifications = recorder.select_notifications(start=1, limit=10_000)
        ours = await store.read_after(0, 10_000)
        assert [n.id for n in notifications] == [r.position for r in ours]
        assert [bytes(n.state) for n in notifications] == [r.state for r in ours]
        for aggregate in (programme, cohort):
            stored = recorder.select_events(aggregate.id)
            rebuilt = [mapper.to_domain_event(s) for s in stored]
            expected = [e for e in originals if e.originator_id == aggregate.id]
            assert rebuilt == expected
    finally:
        recorder.datastore.close()
