"""Judging a batch stops before a person whose consent (or erasure) is recorded in the log
but not yet applied by the feed builder, whether it finds that event by reading the
log's unbuilt tail or, when the builder is too far behind to read it, by looking up the
people's and their consents' own events."""

from __future__ import annotations

import uuid
from datetime import date

import asyncpg
import pytest

from program.domain.consent import Consent
from program.feeds import disclose, tables
from program.feeds.disclose import FeedRow
from program.store.eventstore import EventStore
from program.store.records import NewEvent

PURPOSE = "evaluation"
WITHDRAWN = "program.domain.consent:Consent.Withdrawn"


async def _world(pool: asyncpg.Pool, store: EventStore) -> tuple[uuid.UUID, list[FeedRow]]:
    """A partner serving ``PURPOSE``, two people each with a consent naming it, the builder
    caught up with the log, and a feed row about each person."""
    await tables.ensure(pool)
    partner, programme = uuid.uuid4(), uuid.uuid4()
    await store.append([NewEvent(uuid.uuid4(), 1, "tests:Happened", b"{}", {"actor": "t"})])
    await pool.execute(
        "INSERT INTO feed_partners VALUES ($1, 'P', 'ACTIVE', $2, $3, '{}', 2)",
        partner, [PURPOSE], [programme])
    rows = []
    for n in (1, 2):
        person = uuid.uuid4()
        await pool.execute(
            "INSERT INTO feed_consents VALUES ($1, $2, $3, 1, 'GIVEN', $4, NULL)",
            Consent.create_id(person, PURPOSE), person, PURPOSE, [str(partner)])
        rows.append(FeedRow(n, uuid.uuid4(), "t.v1", person, programme, False, b"{}"))
    await pool.execute(
        "INSERT INTO feed_checkpoint VALUES ('builder', $1) "
        "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
        await store.max_position())
    return partner, rows


async def _withdraw_unbuilt(store: EventStore, person: uuid.UUID) -> None:
    """A withdrawal of ``person``'s consent in the log, after the builder's position."""
    await store.append([NewEvent(Consent.create_id(person, PURPOSE), 1, WITHDRAWN, b"{}",
                                 {"actor": "t"})])


async def _judge(pool: asyncpg.Pool, partner: uuid.UUID, rows: list[FeedRow]) -> disclose.Judged:
    async with pool.acquire() as conn:
        return await disclose.judge(conn, partner, rows, date.today())


@pytest.fixture(params=[5000, -1], ids=["tail-read", "looked-up"])
async def world(request: pytest.FixtureRequest, pool: asyncpg.Pool, store: EventStore,
                monkeypatch: pytest.MonkeyPatch) -> tuple[uuid.UUID, list[FeedRow]]:
    """``_world``, judged by reading the log's unbuilt tail, then (the tail's bound below
    zero, as when the builder is far behind) by looking the people's events up."""
    monkeypatch.setattr(disclose, "TAIL_CHECKED", request.param)
    return await _world(pool, store)


async def test_judging_stops_before_a_person_whose_consent_change_is_not_built_yet(
    pool: asyncpg.Pool, store: EventStore, world: tuple[uuid.UUID, list[FeedRow]]
) -> None:
    partner, rows = world
    # given the second person's consent withdrawn in the log, not yet applied by the builder
    second = rows[1].participant_id
    assert second is not None
    await _withdraw_unbuilt(store, second)
    # when the batch is judged
    judged = await _judge(pool, partner, rows)
    # then the first person's event is judged and the batch stops before the second's
    assert [r.sequence for r, _ in judged.rows] == [1]
    assert judged.complete is False


async def test_judging_goes_on_when_the_unbuilt_change_concerns_someone_else(
    pool: asyncpg.Pool, store: EventStore, world: tuple[uuid.UUID, list[FeedRow]]
) -> None:
    partner, rows = world
    # given a consent change of someone outside the batch, not yet built
    await _withdraw_unbuilt(store, uuid.uuid4())
    # when the batch is judged, then every row is judged, under the consents as built
    judged = await _judge(pool, partner, rows)
    assert [r.sequence for r, _ in judged.rows] == [1, 2]
    assert judged.complete is True
    assert all(v.allowed for _, v in judged.rows)
