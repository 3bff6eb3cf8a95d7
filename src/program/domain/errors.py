"""Domain errors: the base class and the errors every aggregate shares. Errors
specific to one aggregate live beside it (STYLE §2); ``program.domain`` exports all.

Every error has a machine-readable ``code`` (the GraphQL ``extensions.code``)
and a message a programme manager can read. Commands raise them before any
event is triggered, so a rejected command changes nothing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar


class DomainError(Exception):
    """A command broke a business rule or got malformed input.

    Subclasses set ``code`` and a ``template`` filled from keyword details;
    ``details`` stays available for the API (e.g. GraphQL extensions).
    """

    code: ClassVar[str] = "DOMAIN_ERROR"
    template: ClassVar[str] = "{message}"

    def __init__(self, **details: Any) -> None:
        # Enum members become their plain values, so details are easy to emit.
        self.details = {
            k: (v.value if isinstance(v, StrEnum) else v) for k, v in details.items()
        }
        self.message = self.template.format(**details)
        super().__init__(self.message)


class InvalidInput(DomainError):
    """A value is malformed: empty name, negative score, unknown enum value..."""

    code = "BAD_USER_INPUT"
    template = "Invalid {field}: {problem}."

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(field=field, problem=problem)


class InvalidTransition(DomainError):
    """The aggregate's lifecycle does not allow this move."""

    code = "INVALID_STATE_TRANSITION"
    template = "{entity} cannot go from {from_state} to {to_state}."

    def __init__(self, entity: str, from_state: str, to_state: str) -> None:
        super().__init__(entity=entity, from_state=from_state, to_state=to_state)


__all__ = ["DomainError", "InvalidInput", "InvalidTransition"]
