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


async def extend(conn: asyncpg.Connection, size: int, chain_hashes: list[bytes]) -> None:
    """Add the leaves for the rows at positions ``size + 1 …``; call under the table lock.

    A tree behind the log (rows written before the tree existed, or with it switched
    off) is first brought up to ``size`` from the stored rows.
    """
    needed = frontier(size)
    known = await fetch_nodes(conn, needed)
    if len(known) != len(needed):
        known = await _catch_up(conn, size)
    await _insert(conn, append_leaves(size, [leaf_hash(h) for h in chain_hashes], known))


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


async def consistency_proof(conn: asyncpg.Connection, old: int, new: int) -> list[bytes]:
    return await _hashes(conn, consistency_ranges(old, new))
