"""The one path every mutation takes: authenticate, then run the command, which asks the
access policy about every aggregate it touches before anything else."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from strawberry.types import Info

from program.api.graphql import cache
from program.api.graphql.context import context_of
from program.api.graphql.errors import BadInput
from program.application.context import CommandContext
from program.application.idempotency import fingerprint
from program.application.unit import CommandResult

MAX_KEY_LENGTH = 200

Call = Callable[[Any, CommandContext], Awaitable[CommandResult]]


async def run(info: Info, input: Any, call: Call, *, shreds_keys: bool = False) -> CommandResult:
    """Run ``call(application, ctx)`` as the authenticated caller. ``shreds_keys``: the
    command destroys personal-data keys, which cached answers may have decrypted with."""
    ctx = context_of(info)
    ctx.actor  # noqa: B018 -- no token, no command: UNAUTHENTICATED before anything else
    key = _checked_key(getattr(input, "idempotency_key", None))
    command = ctx.command(key, fingerprint(dataclasses.asdict(input)) if key else None)
    try:
        return await call(ctx.services.application, command)
    finally:
        # Other commands reach cached answers through the read models they change (see
        # ``cache``); a shredded key changes what an answer shows before they apply it.
        if shreds_keys:
            cache.results.invalidate()


def _checked_key(key: str | None) -> str | None:
    """The application scopes a key to the caller's identity and the command."""
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise BadInput(f"idempotencyKey must be 1 to {MAX_KEY_LENGTH} characters")
    return key
