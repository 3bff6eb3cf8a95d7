"""The database schema, created and versioned at start-up, idempotently."""

from __future__ import annotations

import asyncpg

from program.store.database import takes_session_state

EVENTS_TABLE = "stored_events"
# Writers to the log take this transaction-level advisory lock, one at a time, instead of
# a table lock: ``LOCK TABLE … IN EXCLUSIVE MODE`` also conflicts with autovacuum's lock,
# so each append queued behind a vacuum of a grown log for a second until PostgreSQL
# cancelled the vacuum, which started again and again: appends on a million-event log
# fell from 28,000 to 490 a second while it lasted. Readers never took the table lock.
WRITER_LOCK = 0x6C6F6777  # 'logw'
NOTIFY_CHANNEL = "program_events"

# Each migration runs once, in order, in its own transaction. Never edit a shipped
# migration: append a new one.
MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "event store",
        f"""
        CREATE TABLE IF NOT EXISTS {EVENTS_TABLE} (
            originator_id uuid NOT NULL,
            originator_version bigint NOT NULL,
            topic text,
            state bytea,
            notification_id bigserial,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            hash bytea NOT NULL,
            PRIMARY KEY (originator_id, originator_version)
        );
        CREATE UNIQUE INDEX IF NOT EXISTS {EVENTS_TABLE}_notification_id_idx
            ON {EVENTS_TABLE} (notification_id ASC);
        CREATE INDEX IF NOT EXISTS {EVENTS_TABLE}_recorded_at_idx
            ON {EVENTS_TABLE} (originator_id, recorded_at);
        CREATE TABLE IF NOT EXISTS idempotency_keys (
            key text PRIMARY KEY,
            command text NOT NULL,
            result jsonb NOT NULL,
            position bigint NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE IF NOT EXISTS personal_data_keys (
            subject_id uuid PRIMARY KEY,
            key bytea,
            created_at timestamptz NOT NULL DEFAULT now(),
            destroyed_at timestamptz
        );
        """,
    ),
]

MIGRATIONS.append(
    (
        2,
        "snapshots",
        """
        CREATE TABLE IF NOT EXISTS snapshots (
            originator_id uuid NOT NULL,
            originator_version bigint NOT NULL,
            topic text NOT NULL,
            state bytea NOT NULL,
            PRIMARY KEY (originator_id, originator_version)
        );
        """,
    )
)

MIGRATIONS.append(
    (
        3,
        "transparency log",
        """
        CREATE TABLE IF NOT EXISTS ledger_nodes (
            level smallint NOT NULL,
            idx bigint NOT NULL,
            hash bytea NOT NULL,
            PRIMARY KEY (level, idx)
        );
        CREATE TABLE IF NOT EXISTS ledger_checkpoints (
            size bigint PRIMARY KEY,
            root bytea NOT NULL,
            note text NOT NULL,
            issued_at timestamptz NOT NULL DEFAULT now()
        );
        """,
    )
)

MIGRATIONS.append(
    (
        4,
        "idempotency key fingerprints",
        # Keys are now digests of the caller's identity, the command and the key; the
        # fingerprint of the input a key came with lets a different input be refused.
        """
        ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS fingerprint text;
        """,
    )
)

MIGRATIONS.append(
    (
        5,
        "transparency log keeps subtrees of eight leaves and more",
        # Smaller subtrees are recomputed from the rows' own hashes; the tree's size,
        # no longer readable off its leaves, is kept beside it.
        """
        CREATE TABLE IF NOT EXISTS ledger_state (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            size bigint NOT NULL
        );
        INSERT INTO ledger_state (size)
            SELECT coalesce(max(idx) + 1, 0) FROM ledger_nodes WHERE level = 0
            ON CONFLICT DO NOTHING;
        DELETE FROM ledger_nodes WHERE level < 3;
        """,
    )
)

MIGRATIONS.append(
    (
        6,
        "the log's past states are read along its primary key",
        # Every append wrote this index too, and an index led by a random id is written on
        # a page of its own each time: on a log of a million events it added about half a
        # kilobyte of WAL (whole pages, after a checkpoint) and a tenth of the time to
        # each append. An aggregate as of a moment is its own events (the primary key)
        # up to that moment.
        f"""
        DROP INDEX IF EXISTS {EVENTS_TABLE}_recorded_at_idx;
        """,
    )
)

SCHEMA_VERSION = MIGRATIONS[-1][0]

_LOCK_ID = 0x70726F67  # 'prog': serialises migrations across processes


async def migrate(conn: asyncpg.Connection) -> int:
    """Bring the schema to the current version; safe to call from many processes."""
    takes_session_state(conn)
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_ID)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version int PRIMARY KEY, name text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        applied = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for version, name, sql in MIGRATIONS:
            if version in applied:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name
                )
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_ID)
    return await current_version(conn)


async def current_version(conn: asyncpg.Connection) -> int:
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return 0
    return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations"))
