"""The asynchronous event store: group-committed, gap-free, hash-chained appends."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from program.store.errors import StoreClosed, VersionConflict
from program.store.outage import is_outage
from program.store.records import (
    GENESIS_HASH,
    AppendResult,
    Idempotency,
    NewEvent,
    Recorded,
    canonical_json,
    chain_hash,
)
from program.store import tree
from program.store.schema import EVENTS_TABLE, NOTIFY_CHANNEL, WRITER_LOCK

log = logging.getLogger(__name__)

MAX_BATCH = 512

# The rows, the Merkle subtrees they complete and the notification go in one round
# trip (data-modifying CTEs run whether or not anything reads them).
_INSERT = f"""
WITH e AS (
    INSERT INTO {EVENTS_TABLE}
        (originator_id, originator_version, topic, state, notification_id,
         recorded_at, metadata, hash)
    SELECT i, v, t, s, n, r, m::jsonb, h
    FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::bytea[], $5::bigint[],
                $6::timestamptz[], $7::text[], $8::bytea[]) AS x(i, v, t, s, n, r, m, h)
), t AS (
    INSERT INTO {tree.NODES_TABLE} (level, idx, hash)
    SELECT * FROM unnest($9::smallint[], $10::bigint[], $11::bytea[])
), s AS (
    UPDATE {tree.STATE_TABLE} SET size = $5[array_upper($5, 1)] WHERE $14
)
SELECT pg_notify($12, $13)
"""
_SELECT = f"""SELECT notification_id, originator_id, originator_version, topic, state,
                     recorded_at, metadata, hash FROM {EVENTS_TABLE}"""


# Each aggregate's latest version: one step down its primary key from the top, however
# long its history. (A max() grouped over ``= ANY($1)`` read every version of every
# aggregate named, so each append to a cohort with thousands of events paid for all of
# them.)
CURRENT_VERSIONS = f"""
SELECT k.id, (SELECT e.originator_version FROM {EVENTS_TABLE} e WHERE e.originator_id = k.id
              ORDER BY e.originator_version DESC LIMIT 1)
FROM unnest($1::uuid[]) AS k(id)"""


@dataclass
class _Request:
    events: list[NewEvent]
    idempotency: Idempotency | None
    expect: dict[UUID, int]
    future: asyncio.Future[AppendResult] = field(repr=False, default=None)  # type: ignore[assignment]

    def expected_versions(self) -> dict[UUID, int]:
        expected: dict[UUID, int] = {}
        for e in self.events:
            expected.setdefault(e.originator_id, e.originator_version - 1)
        for originator_id, version in self.expect.items():
            expected.setdefault(originator_id, version)
        return expected


def to_recorded(row: asyncpg.Record) -> Recorded:
    return Recorded(
        position=row["notification_id"],
        # asyncpg's own UUID subclass would leak into events and fail to serialise.
        originator_id=UUID(bytes=row["originator_id"].bytes),
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=bytes(row["state"]),
        recorded_at=row["recorded_at"],
        metadata=row["metadata"],
        hash=bytes(row["hash"]),
    )


class EventStore:
    """Appends through one writer task that commits whatever queued up as one batch."""

    def __init__(self, pool: asyncpg.Pool, *, merkle_tree: bool = True) -> None:
        self.pool = pool
        # Off only to measure what the tree costs; it catches up when next switched on.
        self.merkle_tree = merkle_tree
        self._frontier = tree.Frontier()
        self._queue: asyncio.Queue[_Request] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._closed = False

    async def start(self) -> None:
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_loop(), name="event-store-writer")

    async def close(self) -> None:
        self._closed = True
        if self._writer is not None:
            self._writer.cancel()
            try:
                await self._writer
            except asyncio.CancelledError:
                pass
            self._writer = None
        while not self._queue.empty():
            req = self._queue.get_nowait()
            if not req.future.done():
                req.future.set_exception(StoreClosed("event store closed"))

    async def append(
        self,
        events: list[NewEvent],
        idempotency: Idempotency | None = None,
        expect: dict[UUID, int] | None = None,
    ) -> AppendResult:
        """Append events atomically, or none of them.

        Each aggregate's first event must follow its current version, and each
        aggregate in ``expect`` (read to decide, not changed) must still be at the
        given version.
        """
        if self._closed:
            raise StoreClosed("event store closed")
        if not events and idempotency is None and not expect:
            return AppendResult(positions=[await self.max_position()])
        await self.start()
        req = _Request(
            list(events), idempotency, dict(expect or {}), asyncio.get_running_loop().create_future()
        )
        self._queue.put_nowait(req)
        return await req.future

    async def _write_loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit_isolating(batch)
            except asyncio.CancelledError:
                for req in batch:
                    if not req.future.done():
                        req.future.set_exception(StoreClosed("event store closed"))
                raise

    async def _commit_isolating(self, batch: list[_Request]) -> None:
        """Commit a batch; when its SQL fails, commit its halves apart, in order, until
        the request that caused the failure is alone and fails by itself.

        A failed transaction writes nothing and each retry reads the head afresh, so
        positions stay gap-free and the chain unbroken. Halving rather than retrying
        every request alone keeps one bad request per batch at about 2·log2(batch)
        transactions instead of one per request. An outage is the same for every
        request, so it fails the batch at once instead of being retried.
        """
        try:
            await self._commit(batch)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if len(batch) > 1 and not is_outage(exc):
                log.warning("append batch of %d failed (%s); committing its halves apart",
                            len(batch), type(exc).__name__)
                middle = len(batch) // 2
                await self._commit_isolating(batch[:middle])
                await self._commit_isolating(batch[middle:])
                return
            if is_outage(exc):
                log.warning("append failed: database unavailable (%s)", type(exc).__name__)
            else:
                log.error("append failed", exc_info=exc)
            for req in batch:
                if not req.future.done():
                    req.future.set_exception(exc)

    async def _commit(self, batch: list[_Request]) -> None:
        outcomes: list[tuple[_Request, AppendResult | Exception]] = []
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", WRITER_LOCK)
            last = await conn.fetchrow(
                f"SELECT notification_id, hash FROM {EVENTS_TABLE} "
                "ORDER BY notification_id DESC LIMIT 1"
            )
            position, previous = (last[0], bytes(last[1])) if last else (0, GENESIS_HASH)
            size_before = position
            current = await self._current_versions(conn, batch)
            used = await self._used_keys(conn, batch)
            rows: list[tuple[Any, ...]] = []
            keys: list[tuple[str, str, dict[str, Any], int, str | None]] = []
            now = datetime.now(UTC)
            for req in batch:
                problem = self._check(req, current, used)
                if problem is not None:
                    outcomes.append((req, problem))
                    continue
                positions: list[int] = []
                for e in req.events:
                    position += 1
                    meta = canonical_json(e.metadata)
                    previous = chain_hash(
                        previous, position, e.originator_id, e.originator_version,
                        e.topic, e.state, now, meta,
                    )
                    rows.append((e.originator_id, e.originator_version, e.topic, e.state,
                                 position, now, meta, previous))
                    current[e.originator_id] = e.originator_version
                    positions.append(position)
                result = AppendResult(positions=positions or [position], result=_result_of(req))
                if req.idempotency is not None:
                    at = positions[-1] if positions else position
                    keys.append((req.idempotency.key, req.idempotency.command,
                                 {"r": req.idempotency.result}, at, req.idempotency.fingerprint))
                    used[req.idempotency.key] = AppendResult(
                        positions=[at], result=req.idempotency.result, duplicate=True,
                        fingerprint=req.idempotency.fingerprint,
                    )
                outcomes.append((req, result))
            frontier: dict[Any, bytes] | None = None
            if rows:
                nodes: dict[Any, bytes] = {}
                if self.merkle_tree:
                    frontier = await self._frontier.at(conn, size_before)
                    nodes = tree.new_nodes(size_before, [r[7] for r in rows], frontier)
                await conn.execute(_INSERT, *map(list, zip(*rows, strict=True)),
                                   *tree.as_columns(nodes), NOTIFY_CHANNEL, str(position),
                                   self.merkle_tree)
            if keys:
                await conn.executemany(
                    "INSERT INTO idempotency_keys (key, command, result, position, fingerprint) "
                    "VALUES ($1, $2, $3::jsonb, $4, $5)",
                    keys,
                )
        if frontier is not None:
            self._frontier.committed(position, frontier)
        for req, outcome in outcomes:
            if req.future.done():
                continue
            if isinstance(outcome, Exception):
                req.future.set_exception(outcome)
            else:
                req.future.set_result(outcome)

    @staticmethod
    def _check(
        req: _Request, current: dict[UUID, int], used: dict[str, AppendResult]
    ) -> AppendResult | Exception | None:
        if req.idempotency is not None and req.idempotency.key in used:
            return used[req.idempotency.key]
        for originator_id, expected in req.expected_versions().items():
            actual = current.get(originator_id, 0)
            if actual != expected:
                return VersionConflict(originator_id, expected, actual)
        return None

    @staticmethod
    async def _current_versions(conn: asyncpg.Connection, batch: list[_Request]) -> dict[UUID, int]:
        ids = list({i for req in batch for i in req.expected_versions()})
        if not ids:
            return {}
        rows = await conn.fetch(CURRENT_VERSIONS, ids)
        return {r[0]: r[1] for r in rows if r[1] is not None}

    @staticmethod
    async def _used_keys(conn: asyncpg.Connection, batch: list[_Request]) -> dict[str, AppendResult]:
        keys = [req.idempotency.key for req in batch if req.idempotency is not None]
        if not keys:
            return {}
        rows = await conn.fetch(
            "SELECT key, result, position, fingerprint FROM idempotency_keys "
            "WHERE key = ANY($1::text[])", keys
        )
        return {r["key"]: _used(r) for r in rows}

    # -- reading -------------------------------------------------------------

    async def idempotent_result(self, key: str) -> AppendResult | None:
        """The first result of the command that used this key, if any did."""
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT result, position, fingerprint FROM idempotency_keys WHERE key = $1", key
            )
        return None if row is None else _used(row)

    async def max_position(self) -> int:
        async with self.pool.acquire() as conn:
            value = await conn.fetchval(f"SELECT max(notification_id) FROM {EVENTS_TABLE}")
        return int(value or 0)

    async def read_position(self, position: int) -> Recorded | None:
        """The row at one global position, if there is one."""
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(f"{_SELECT} WHERE notification_id = $1", position)
        return None if row is None else to_recorded(row)

    async def positions_of(self, originator_id: UUID) -> list[tuple[int, int]]:
        """(position, version) of each of one aggregate's rows, in version order."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT notification_id, originator_version FROM {EVENTS_TABLE} "
                "WHERE originator_id = $1 ORDER BY originator_version", originator_id)
        return [(r[0], r[1]) for r in rows]

    async def read_after(self, position: int, limit: int = 1000) -> list[Recorded]:
        """Rows with a position greater than ``position``, in order."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                f"{_SELECT} WHERE notification_id > $1 ORDER BY notification_id LIMIT $2",
                position, limit,
            )
        return [to_recorded(r) for r in rows]

    async def write_snapshot(self, originator_id: UUID, version: int, topic: str, state: bytes) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO snapshots VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                originator_id, version, topic, state,
            )

    async def read_snapshot(
        self, originator_id: UUID, to_version: int | None = None
    ) -> tuple[int, str, bytes] | None:
        """The latest snapshot at or before a version."""
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT originator_version, topic, state FROM snapshots WHERE originator_id = $1 "
                "AND ($2::bigint IS NULL OR originator_version <= $2) "
                "ORDER BY originator_version DESC LIMIT 1",
                originator_id, to_version,
            )
        return None if row is None else (row[0], row[1], bytes(row[2]))

    async def read_aggregate(
        self,
        originator_id: UUID,
        *,
        after_version: int = 0,
        to_version: int | None = None,
        as_of: datetime | None = None,
    ) -> list[Recorded]:
        """One aggregate's rows, optionally up to a version or a moment."""
        sql = f"{_SELECT} WHERE originator_id = $1 AND originator_version > $2"
        args: list[Any] = [originator_id, after_version]
        if to_version is not None:
            args.append(to_version)
            sql += f" AND originator_version <= ${len(args)}"
        if as_of is not None:
            args.append(as_of)
            sql += f" AND recorded_at <= ${len(args)}"
        sql += " ORDER BY originator_version"
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(sql, *args)
        return [to_recorded(r) for r in rows]


def _used(row: asyncpg.Record) -> AppendResult:
    return AppendResult(positions=[row["position"]], result=row["result"]["r"], duplicate=True,
                        fingerprint=row["fingerprint"])


def _result_of(req: _Request) -> Any:
    return req.idempotency.result if req.idempotency is not None else None
