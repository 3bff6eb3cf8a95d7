"""The Merkle tree kept beside the event log, its signed checkpoints and proofs,
against the real embedded PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from program.store import tree
from program.store.checkpoints import CheckpointLog, LedgerInconsistent
from program.store.eventstore import EventStore
from program.store.records import NewEvent
from program.transparency.merkle import MemoryTree, verify_consistency
from program.transparency.note import Signer

ORIGIN = "test.program.example/ledger"


def ev(n: int) -> NewEvent:
    return NewEvent(uuid.uuid4(), 1, "tests:Thing.Happened", f'{{"n":{n}}}'.encode(), {"actor": "t"})


async def _append(store: EventStore, count: int) -> None:
    await asyncio.gather(*(store.append([ev(i)]) for i in range(count)))


async def _reference(pool: asyncpg.Pool, size: int) -> MemoryTree:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT hash FROM stored_events WHERE notification_id <= $1 ORDER BY notification_id", size
        )
    reference = MemoryTree()
    reference.append(*[bytes(r[0]) for r in rows])
    return reference


@pytest.fixture(scope="module")
def ledger(pool: asyncpg.Pool) -> CheckpointLog:
    return CheckpointLog(pool, Signer.generate(ORIGIN))


async def test_appends_when_concurrent_keep_the_stored_tree_equal_to_the_reference(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await _append(store, 300)
    head = await store.max_position()
    reference = await _reference(pool, head)
    async with pool.acquire() as conn:
        assert await tree.tree_size(conn) == head
        for size in (1, 2, 3, 64, 100, head):
            assert await tree.root(conn, size) == reference.root(size)
        assert await tree.inclusion_proof(conn, 41, head) == reference.inclusion_proof(41, head)
        assert await tree.consistency_proof(conn, 37, head) == reference.consistency_proof(37, head)


async def test_proof_taken_before_more_appends_still_verifies_after(
    store: EventStore, ledger: CheckpointLog
) -> None:
    await _append(store, 10)
    old = await ledger.issue()
    proof, leaf = await ledger.inclusion_proof(old.size - 3)
    await _append(store, 25)
    new = await ledger.issue()
    assert new.size == old.size + 25
    assert proof.verify(ledger.verifier, leaf).size == old.size
    later, _ = await ledger.inclusion_proof(old.size - 3)
    assert later.verify(ledger.verifier, leaf).size == new.size
    verify_consistency(old.size, new.size, await ledger.consistency_proof(old.size, new.size),
                       old.root, new.root)


async def test_issue_when_nothing_was_appended_returns_the_latest(ledger: CheckpointLog) -> None:
    first = await ledger.issue()
    assert await ledger.issue() == first


async def test_tree_when_switched_off_catches_up_when_on_again(
    pool: asyncpg.Pool, store: EventStore, ledger: CheckpointLog
) -> None:
    plain = EventStore(pool, merkle_tree=False)
    await plain.start()
    try:
        await asyncio.gather(*(plain.append([ev(i)]) for i in range(20)))
    finally:
        await plain.close()
    await _append(store, 5)  # the next tree-keeping append fills the gap first
    head = await store.max_position()
    async with pool.acquire() as conn:
        assert await tree.tree_size(conn) == head
        assert await tree.root(conn, head) == (await _reference(pool, head)).root()
    assert (await ledger.issue()).size == head


async def test_issue_when_a_signed_row_was_rewritten_refuses_to_sign(
    pool: asyncpg.Pool, store: EventStore, ledger: CheckpointLog
) -> None:
    await _append(store, 3)
    old = await ledger.issue()
    # An intruder alters one byte of a row's hash and rebuilds the whole tree to match.
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE stored_events SET hash = set_byte(hash, 0, get_byte(hash, 0) # 1) "
            "WHERE notification_id = 2"
        )
        await conn.execute("DELETE FROM ledger_nodes")
        await conn.execute("UPDATE ledger_state SET size = 0")
        await tree.catch_up(conn)
    await _append(store, 2)
    with pytest.raises(LedgerInconsistent):
        await ledger.issue()
    assert (await ledger.latest()).size == old.size
