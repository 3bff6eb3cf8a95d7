"""Idempotency keys: scoped to the caller's whole identity and the command, and bound
to the input they were first used with."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from program.application.context import Actor, CommandContext


class IdempotencyKeyReused(Exception):
    """The caller used this key before, for this command, with another input."""

    code = "CONFLICT"

    def __init__(self) -> None:
        super().__init__(
            "this idempotency key was already used for this command with a different input; "
            "use a new key for a new request"
        )


def _identity(actor: Actor) -> list[Any]:
    # Two tokens minted with the same subject but other roles or scopes are other callers.
    return [
        actor.subject,
        actor.role.value,
        sorted(str(p) for p in actor.programme_ids),
        str(actor.facilitator_id) if actor.facilitator_id else None,
        actor.partner_id,
    ]


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def scoped_key(ctx: CommandContext, command: str) -> str | None:
    """The stored key: a digest of who asked, which command, and the caller's key."""
    if ctx.idempotency_key is None:
        return None
    return _digest([_identity(ctx.actor), command, ctx.idempotency_key])


def fingerprint(input: Mapping[str, Any]) -> str:
    """A digest of a command's input (without its idempotency key), kept with the key."""
    return _digest({k: v for k, v in input.items() if k != "idempotency_key"})
