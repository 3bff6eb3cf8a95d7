"""The one path every mutation takes: authenticate, gate by role, run the command."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from strawberry.types import Info

from program.api.graphql import cache
from program.api.graphql.context import GraphQLContext, context_of
from program.api.graphql.errors import BadInput
from program.api.graphql.permissions import require_person_read, require_role
from program.application.context import CommandContext, Role
from program.application.unit import CommandResult
from program.projections import queries

MAX_KEY_LENGTH = 200

Call = Callable[[Any, CommandContext], Awaitable[CommandResult]]


async def run(
    info: Info, roles: tuple[Role, ...], input: Any, call: Call, *, person: UUID | None = None
) -> CommandResult:
    """Run ``call(application, ctx)`` for a caller whose role may do this mutation
    (and, with ``person``, who may act for that person)."""
    ctx = context_of(info)
    actor = ctx.actor
    require_role(actor, *roles)
    if person is not None and actor.role is not Role.ADMIN:
        await _require_person_scope(ctx, person)
    key = _scoped_key(actor.subject, info.field_name, getattr(input, "idempotency_key", None))
    try:
        return await call(ctx.services.application, ctx.command(key))
    finally:
        # Even a failed command may have changed something; over any transport.
        cache.results.invalidate()


async def _require_person_scope(ctx: GraphQLContext, person: UUID) -> None:
    """A manager records consent only for people in their programmes (or in none yet):
    a withdrawal would otherwise end enrolments in someone else's programme."""
    found = (await queries.get_participants(ctx.services.pool, [person])).get(person)
    if found is not None:
        require_person_read(ctx.actor, found.programme_ids)


def _scoped_key(subject: str, mutation: str, key: str | None) -> str | None:
    """Keys are per caller and per mutation, so nobody replays someone else's answer."""
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise BadInput(f"idempotencyKey must be 1 to {MAX_KEY_LENGTH} characters")
    return f"{subject}\x1f{mutation}\x1f{key}"
