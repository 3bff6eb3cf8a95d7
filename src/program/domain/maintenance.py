"""ProjectionMaintenance: an operator's decisions about one read model's projection.

When a projection cannot apply an event it stops there and retries; an operator may
skip that event (the read model goes on without it) or ask for a retry now. Both are
events, so they are in the audit trail with who decided, when and why, and every
projector (here or in another process, now or after a restart or a rebuild) honours a
skip the same way: a skip names one position of the log, and a position is skipped once.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from program.domain.errors import DomainError
from program.domain.values import require_int, require_text

# Never change: maintenance ids derive from it (uuid5 of NAMESPACE_URL and
# "urn:program:domain:maintenance").
MAINTENANCE_NAMESPACE = UUID("05119ba2-b1e5-5712-97f4-9bd648dafb76")


class EventAlreadySkipped(DomainError):
    code = "EVENT_ALREADY_SKIPPED"
    template = "Position {position} is already skipped by projection {projection}."


class ProjectionMaintenance(Aggregate):
    """One per projection (its id derives from the projection's name)."""

    @staticmethod
    def create_id(projection: str) -> UUID:
        return uuid5(MAINTENANCE_NAMESPACE, projection)

    @classmethod
    def open(cls, projection: str) -> ProjectionMaintenance:
        return cls(projection=require_text(projection, "projection"))

    @event("Opened")
    def __init__(self, projection: str) -> None:
        self._projection = projection
        self._skipped: set[int] = set()

    @property
    def projection(self) -> str:
        return self._projection

    @property
    def skipped(self) -> frozenset[int]:
        return frozenset(self._skipped)

    def skip(self, position: int, event_type: str | None, reason: str) -> None:
        """Skip the event at ``position``: the read model goes on as if it held nothing."""
        position = require_int(position, "position")
        if position in self._skipped:
            raise EventAlreadySkipped(projection=self._projection, position=position)
        self._skip(position=position, event_type=event_type,
                   reason=require_text(reason, "reason"))

    @event("EventSkipped")
    def _skip(self, position: int, event_type: str | None, reason: str) -> None:
        self._skipped.add(position)

    def request_retry(self, position: int | None, reason: str) -> None:
        """Ask the projector to try the event it is stuck on again, now."""
        self._request_retry(position=position, reason=require_text(reason, "reason"))

    @event("RetryRequested")
    def _request_retry(self, position: int | None, reason: str) -> None:
        pass
