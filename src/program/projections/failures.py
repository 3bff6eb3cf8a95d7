"""Failures: the event a projection cannot apply, recorded durably until it moves past it.

One row per stuck projection: where (position, event type), what (error class and a
short message with anything quoted taken out, so no personal data or event payload is
kept), since when, how many attempts, and when the next one is due. Any process reads
it: ``program projections status``, ``/ready`` and ``/metrics`` all show it.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import asyncpg

FAILURES = "projection_failures"

FAILURES_DDL = f"""
CREATE TABLE IF NOT EXISTS {FAILURES} (
    name text PRIMARY KEY,
    position bigint NOT NULL,
    event_type text,
    error_class text NOT NULL,
    message text NOT NULL,
    first_failed_at timestamptz NOT NULL DEFAULT now(),
    last_tried_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 1,
    next_try_at timestamptz
)"""

MESSAGE_CHARS = 200
T = TypeVar("T")

# Connection trouble says nothing about the event being applied: it is not isolated,
# and the failure is recorded against the next position without blaming an event.
TRANSIENT = (OSError, TimeoutError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError,
             asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError,
             asyncpg.AdminShutdownError)


@dataclass(frozen=True)
class Failure:
    """Why a projection stands still."""

    name: str
    position: int
    event_type: str | None
    error_class: str
    message: str
    first_failed_at: datetime
    last_tried_at: datetime
    attempts: int
    next_try_at: datetime | None = None

    @property
    def summary(self) -> str:
        return f"{self.error_class}: {self.message}" if self.message else self.error_class

    def as_dict(self) -> dict[str, object]:
        return {
            "position": self.position, "event_type": self.event_type,
            "error_class": self.error_class, "message": self.message,
            "first_failed_at": self.first_failed_at.isoformat(),
            "last_tried_at": self.last_tried_at.isoformat(), "attempts": self.attempts,
            "next_try_at": self.next_try_at.isoformat() if self.next_try_at else None,
        }


_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'|\([^)]*\)=\([^)]*\)|«[^»]*»")
_LONG = re.compile(r"\S{41,}")


def describe(error: BaseException) -> tuple[str, str]:
    """The error's class and a short message fit to keep and show.

    Error messages may quote the value that failed (``invalid input syntax: "…"``,
    ``Key (name)=(…)``): quoted parts and long words are replaced with ``…``.
    """
    cls = type(error).__name__
    sqlstate = getattr(error, "sqlstate", None)
    text = str(error).splitlines()[0] if str(error) else ""
    text = _LONG.sub("…", _QUOTED.sub("…", text))
    if len(text) > MESSAGE_CHARS:
        text = text[: MESSAGE_CHARS - 1] + "…"
    return (f"{cls} [{sqlstate}]" if sqlstate else cls), text


_RECORD = f"""
INSERT INTO {FAILURES} AS f (name, position, event_type, error_class, message, next_try_at)
VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
ON CONFLICT (name) DO UPDATE SET
    attempts = CASE WHEN f.position = EXCLUDED.position THEN f.attempts + 1 ELSE 1 END,
    first_failed_at = CASE WHEN f.position = EXCLUDED.position THEN f.first_failed_at
                           ELSE now() END,
    position = EXCLUDED.position, event_type = EXCLUDED.event_type,
    error_class = EXCLUDED.error_class, message = EXCLUDED.message,
    last_tried_at = now(), next_try_at = EXCLUDED.next_try_at
RETURNING *
"""


async def record(
    conn: asyncpg.Connection | asyncpg.Pool, name: str, position: int, event_type: str | None,
    error: BaseException, retry_in: float,
) -> Failure:
    """Record one more failed attempt at ``position`` (a new position starts counting again)."""
    error_class, message = describe(error)
    row = await conn.fetchrow(_RECORD, name, position, event_type, error_class, message,
                              float(retry_in))
    return _failure(row)


async def clear(conn: asyncpg.Connection | asyncpg.Pool, name: str, applied: int) -> bool:
    """Forget the failure once the projection has applied past it; True if there was one."""
    return bool(await conn.fetch(
        f"DELETE FROM {FAILURES} WHERE name = $1 AND position <= $2 RETURNING name",
        name, applied))


async def read(conn: asyncpg.Connection | asyncpg.Pool, name: str) -> Failure | None:
    if not await _exists(conn):
        return None
    row = await conn.fetchrow(f"SELECT * FROM {FAILURES} WHERE name = $1", name)
    return None if row is None else _failure(row)


async def read_all(conn: asyncpg.Connection | asyncpg.Pool) -> dict[str, Failure]:
    if not await _exists(conn):
        return {}
    return {r["name"]: _failure(r) for r in await conn.fetch(f"SELECT * FROM {FAILURES}")}


async def _exists(conn: asyncpg.Connection | asyncpg.Pool) -> bool:
    return bool(await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", FAILURES))


def _failure(row: asyncpg.Record) -> Failure:
    return Failure(**dict(row))


class EventFailed(Exception):
    """A projection cannot apply the event at ``position`` (``cause`` says why)."""

    def __init__(self, position: int, event_type: str, cause: BaseException,
                 projection: str | None = None) -> None:
        error_class, message = describe(cause)
        super().__init__(f"{projection or 'a read model'} cannot apply position {position} "
                         f"({event_type}): {error_class}" + (f": {message}" if message else ""))
        self.position = position
        self.event_type = event_type
        self.cause = cause
        self.projection = projection


def cause_of(failure: BaseException) -> BaseException:
    return failure.cause if isinstance(failure, EventFailed) else failure


def position_of(failure: BaseException, applied: int) -> int:
    """Where the projection is stuck: the failing event, or the next one if not isolated."""
    return failure.position if isinstance(failure, EventFailed) else applied + 1


def frames(error: BaseException, depth: int = 4) -> str:
    """Where the error came from (file, line, function), without its message or locals."""
    frames = traceback.extract_tb(error.__traceback__)[-depth:]
    return "".join(f"\n  at {f.filename.rpartition('/')[2]}:{f.lineno} in {f.name}"
                   for f in frames)


async def isolate(apply: Callable[[Sequence[T]], Awaitable[None]], items: Sequence[T],
                  where: Callable[[T], tuple[int, str]], projection: str) -> None:
    """``apply(items)``, each call in a transaction of its own; if it fails, the halves,
    and so on, so everything before the failing item is applied and ``EventFailed``
    names it (``where`` gives an item's position and event type)."""
    try:
        await apply(items)
        return
    except TRANSIENT:
        raise
    except Exception as exc:
        if len(items) == 1:
            position, kind = where(items[0])
            raise EventFailed(position, kind, exc, projection) from exc
    middle = len(items) // 2
    await isolate(apply, items[:middle], where, projection)
    await isolate(apply, items[middle:], where, projection)
