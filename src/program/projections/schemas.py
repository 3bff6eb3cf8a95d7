"""Each read model in its own PostgreSQL schema: create, build aside, swap in by renaming."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from program.projections.base import Projection
from program.projections.checkpoint import CHECKPOINTS, CHECKPOINTS_DDL
from program.projections.failures import FAILURES_DDL

# Serialises read-model DDL across processes (pg_advisory_xact_lock key).
_DDL_LOCK = 0x726D_6464  # 'rmdd'

NEW = "__new"
OLD = "__old"


async def schema_exists(conn: asyncpg.Connection, schema: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema
    ))


async def create(
    conn: asyncpg.Connection, projection: Projection, schema: str, *, indexes: bool = True
) -> None:
    """Create the schema and its tables (and, unless told not to, its indexes)."""
    await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    await conn.execute(f"CREATE SCHEMA {schema}")
    for table in projection.tables:
        await conn.execute(table.ddl(schema))
    if indexes:
        await create_indexes(conn, projection, schema)


async def create_indexes(conn: asyncpg.Connection, projection: Projection, schema: str) -> None:
    for index in projection.indexes:
        await conn.execute(index.format(schema=schema))


async def drop(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


async def ensure(pool: asyncpg.Pool, projections: Iterable[Projection]) -> set[str]:
    """Create missing read models (empty, at position 0); name those whose shape changed.

    A read model whose tables changed keeps serving until a rebuild swaps the new
    shape in; the caller decides when to rebuild.
    """
    outdated: set[str] = set()
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _DDL_LOCK)
        await conn.execute(CHECKPOINTS_DDL)
        await conn.execute(FAILURES_DDL)
        for projection in projections:
            version = projection.schema_version()
            stored = await conn.fetchval(
                f"SELECT version FROM {CHECKPOINTS} WHERE name = $1", projection.name
            )
            if stored is None or not await schema_exists(conn, projection.schema):
                await create(conn, projection, projection.schema)
                await conn.execute(
                    f"INSERT INTO {CHECKPOINTS} (name, position, version) VALUES ($1, 0, $2) "
                    "ON CONFLICT (name) DO UPDATE SET position = 0, version = EXCLUDED.version, "
                    "updated_at = now(), error = NULL, error_at = NULL",
                    projection.name, version,
                )
            elif stored != version:
                outdated.add(projection.name)
    return outdated


async def swap_in(conn: asyncpg.Connection, projection: Projection, built: str) -> str:
    """Rename ``built`` to the live name inside the caller's transaction; returns the old
    schema's new name, to drop after commit (so readers of the old tables are not waited on)."""
    live = projection.schema
    old = live + OLD
    await conn.execute(f"DROP SCHEMA IF EXISTS {old} CASCADE")
    if await schema_exists(conn, live):
        await conn.execute(f"ALTER SCHEMA {live} RENAME TO {old}")
    await conn.execute(f"ALTER SCHEMA {built} RENAME TO {live}")
    return old
