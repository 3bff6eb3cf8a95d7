"""Idempotency keys: scoped to the caller, bound to the input they came with."""

from __future__ import annotations

import pytest

from program.application.context import Actor, CommandContext, Role
from program.application.idempotency import IdempotencyKeyReused, fingerprint

from .application_support import World, admin

HOPE = {"name": "Hope", "description": ""}
OTHER = {"name": "Other", "description": ""}


async def create(world: World, ctx: CommandContext, name: str):  # type: ignore[no-untyped-def]
    return await world.app.create_programme(ctx, name, "", None, None, 2)


async def test_create_programme_when_key_reused_with_same_input_replays_first_result() -> None:
    world = World.new()
    first = await create(world, admin("k-1", fingerprint(HOPE)), "Hope")
    position = len(world.store.rows)

    again = await create(world, admin("k-1", fingerprint(HOPE)), "Hope")

    assert again.replayed and again.value == first.value and again.position == first.position
    assert len(world.store.rows) == position


async def test_create_programme_when_key_reused_with_other_input_is_conflict() -> None:
    world = World.new()
    await create(world, admin("k-1", fingerprint(HOPE)), "Hope")
    position = len(world.store.rows)

    with pytest.raises(IdempotencyKeyReused) as refused:
        await create(world, admin("k-1", fingerprint(OTHER)), "Other")

    assert refused.value.code == "CONFLICT"
    assert len(world.store.rows) == position


async def test_create_programme_when_another_caller_used_the_key_runs_afresh() -> None:
    world = World.new()
    first = await create(world, admin("k-1", fingerprint(HOPE)), "Hope")
    other = CommandContext(Actor("admin-2", Role.ADMIN), idempotency_key="k-1",
                           input_fingerprint=fingerprint(HOPE))

    theirs = await create(world, other, "Hope")

    assert not theirs.replayed and theirs["programme_id"] != first["programme_id"]
