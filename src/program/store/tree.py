"""The RFC 9162 Merkle tree over the event log, kept in PostgreSQL as stored subtrees.

Leaf ``i`` is the chain hash of the row at position ``i + 1``. Every complete, aligned
subtree's hash is a row of ``ledger_nodes``, written in the same transaction as the
events it covers, so any root or proof is a handful of indexed reads.
"""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from program.store.schema import EVENTS_TABLE
from program.transparency.merkle import (
    Node,
    ProofError,
    Range,
    append_leaves,
    consistency_ranges,
    frontier,
    inclusion_ranges,
    leaf_hash,
    nodes_for,
    range_hash,
    root_hash,
)

NODES_TABLE = "ledger_nodes"
_BACKFILL_CHUNK = 10_000

_FETCH = f"""
SELECT level, idx, hash FROM {NODES_TABLE}
WHERE (level, idx) IN (SELECT * FROM unnest($1::smallint[], $2::bigint[]))
"""
_INSERT = f"""
INSERT INTO {NODES_TABLE} (level, idx, hash)
SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])
"""


async def fetch_nodes(conn: asyncpg.Connection, nodes: Iterable[Node]) -> dict[Node, bytes]:
    wanted = list(nodes)
    if not wanted:
        return {}
    rows = await conn.fetch(_FETCH, [n[0] for n in wanted], [n[1] for n in wanted])
    return {(r[0], r[1]): bytes(r[2]) for r in rows}


async def tree_size(conn: asyncpg.Connection) -> int:
    """How many leaves the stored tree holds."""
    value = await conn.fetchval(f"SELECT max(idx) FROM {NODES_TABLE} WHERE level = 0")
    return 0 if value is None else int(value) + 1


class Frontier:
    """The right edge of the tree as this process last committed it, so the next batch
    need not read it back. Trusted only for the exact size it was left at: a head read
    under the table lock that differs means another writer came between."""

    def __init__(self) -> None:
        self.size = -1
        self.nodes: dict[Node, bytes] = {}

    async def at(self, conn: asyncpg.Connection, size: int) -> dict[Node, bytes]:
        """The frontier of the stored tree at ``size`` (catching the tree up first)."""
        if size == self.size:
            return dict(self.nodes)
        needed = frontier(size)
        known = await fetch_nodes(conn, needed)
        if len(known) != len(needed):
            known = await _catch_up(conn, size)
        return known

    def committed(self, size: int, known: dict[Node, bytes]) -> None:
        self.size = size
        self.nodes = {n: known[n] for n in frontier(size)}

    def forget(self) -> None:
        self.size = -1


def new_nodes(size: int, chain_hashes: list[bytes], known: dict[Node, bytes]) -> dict[Node, bytes]:
    """The subtrees the rows at ``size + 1 …`` complete; ``known`` grows to match."""
    return append_leaves(size, [leaf_hash(h) for h in chain_hashes], known)


def as_columns(nodes: dict[Node, bytes]) -> tuple[list[int], list[int], list[bytes]]:
    keys = list(nodes)
    return [k[0] for k in keys], [k[1] for k in keys], [nodes[k] for k in keys]


async def _catch_up(conn: asyncpg.Connection, size: int) -> dict[Node, bytes]:
    have = await tree_size(conn)
    known = await fetch_nodes(conn, frontier(have))
    while have < size:
        rows = await conn.fetch(
            f"SELECT hash FROM {EVENTS_TABLE} WHERE notification_id > $1 "
            "AND notification_id <= $2 ORDER BY notification_id",
            have, min(size, have + _BACKFILL_CHUNK),
        )
        if not rows:
            raise RuntimeError(f"the log has no row at position {have + 1}")
        await _insert(conn, append_leaves(have, [leaf_hash(bytes(r[0])) for r in rows], known))
        have += len(rows)
        known = {n: known[n] for n in frontier(have)}
    return known


async def _insert(conn: asyncpg.Connection, nodes: dict[Node, bytes]) -> None:
    if nodes:
        keys = list(nodes)
        await conn.execute(
            _INSERT, [k[0] for k in keys], [k[1] for k in keys], [nodes[k] for k in keys]
        )


async def catch_up(conn: asyncpg.Connection) -> int:
    """Bring the tree up to the log's head (under the table lock); the new size."""
    async with conn.transaction():
        await conn.execute(f"LOCK TABLE {EVENTS_TABLE} IN EXCLUSIVE MODE")
        head = int(await conn.fetchval(f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}"))
        if await tree_size(conn) < head:
            await _catch_up(conn, head)
    return head


async def root(conn: asyncpg.Connection, size: int) -> bytes:
    return root_hash(size, await fetch_nodes(conn, nodes_for([(0, size)] if size else [])))


async def _hashes(conn: asyncpg.Connection, ranges: list[Range]) -> list[bytes]:
    nodes = await fetch_nodes(conn, nodes_for(ranges))
    return [range_hash(lo, hi, nodes) for lo, hi in ranges]


async def inclusion_proof(conn: asyncpg.Connection, index: int, size: int) -> list[bytes]:
    return await _hashes(conn, inclusion_ranges(index, size))


_FETCH_WITH_LEAF = f"""
SELECT level, idx, hash FROM {NODES_TABLE}
WHERE (level, idx) IN (SELECT * FROM unnest($1::smallint[], $2::bigint[]))
UNION ALL
SELECT -1, notification_id, hash FROM {EVENTS_TABLE} WHERE notification_id = $3
"""


async def inclusion_proof_and_leaf(
    conn: asyncpg.Connection, position: int, size: int
) -> tuple[list[bytes], bytes | None]:
    """The proof for the row at ``position`` and that row's chain hash, in one round trip."""
    ranges = inclusion_ranges(position - 1, size)
    wanted = list(nodes_for(ranges))
    rows = await conn.fetch(_FETCH_WITH_LEAF, [n[0] for n in wanted], [n[1] for n in wanted], position)
    nodes = {(r[0], r[1]): bytes(r[2]) for r in rows if r[0] >= 0}
    leaf = next((bytes(r[2]) for r in rows if r[0] < 0), None)
    return [range_hash(lo, hi, nodes) for lo, hi in ranges], leaf


_FETCH_WITH_SIZE = f"""
SELECT level, idx, hash FROM {NODES_TABLE}
WHERE (level, idx) IN (SELECT * FROM unnest($1::smallint[], $2::bigint[]))
UNION ALL
SELECT -1, (SELECT coalesce(max(idx) + 1, 0) FROM {NODES_TABLE} WHERE level = 0), NULL
"""


async def consistency_proof(conn: asyncpg.Connection, old: int, new: int) -> list[bytes]:
    """PROOF(old, D[new]); raises ``ProofError`` unless 0 < old <= new <= the tree's size."""
    ranges = consistency_ranges(old, new)
    wanted = list(nodes_for(ranges))
    rows = await conn.fetch(_FETCH_WITH_SIZE, [n[0] for n in wanted], [n[1] for n in wanted])
    size = next(r[1] for r in rows if r[0] < 0)
    if new > size:
        raise ProofError(f"the tree has {size} leaves, fewer than {new}")
    nodes = {(r[0], r[1]): bytes(r[2]) for r in rows if r[0] >= 0}
    return [range_hash(lo, hi, nodes) for lo, hi in ranges]
