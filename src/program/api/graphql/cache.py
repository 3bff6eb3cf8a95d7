"""Answers to repeated queries, served again while what they read stands still.

Many managers poll dashboards that change rarely; re-running the same query for the
same caller against unchanged read models gives the same answer, so the encoded answer
is kept and served again. What may be served is deliberately narrow (see ``ResultCache``);
the package docstring says what a client can rely on.

An answer whose reads are known (``Reads``: per read model, the entities it read, or
None for all of it) stays valid while the read models it did not read move, and while
the batches of those it read changed none of its entities — as the runner's
``ChangeLog`` hears it from whichever process applied them. An answer whose reads are
not known stays valid only while every read model stands still.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import OperationType

from program.application.context import Actor

ENV_SWITCH = "PROGRAM_GRAPHQL_CACHE"
_ON, _OFF = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}

Key = tuple[str, str | None, str, Actor]
# Per read model, the entities (ids as text) an answer read; None: any of its rows.
Reads = dict[str, frozenset[str] | None]


@dataclass(frozen=True, slots=True)
class Ticket:
    """Where the read models stood when a cacheable request started."""

    key: Key
    runner: object
    positions: dict[str, int]
    generation: int
    started: float


@dataclass(frozen=True, slots=True)
class _Entry:
    body: bytes
    runner: object
    positions: dict[str, int]
    generation: int
    expires: float
    reads: Reads | None = None  # None: not known, any change to any read model counts


class ResultCache:
    """Encoded answers of successful queries, least recently used out.

    An answer is served again only for the same query text, operation name and
    variables, to the same caller (the whole actor: subject, role, programmes,
    facilitator, partner, since visibility depends on all of them), while nothing it
    read has changed since the positions it was computed at (module docstring; as the
    projection runner of this process knows it: its own commits and other projectors'
    notifications), while no erasure has gone through this process since, and for at
    most ``ttl`` seconds, because some fields depend on the clock (``nextSession``,
    ``daysToExpiry``). Mutations, answers with errors and answers over ``max_body``
    bytes are never kept; at most ``size`` answers and ``max_bytes`` bytes are.
    ``hits`` and ``misses`` count lookups of cacheable requests; ``bytes`` is the size
    of the answers kept.
    """

    def __init__(
        self,
        *,
        enabled: bool = True,
        size: int = 1024,
        ttl: float = 1.0,
        max_body: int = 256 * 1024,
        max_bytes: int = 32 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = enabled
        self.size = size
        self.ttl = ttl
        self.max_body = max_body
        self.max_bytes = max_bytes
        self.clock = clock
        self.hits = 0
        self.misses = 0
        self.bytes = 0
        self.generation = 0
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()
        self._computing: dict[Key, asyncio.Future[None]] = {}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> ResultCache:
        """On unless ``PROGRAM_GRAPHQL_CACHE`` says ``0`` (or false/no/off)."""
        value = environ.get(ENV_SWITCH, "1").strip().lower()
        if value not in _ON | _OFF:
            raise ValueError(f"{ENV_SWITCH} must be 1 or 0, not {value!r}")
        return cls(enabled=value in _ON)

    def __len__(self) -> int:
        return len(self._entries)

    def ticket(
        self, services: Any, actor: Actor, operation: OperationType | None, query: str,
        operation_name: str | None, variables: dict[str, Any] | None,
    ) -> Ticket | None:
        """A ticket when this request may be answered from (and into) the cache, else None."""
        if not self.enabled or operation is not OperationType.QUERY:
            return None
        runner = services.projections
        if not _knows_positions(runner):
            return None
        positions = runner.positions()
        key = (query, operation_name, canonical(variables), actor)
        return Ticket(key, runner, positions, self.generation, self.clock())

    def lookup(self, ticket: Ticket) -> bytes | None:
        entry = self._entries.get(ticket.key)
        if entry is not None:
            if (entry.runner is ticket.runner and entry.generation == self.generation
                    and ticket.started < entry.expires and _unchanged(entry, ticket)):
                self._entries.move_to_end(ticket.key)
                self.hits += 1
                return entry.body
            self._drop(ticket.key)
        self.misses += 1
        return None

    async def after_the_same(self, ticket: Ticket) -> bytes | None:
        """When the same request (same key) is being answered already, wait for that
        answer and serve it if it may be served to this ticket: one computation for a
        crowd asking at once, instead of one each (a dashboard many poll, the moment its
        answer expired). The caller computes its own answer otherwise."""
        computing = self._computing.get(ticket.key)
        if computing is None:
            return None
        await asyncio.shield(computing)
        entry = self._entries.get(ticket.key)
        if (entry is None or entry.runner is not ticket.runner
                or entry.generation != self.generation or ticket.started >= entry.expires
                or not _unchanged(entry, ticket)):
            return None
        self._entries.move_to_end(ticket.key)
        self.misses -= 1  # counted by ``lookup``; served after all
        self.hits += 1
        return entry.body

    def computing(self, ticket: Ticket) -> Callable[[], None]:
        """Mark the ticket's key as being answered; call what it returns when done."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._computing.setdefault(ticket.key, future)

        def done() -> None:
            if self._computing.get(ticket.key) is future:
                del self._computing[ticket.key]
            future.set_result(None)

        return done

    def store(self, ticket: Ticket, body: bytes, reads: Reads | None = None) -> None:
        """Keep a successful answer under the positions read before it was computed.

        Read models that moved while it was computed make the entry stale at once,
        which is what makes storing safe without knowing what the query read. A request
        that had to wait for ``consistentWith`` was computed at later positions than its
        ticket's, so it is never served; one that did not wait was already caught up.
        """
        if ticket.generation != self.generation or len(body) > self.max_body:
            return
        self._drop(ticket.key)
        self._entries[ticket.key] = _Entry(body, ticket.runner, ticket.positions,
                                           ticket.generation, ticket.started + self.ttl,
                                           reads)
        self.bytes += len(body)
        while len(self._entries) > self.size or self.bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def invalidate(self) -> None:
        """Forget every answer: an erasure ran in this process (it shreds a key before
        the read models apply it, and names are decrypted with that key)."""
        self.generation += 1
        self._forget()

    def _drop(self, key: Key) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.bytes -= len(entry.body)

    def _forget(self) -> None:
        self._entries.clear()
        self.bytes = 0


def _unchanged(entry: _Entry, ticket: Ticket) -> bool:
    """Nothing the entry read changed between its positions and the ticket's."""
    if entry.positions == ticket.positions:
        return True
    reads = entry.reads
    log = getattr(ticket.runner, "changes", None)
    if reads is None or log is None or entry.positions.keys() != ticket.positions.keys():
        return False
    for name, now in ticket.positions.items():
        then = entry.positions[name]
        if then != now and name in reads and not log.untouched(name, then, now, reads[name]):
            return False
    return True


def _knows_positions(runner: Any) -> bool:
    """Whether this process's runner learns of every read-model change as it commits.

    Without a runner, or when it cannot LISTEN for other projectors' checkpoints (it
    then only polls, and only while someone waits), an unchanged position proves nothing.
    A read model being rebuilt changes without its position moving.
    """
    if runner is None or not hasattr(runner, "positions"):
        return False
    # TODO: ask the runner for a public ``listening`` flag instead of its connection.
    watch = getattr(runner, "_watch", None)
    return watch is not None and not watch.is_closed() and not runner.outdated


def canonical(variables: dict[str, Any] | None) -> str:
    """The variables as one text, the same for equal values whatever the key order."""
    if not variables:
        return ""
    return json.dumps(variables, sort_keys=True, separators=(",", ":"))


results = ResultCache.from_env()
