"""Errors the store raises to the application layer."""

from __future__ import annotations

from uuid import UUID


class StoreError(Exception):
    code = "INTERNAL"


class VersionConflict(StoreError):
    """Another writer appended to the aggregate first: reload and decide again."""

    code = "CONFLICT"

    def __init__(self, originator_id: UUID, expected: int, actual: int) -> None:
        super().__init__(
            f"aggregate {originator_id} is at version {actual}, expected {expected}"
        )
        self.originator_id = originator_id
        self.expected = expected
        self.actual = actual


class AggregateNotFound(StoreError):
    code = "NOT_FOUND"

    def __init__(self, originator_id: UUID) -> None:
        super().__init__(f"no aggregate with id {originator_id}")
        self.originator_id = originator_id


class StoreClosed(StoreError):
    code = "UNAVAILABLE"
