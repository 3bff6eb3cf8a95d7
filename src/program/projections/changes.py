"""Which entities each applied batch changed, told to every process (NOTIFY) and kept briefly.

A projection that writes only through ``tables.Rows`` knows the rows a batch changed; the
first column of a row's key is the entity it belongs to (a cohort's row, its facilitators'
rows and its members' rows all start with the cohort's id). With the checkpoint, in the
same transaction, the projector NOTIFYs ``name:from:to:id,id,…`` (``*`` when the
projection cannot tell, or when too many changed for one notification). Every runner
listening keeps the recent ones in a ``ChangeLog``, so a cached answer can ask whether
anything it read changed between two positions — in any process.
"""

from __future__ import annotations

import contextvars
from bisect import bisect_right
from collections.abc import Iterable
from typing import Any

CHANNEL = "program_changes"
MAX_IDS = 150  # 150 uuids fit well within NOTIFY's 8,000 bytes
ALL = "*"

Changed = frozenset[str] | None  # None: anything may have changed

_collecting: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar(
    "program_changes", default=None)


def payload(name: str, start: int, end: int, ids: Iterable[str] | None) -> str:
    listed = None if ids is None else sorted(set(ids))
    tail = ALL if listed is None or len(listed) > MAX_IDS else ",".join(listed)
    return f"{name}:{start}:{end}:{tail}"


def parse(text: str) -> tuple[str, int, int, Changed]:
    name, start, end, tail = text.split(":", 3)
    ids: Changed = None if tail == ALL else frozenset(filter(None, tail.split(",")))
    return name, int(start), int(end), ids


def collect() -> contextvars.Token[set[str] | None]:
    """Start collecting the entities rows are written for (in this task)."""
    return _collecting.set(set())


def collected(token: contextvars.Token[set[str] | None]) -> set[str]:
    ids = _collecting.get() or set()
    _collecting.reset(token)
    return ids


def wrote(keys: Iterable[Any]) -> None:
    """``Rows.flush`` reports the keys it wrote or deleted."""
    ids = _collecting.get()
    if ids is not None:
        ids.update(str(k[0] if isinstance(k, tuple) else k) for k in keys)


class ChangeLog:
    """The recent batches of each read model: (from, to, entities changed).

    Kept in position order with their end positions beside them, so a question about
    ``since`` starts at the first batch ending after it (a binary search) instead of
    walking every batch kept: a cache lookup costs what changed since its answer, not
    what the log remembers.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._log: dict[str, list[tuple[int, int, Changed]]] = {}
        self._ends: dict[str, list[int]] = {}

    def record(self, name: str, start: int, end: int, ids: Changed) -> None:
        log = self._log.setdefault(name, [])
        ends = self._ends.setdefault(name, [])
        log.append((start, end, ids))
        ends.append(end)
        if len(log) > 2 * self.size:  # forget the oldest half at once: O(1) amortised
            del log[: len(log) - self.size]
            del ends[: len(ends) - self.size]

    def heard(self, name: str) -> int:
        """The position the last batch heard of ended at (0: none)."""
        log = self._log.get(name)
        return log[-1][1] if log else 0

    def untouched(self, name: str, since: int, until: int, ids: Changed) -> bool:
        """Whether no batch between ``since`` and ``until`` changed any of ``ids`` (None:
        anything), as far as the log can tell; a gap in it counts as a change."""
        if since == until:
            return True
        if since > until:
            return False
        log = self._log.get(name)
        if not log:
            return False
        covered = since
        for i in range(bisect_right(self._ends[name], since), len(log)):
            start, end, changed = log[i]
            if start > covered:
                return False  # a batch we did not hear of
            if changed is None or (changed and (ids is None or not changed.isdisjoint(ids))):
                return False
            covered = end
            if covered >= until:
                return True
        return False
