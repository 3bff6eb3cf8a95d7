"""Keyset pagination shared by the read models' queries: pages, opaque cursors over a sort
key, and SQL built with numbered arguments."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

T = TypeVar("T")

MAX_PAGE = 500


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a keyset-paginated list; pass ``end_cursor`` as ``after`` for the next."""

    items: tuple[T, ...]
    has_next: bool
    end_cursor: str | None
    cursors: tuple[str, ...] = ()  # one per item (Relay edges); the last is ``end_cursor``


class InvalidQuery(ValueError):
    """A cursor or page size the caller sent is not one we produce or accept."""

    code = "BAD_USER_INPUT"


def encode_cursor(*key: Any) -> str:
    raw = json.dumps([str(k) if not isinstance(k, int | float) else k for k in key],
                     separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidQuery(f"cursor {cursor!r} is not valid") from None
    if not isinstance(key, list) or len(key) != arity:
        raise InvalidQuery(f"cursor {cursor!r} is not valid")
    return key


def cursor_moment(value: Any) -> datetime:
    """A timestamp read back from a cursor."""
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidQuery("cursor is not valid") from None


def cursor_uuid(value: Any) -> UUID:
    """An id read back from a cursor."""
    try:
        return UUID(str(value))
    except ValueError:
        raise InvalidQuery("cursor is not valid") from None


def page_size(first: int) -> int:
    if isinstance(first, bool) or not isinstance(first, int) or first < 0:
        raise InvalidQuery("first must be a whole number of at least 0")
    return min(first, MAX_PAGE)


class Sql:
    """A statement assembled from conditions, with ``$n`` placeholders numbered as added."""

    def __init__(self, select: str) -> None:
        self.select = select
        self.args: list[Any] = []
        self.conditions: list[str] = []

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def where(self, condition: str) -> None:
        self.conditions.append(condition)

    def text(self, order_by: str, limit: int | None = None) -> str:
        sql = self.select
        if self.conditions:
            sql += " WHERE " + " AND ".join(f"({c})" for c in self.conditions)
        sql += f" ORDER BY {order_by}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return sql


def make_page(items: Sequence[T], first: int, cursor_of: Callable[[T], str]) -> Page[T]:
    """``items`` holds up to ``first + 1`` rows: the extra one only says there is more."""
    shown = tuple(items[:first])
    cursors = tuple(cursor_of(item) for item in shown)
    return Page(shown, len(items) > first, cursors[-1] if cursors else None, cursors)
