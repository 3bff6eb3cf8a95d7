"""What every group of command handlers shares: the runner, the clock and the key store."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from program.application.context import Clock, CommandContext, SystemClock
from program.application.ports import Aggregates, PersonalDataKeys
from program.application.unit import Authorise, CommandResult, CommandRunner, Decide
from program.domain.errors import InvalidInput


class Handlers:
    """Base of the command-handler mixins that make up ``Application``."""

    def __init__(
        self, repository: Aggregates, keys: PersonalDataKeys, clock: Clock | None = None
    ) -> None:
        self.repository = repository
        self.keys = keys
        self.clock: Clock = clock or SystemClock()
        self.runner = CommandRunner(repository)

    def today(self) -> date:
        return self.clock.now().date()

    async def _run(
        self,
        ctx: CommandContext,
        command: str,
        decide: Decide,
        *,
        authorise: Authorise,
        key: UUID | None = None,
    ) -> CommandResult:
        """``authorise`` asks the access policy about every aggregate the command
        touches; it runs before a replay is answered and before ``decide``."""
        return await self.runner.run(ctx, command, decide, authorise=authorise, key=key)


def as_uuid(value: Any, field: str) -> UUID:
    """Accept a UUID or its text; anything else is bad input. A kind of UUID (the
    driver's, read back from the database) becomes a plain one: events record only those."""
    if type(value) is UUID:
        return value
    try:
        return UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise InvalidInput(field, f"{value!r} is not a valid id") from None


def ids(**values: UUID | None) -> dict[str, Any]:
    """A result payload with ids as text (results are stored for idempotent replay)."""
    return {k: (str(v) if isinstance(v, UUID) else v) for k, v in values.items()}
