"""The disclosure log kept as sets (one row per request, page or built batch), read an
entry per row: in the order written, found through the sets' indexes, and a log kept a
row per disclosure before turned into sets of one without losing or reordering any."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import asyncpg
import pytest

from program.domain.consent import Consent
from program.feeds import builder, disclose, queries, tables
from program.feeds.settings import MAX_BATCH, FeedSettings
from program.store.eventstore import EventStore
from program.store.records import NewEvent

PURPOSE = "evaluation"
OLD_LAYOUT = """
CREATE TABLE feed_disclosures (
    id bigserial PRIMARY KEY, at timestamptz NOT NULL, partner_id uuid NOT NULL,
    channel text NOT NULL, endpoint_id uuid, sequence bigint, event_id uuid NOT NULL,
    type text NOT NULL, participant_id uuid, consent_id uuid, consent_version bigint,
    outcome text NOT NULL, reason text)"""


async def test_a_log_kept_a_row_per_disclosure_becomes_sets_of_one_in_the_same_order(
    pool: asyncpg.Pool,
) -> None:
    # given a disclosure log in the former layout, with three entries
    person, partner, consent = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await pool.execute(OLD_LAYOUT)
    await pool.executemany(
        "INSERT INTO feed_disclosures (at, partner_id, channel, sequence, event_id, type, "
        "participant_id, consent_id, consent_version, outcome, reason) "
        "VALUES (now(), $1, $2, $3, $4, 't.v1', $5, $6, $7, $8, $9)",
        [(partner, "webhook", 1, uuid.uuid4(), person, consent, 2, "DISCLOSED", None),
         (partner, "feed", None, uuid.uuid4(), person, None, None, "WITHHELD", "no consent"),
         (partner, "pull", 2, uuid.uuid4(), None, None, None, "DISCLOSED", None)])
    before = await pool.fetch("SELECT * FROM feed_disclosures ORDER BY id")
    # when the feed tables are made ready, twice (every process does it when it starts)
    await tables.ensure(pool)
    await tables.ensure(pool)
    # then each entry is a set of one, read back in order with everything it held
    assert await pool.fetchval("SELECT count(*) FROM feed_disclosure_sets") == 3
    after = await queries.disclosures(pool)
    fields = ("partner_id", "channel", "sequence", "event_id", "type", "participant_id",
              "consent_id", "consent_version", "outcome", "reason")
    assert [tuple(getattr(d, f) for f in fields) for d in after] == [
        tuple(r[f] for f in fields) for r in before]
    assert [d.id for d in after] == sorted(d.id for d in after)
    assert await pool.fetchval(
        "SELECT relkind FROM pg_class WHERE oid = to_regclass('feed_disclosures')") == b"v"


@pytest.fixture
async def page_logged(pool: asyncpg.Pool, store: EventStore) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A partner's feed of 30 events about 3 people, 10 of them withheld, logged as pages of
    12 pulled one after another; the partner and the people."""
    await tables.ensure(pool)
    partner, programme = uuid.uuid4(), uuid.uuid4()
    await store.append([NewEvent(uuid.uuid4(), 1, "tests:Happened", b"{}", {"actor": "t"})])
    await pool.execute("INSERT INTO feed_partners VALUES ($1, 'P', 'ACTIVE', $2, $3, '{}', 30)",
                       partner, [PURPOSE], [programme])
    people = [uuid.uuid4() for _ in range(3)]
    for person in people[:2]:  # the third never named the partner
        await pool.execute("INSERT INTO feed_consents VALUES ($1, $2, $3, 1, 'GIVEN', $4, NULL)",
                           Consent.create_id(person, PURPOSE), person, PURPOSE, [str(partner)])
    await pool.executemany(
        "INSERT INTO feed_events (partner_id, sequence, event_id, type, participant_id, "
        "programme_id, position, time, body) VALUES ($1, $2, $3, 't.v1', $4, $5, 1, now(), '{}')",
        [(partner, n, uuid.uuid4(), people[n % 3], programme) for n in range(1, 31)])
    await pool.execute("INSERT INTO feed_checkpoint VALUES ('builder', $1) ON CONFLICT (name) "
                       "DO UPDATE SET position = excluded.position", await store.max_position())
    after = 0
    async with pool.acquire() as conn:
        while after < 30:
            _, last = await disclose.disclose_page(conn, partner, after, 12, date.today(), "pull")
            assert last is not None
            after = last
    return partner, people


async def test_each_page_is_one_set_and_its_entries_read_in_order(
    pool: asyncpg.Pool, page_logged: tuple[uuid.UUID, list[uuid.UUID]],
) -> None:
    partner, people = page_logged
    sets = await pool.fetch("SELECT cardinality(event_ids) AS n FROM feed_disclosure_sets "
                            "WHERE partner_id = $1 ORDER BY id", partner)
    assert [s["n"] for s in sets] == [12, 12, 6]
    entries = await queries.disclosures(pool, partner_id=partner, first=500)
    assert [e.sequence for e in entries] == list(range(1, 31))
    assert [e.outcome for e in entries].count("WITHHELD") == 10
    # paging by entry id goes on where the last page stopped, across sets
    first = await queries.disclosures(pool, partner_id=partner, first=7)
    rest = await queries.disclosures(pool, partner_id=partner, first=500, after=first[-1].id)
    assert [e.sequence for e in first + rest] == list(range(1, 31))


async def test_a_person_s_disclosures_are_theirs_only(
    pool: asyncpg.Pool, page_logged: tuple[uuid.UUID, list[uuid.UUID]],
) -> None:
    partner, people = page_logged
    mine = await queries.disclosures_of_participant(pool, people[0])
    assert [e.sequence for e in mine] == [n for n in range(1, 31) if n % 3 == 0]
    assert {e.participant_id for e in mine} == {people[0]}
    filtered = await queries.disclosures(pool, participant_id=people[2], partner_id=partner)
    assert {(e.participant_id, e.outcome) for e in filtered} == {(people[2], "WITHHELD")}


async def test_a_person_s_disclosures_are_found_through_the_sets_index(
    pool: asyncpg.Pool, page_logged: tuple[uuid.UUID, list[uuid.UUID]],
) -> None:
    _, people = page_logged
    others = [(uuid.uuid4(), [uuid.uuid4() for _ in range(50)]) for _ in range(2000)]
    await pool.executemany(
        f"INSERT INTO feed_disclosure_sets ({tables.SET_COLUMNS}) SELECT now(), $1, 'pull', "
        "NULL, array_fill(1::bigint, ARRAY[50]), $2, array_fill('t'::text, ARRAY[50]), $2, "
        "array_fill(NULL::uuid, ARRAY[50]), array_fill(NULL::bigint, ARRAY[50]), "
        "array_fill('DISCLOSED'::text, ARRAY[50]), array_fill(NULL::text, ARRAY[50])", others)
    await pool.execute("ANALYZE feed_disclosure_sets")
    plan = "\n".join(r[0] for r in await pool.fetch(
        "EXPLAIN SELECT * FROM feed_disclosures d WHERE d.set_participants @> ARRAY[$1::uuid] "
        "AND d.participant_id = $1 ORDER BY d.set_id, d.entry", people[0]))
    assert "feed_disclosure_sets_participants_idx" in plan, plan
    assert "Seq Scan on feed_disclosure_sets" not in plan, plan


def test_a_set_holds_at_most_so_many_entries_of_one_partner_and_time() -> None:
    at, later, partner = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC), \
        uuid.UUID(int=1)
    withheld = [(at, partner, uuid.uuid4(), "t", None, "r")] * (tables.SET_SIZE + 1) + [
        (later, partner, uuid.uuid4(), "t", None, "r"), (at, uuid.UUID(int=2), uuid.uuid4(),
                                                         "t", None, "r")]
    sets = builder._withheld_sets(withheld)
    assert [(s[0], s[1], len(s[2])) for s in sets] == [
        (at, partner, tables.SET_SIZE), (at, partner, 1), (later, partner, 1),
        (at, uuid.UUID(int=2), 1)]
    assert MAX_BATCH == tables.SET_SIZE  # a webhook request's disclosures are one set
    with pytest.raises(ValueError, match="at most"):
        FeedSettings(batch_size=tables.SET_SIZE + 1)
