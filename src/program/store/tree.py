"""The RFC 9162 Merkle tree over the event log, kept in PostgreSQL as stored subtrees.

Leaf ``i`` is the chain hash of the row at position ``i + 1``. The hash of every
complete, aligned subtree of at least ``2**STORED_FROM`` leaves is a row of
``ledger_nodes``, written in the same transaction as the events it covers; smaller
subtrees are recomputed from the rows' own hashes (at most ``2**STORED_FROM`` rows
each), so the tree adds a quarter of a row per event rather than two, and any root or
proof is still one indexed read. ``ledger_state`` holds how many leaves the tree has.
"""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from program.store.schema import EVENTS_TABLE, WRITER_LOCK
from program.transparency.merkle import (
    Node,
    ProofError,
    append_leaves,
    consistency_ranges,
    frontier,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    nodes_for,
    range_hash,
    root_hash,
)

NODES_TABLE = "ledger_nodes"
STATE_TABLE = "ledger_state"
STORED_FROM = 3  # subtrees of 8 leaves and more are stored
_BACKFILL_CHUNK = 10_000

_FETCH = f"""
SELECT level, idx, hash FROM {NODES_TABLE}
WHERE (level, idx) IN (SELECT * FROM unnest($1::smallint[], $2::bigint[]))
UNION ALL
SELECT -1, notification_id, hash FROM {EVENTS_TABLE} WHERE notification_id = ANY($3::bigint[])
UNION ALL
SELECT -2, size, NULL FROM {STATE_TABLE}
"""
_INSERT = f"""
WITH n AS (
    INSERT INTO {NODES_TABLE} (level, idx, hash)
    SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])
)
UPDATE {STATE_TABLE} SET size = $4
"""


class Fetched:
    """What one read brought back: stored and recomputed subtrees, rows' chain hashes
    by position, and the tree's size."""

    def __init__(self, rows: list[asyncpg.Record]) -> None:
        self.nodes: dict[Node, bytes] = {}
        self.chain: dict[int, bytes] = {}
        self.size = 0
        for level, idx, value in rows:
            if level >= 0:
                self.nodes[(level, idx)] = bytes(value)
            elif level == -1:
                self.chain[idx] = bytes(value)
            else:
                self.size = int(idx)

    def derive(self, low: Iterable[Node]) -> None:
        """Recompute the small subtrees from the rows' chain hashes (absent rows: absent)."""
        for level, idx in low:
            first = idx << level
            leaves = [self.chain.get(p + 1) for p in range(first, first + (1 << level))]
            if any(h is None for h in leaves):
                continue
            layer = [leaf_hash(h) for h in leaves]  # type: ignore[arg-type]
            while len(layer) > 1:
                layer = [node_hash(layer[i], layer[i + 1]) for i in range(0, len(layer), 2)]
            self.nodes[(level, idx)] = layer[0]


async def fetch(conn: asyncpg.Connection, nodes: Iterable[Node], positions: Iterable[int] = ()) -> Fetched:
    """The subtrees asked for (stored or recomputed), the chain hashes of ``positions``
    and the tree's size, in one round trip."""
    wanted = set(nodes)
    high = [n for n in wanted if n[0] >= STORED_FROM]
    low = [n for n in wanted if n[0] < STORED_FROM]
    rows_needed = set(positions)
    for level, idx in low:
        rows_needed.update(range((idx << level) + 1, ((idx + 1) << level) + 1))
    fetched = Fetched(await conn.fetch(
        _FETCH, [n[0] for n in high], [n[1] for n in high], sorted(rows_needed)
    ))
    fetched.derive(low)
    return fetched


def stored(nodes: dict[Node, bytes]) -> dict[Node, bytes]:
    """The subtrees large enough to keep."""
    return {n: h for n, h in nodes.items() if n[0] >= STORED_FROM}


async def tree_size(conn: asyncpg.Connection) -> int:
    """How many leaves the stored tree holds."""
    return int(await conn.fetchval(f"SELECT size FROM {STATE_TABLE}") or 0)


class Frontier:
    """The right edge of the tree as this process last committed it, so the next batch
    need not read it back. Trusted only for the exact size it was left at: a head read
    under the writer lock that differs means another writer came between."""

    def __init__(self) -> None:
        self.size = -1
        self.nodes: dict[Node, bytes] = {}

    async def at(self, conn: asyncpg.Connection, size: int) -> dict[Node, bytes]:
        """The frontier of the stored tree at ``size`` (catching the tree up first)."""
        if size == self.size:
            return dict(self.nodes)
        needed = frontier(size)
        got = await fetch(conn, needed)
        if got.size != size or any(n not in got.nodes for n in needed):
            return await _catch_up(conn, size)
        return got.nodes

    def committed(self, size: int, known: dict[Node, bytes]) -> None:
        self.size = size
        self.nodes = {n: known[n] for n in frontier(size)}

    def forget(self) -> None:
        self.size = -1


def new_nodes(size: int, chain_hashes: list[bytes], known: dict[Node, bytes]) -> dict[Node, bytes]:
    """The stored subtrees the rows at ``size + 1 …`` complete; ``known`` grows to match
    (with the small ones too, which are only ever recomputed)."""
    return stored(append_leaves(size, [leaf_hash(h) for h in chain_hashes], known))


def as_columns(nodes: dict[Node, bytes]) -> tuple[list[int], list[int], list[bytes]]:
    keys = list(nodes)
    return [k[0] for k in keys], [k[1] for k in keys], [nodes[k] for k in keys]


async def _catch_up(conn: asyncpg.Connection, size: int) -> dict[Node, bytes]:
    have = await tree_size(conn)
    known = (await fetch(conn, frontier(have))).nodes
    while have < size:
        rows = await conn.fetch(
            f"SELECT hash FROM {EVENTS_TABLE} WHERE notification_id > $1 "
            "AND notification_id <= $2 ORDER BY notification_id",
            have, min(size, have + _BACKFILL_CHUNK),
        )
        if not rows:
            raise RuntimeError(f"the log has no row at position {have + 1}")
        new = new_nodes(have, [bytes(r[0]) for r in rows], known)
        have += len(rows)
        await conn.execute(_INSERT, *as_columns(new), have)
        known = {n: known[n] for n in frontier(have)}
    return known


async def catch_up(conn: asyncpg.Connection) -> int:
    """Bring the tree up to the log's head (under the writer lock); the new size."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", WRITER_LOCK)
        head = int(await conn.fetchval(f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}"))
        if await tree_size(conn) < head:
            await _catch_up(conn, head)
    return head


async def root(conn: asyncpg.Connection, size: int) -> bytes:
    if not size:
        return root_hash(0, {})
    return root_hash(size, (await fetch(conn, nodes_for([(0, size)]))).nodes)


async def inclusion_proof(conn: asyncpg.Connection, index: int, size: int) -> list[bytes]:
    return (await inclusion_proof_and_leaf(conn, index + 1, size))[0]


async def inclusion_proof_and_leaf(
    conn: asyncpg.Connection, position: int, size: int
) -> tuple[list[bytes], bytes | None]:
    """The proof for the row at ``position`` and that row's chain hash, in one round trip."""
    ranges = inclusion_ranges(position - 1, size)
    got = await fetch(conn, nodes_for(ranges), [position])
    return [range_hash(lo, hi, got.nodes) for lo, hi in ranges], got.chain.get(position)


async def consistency_proof(conn: asyncpg.Connection, old: int, new: int) -> list[bytes]:
    """PROOF(old, D[new]); raises ``ProofError`` unless 0 < old <= new <= the tree's size."""
    ranges = consistency_ranges(old, new)
    got = await fetch(conn, nodes_for(ranges))
    if new > got.size:
        raise ProofError(f"the tree has {got.size} leaves, fewer than {new}")
    return [range_hash(lo, hi, got.nodes) for lo, hi in ranges]
