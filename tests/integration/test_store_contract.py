"""One contract, two stores: the in-memory store must keep the PostgreSQL store's rules,
or application tests on it would prove nothing. Every test runs against both."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import asyncpg
import pytest

from program.application.ports import PersonalDataKeys
from program.store.errors import VersionConflict
from program.store.eventstore import EventStore
from program.store.keys import KeyStore
from program.store.memory import MemoryEventStore, MemoryKeyStore
from program.store.records import Idempotency, NewEvent
from program.store.repository import EventLog
from program.store.sealing import KeyErased


@dataclass
class Stores:
    log: EventLog
    keys: PersonalDataKeys


@pytest.fixture(params=["memory", "postgresql"])
def stores(request: pytest.FixtureRequest) -> Stores:
    """A plain fixture, so the PostgreSQL ones are set up only for its own runs."""
    if request.param == "memory":
        return Stores(MemoryEventStore(), MemoryKeyStore())
    pool: asyncpg.Pool = request.getfixturevalue("pool")
    return Stores(request.getfixturevalue("store"), KeyStore(pool))


def event(originator_id: uuid.UUID, version: int, **meta: str) -> NewEvent:
    return NewEvent(originator_id, version, "tests:Thing.Happened", b"{}", dict(meta))


async def test_append_when_versions_follow_records_them_in_order(stores: Stores) -> None:
    a = uuid.uuid4()
    first = await stores.log.append([event(a, 1), event(a, 2)])
    second = await stores.log.append([event(a, 3, actor="x")])

    assert second.position == first.position + 1 and len(first.positions) == 2
    rows = await stores.log.read_aggregate(a)
    assert [r.originator_version for r in rows] == [1, 2, 3]
    assert rows[-1].metadata == {"actor": "x"}
    assert await stores.log.positions_of(a) == [(r.position, r.originator_version) for r in rows]
    assert await stores.log.read_position(second.position) == rows[-1]


async def test_append_when_version_taken_conflicts_and_appends_nothing(stores: Stores) -> None:
    a = uuid.uuid4()
    await stores.log.append([event(a, 1)])

    with pytest.raises(VersionConflict) as conflict:
        await stores.log.append([event(a, 1), event(uuid.uuid4(), 1)])

    assert (conflict.value.expected, conflict.value.actual) == (0, 1)
    assert len(await stores.log.read_aggregate(a)) == 1


async def test_append_when_concurrent_with_a_conflicting_one_fails_alone(stores: Stores) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    await stores.log.append([event(a, 1)])

    results = await asyncio.gather(
        stores.log.append([event(a, 1)]), stores.log.append([event(b, 1)]),
        return_exceptions=True,
    )

    assert isinstance(results[0], VersionConflict)
    assert not isinstance(results[1], BaseException)
    assert len(await stores.log.read_aggregate(b)) == 1


async def test_append_when_an_aggregate_read_has_moved_on_conflicts(stores: Stores) -> None:
    read, changed = uuid.uuid4(), uuid.uuid4()
    await stores.log.append([event(read, 1)])
    await stores.log.append([event(changed, 1)], expect={read: 1})
    await stores.log.append([event(read, 2)])

    with pytest.raises(VersionConflict) as conflict:
        await stores.log.append([event(changed, 2)], expect={read: 1})

    assert conflict.value.originator_id == read


async def test_append_when_idempotency_key_used_answers_the_first_result(stores: Stores) -> None:
    a, key = uuid.uuid4(), f"key-{uuid.uuid4()}"
    first = await stores.log.append([event(a, 1)], Idempotency(key, "do", {"id": "1"}, "fp-1"))

    again = await stores.log.append([event(a, 2)], Idempotency(key, "do", {"id": "2"}, "fp-2"))

    assert again.duplicate and again.result == {"id": "1"} and again.fingerprint == "fp-1"
    assert again.position == first.position and not first.duplicate
    assert await stores.log.idempotent_result(key) == again
    assert len(await stores.log.read_aggregate(a)) == 1


async def test_snapshot_when_written_is_read_at_or_before_a_version(stores: Stores) -> None:
    a = uuid.uuid4()
    await stores.log.write_snapshot(a, 5, "tests:Thing", b"five")
    await stores.log.write_snapshot(a, 9, "tests:Thing", b"nine")

    assert await stores.log.read_snapshot(a) == (9, "tests:Thing", b"nine")
    assert await stores.log.read_snapshot(a, 8) == (5, "tests:Thing", b"five")
    assert await stores.log.read_snapshot(a, 4) is None


async def test_keys_when_destroyed_are_gone_for_good(stores: Stores) -> None:
    person = uuid.uuid4()
    key = await stores.keys.create(person)
    assert await stores.keys.create(person) == key
    assert await stores.keys.get_many([person]) == {person: key}

    await stores.keys.destroy(person)

    assert await stores.keys.get_many([person]) == {}
    with pytest.raises(KeyErased):
        await stores.keys.create(person)
