"""Judging a range stops before a person whose consent (or erasure) is recorded in the log
but not yet applied by the feed builder, whether it finds that event by reading the
log's unbuilt tail or, when the builder is too far behind to read it, by looking up the
people's and their consents' own events; and judges nothing while the partner itself has
a change not yet applied."""

from __future__ import annotations

import uuid
from datetime import date

import asyncpg
import pytest

from program.domain.consent import Consent
from program.feeds import disclose, tables
from program.store.eventstore import EventStore
from program.store.records import NewEvent

PURPOSE = "evaluation"
WITHDRAWN = "program.domain.consent:Consent.Withdrawn"


async def _world(pool: asyncpg.Pool, store: EventStore) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A partner serving ``PURPOSE``, two people each with a consent naming it, the builder
    caught up with the log, and a feed event about each person (sequences 1 and 2)."""
    await tables.ensure(pool)
    partner, programme = uuid.uuid4(), uuid.uuid4()
    await store.append([NewEvent(uuid.uuid4(), 1, "tests:Happened", b"{}", {"actor": "t"})])
    await pool.execute(
        "INSERT INTO feed_partners VALUES ($1, 'P', 'ACTIVE', $2, $3, '{}', 2)",
        partner, [PURPOSE], [programme])
    people = []
    for n in (1, 2):
        person = uuid.uuid4()
        await pool.execute(
            "INSERT INTO feed_consents VALUES ($1, $2, $3, 1, 'GIVEN', $4, NULL)",
            Consent.create_id(person, PURPOSE), person, PURPOSE, [str(partner)])
        await pool.execute(
            "INSERT INTO feed_events (partner_id, sequence, event_id, type, participant_id, "
            "programme_id, position, time, body) VALUES ($1, $2, $3, 't.v1', $4, $5, 1, now(), $6)",
            partner, n, uuid.uuid4(), person, programme, b'{"n":%d}' % n)
        people.append(person)
    await pool.execute(
        "INSERT INTO feed_checkpoint VALUES ('builder', $1) "
        "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
        await store.max_position())
    return partner, people


async def _withdraw_unbuilt(store: EventStore, person: uuid.UUID) -> None:
    """A withdrawal of ``person``'s consent in the log, after the builder's position."""
    await store.append([NewEvent(Consent.create_id(person, PURPOSE), 1, WITHDRAWN, b"{}",
                                 {"actor": "t"})])


async def _judge(pool: asyncpg.Pool, partner: uuid.UUID) -> disclose.Judged:
    async with pool.acquire() as conn:
        return await disclose.judge(conn, partner, 0, 2, date.today())


@pytest.fixture(params=[5000, -1], ids=["tail-read", "looked-up"])
async def world(request: pytest.FixtureRequest, pool: asyncpg.Pool, store: EventStore,
                monkeypatch: pytest.MonkeyPatch) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """``_world``, judged by reading the log's unbuilt tail, then (the tail's bound below
    zero, as when the builder is far behind) by looking the people's events up."""
    monkeypatch.setattr(disclose, "TAIL_CHECKED", request.param)
    return await _world(pool, store)


async def test_judging_stops_before_a_person_whose_consent_change_is_not_built_yet(
    pool: asyncpg.Pool, store: EventStore, world: tuple[uuid.UUID, list[uuid.UUID]]
) -> None:
    partner, people = world
    # given the second person's consent withdrawn in the log, not yet applied by the builder
    await _withdraw_unbuilt(store, people[1])
    # when the range is judged
    judged = await _judge(pool, partner)
    # then the first person's event is judged and the range stops before the second's
    assert judged.last == 1
    assert (judged.disclosed, judged.body) == (1, b'[{"n":1}]')


@pytest.mark.parametrize("unbuilt", ["someone else's withdrawal", "a consent never seen"])
async def test_judging_goes_on_when_the_unbuilt_change_cannot_take_anything_away(
    pool: asyncpg.Pool, store: EventStore, world: tuple[uuid.UUID, list[uuid.UUID]],
    unbuilt: str,
) -> None:
    partner, people = world
    # given, not yet built: a consent change of someone outside the range, or a first
    # consent of the second person for another purpose (it can only grant, never take away
    # what the built consents allow)
    if unbuilt == "someone else's withdrawal":
        await _withdraw_unbuilt(store, uuid.uuid4())
    else:
        await store.append([NewEvent(Consent.create_id(people[1], "research"), 1,
                                     "program.domain.consent:Consent.Given", b"{}",
                                     {"actor": "t"})])
    # when the range is judged, then every event is judged, under the consents as built
    judged = await _judge(pool, partner)
    assert judged.last == 2
    assert (judged.disclosed, judged.body) == (2, b'[{"n":1},{"n":2}]')


async def test_judging_waits_while_the_partner_has_a_change_not_built_yet(
    pool: asyncpg.Pool, store: EventStore, world: tuple[uuid.UUID, list[uuid.UUID]]
) -> None:
    partner, _ = world
    # given an event of the partner itself (its scope changed, say) not yet built
    await store.append([NewEvent(partner, 1, "program.domain.partner:Partner.Updated", b"{}",
                                 {"actor": "t"})])
    # when the range is judged, then nothing is, until the builder has applied it
    judged = await _judge(pool, partner)
    assert (judged.last, judged.disclosed, judged.body) == (None, 0, None)

