"""The access policy, as commands meet it: refusals come before anything is decided."""

from __future__ import annotations

from dataclasses import replace

import pytest

from program.application.policy import Forbidden

from .application_support import PURPOSE, World, admin, manager_of


async def test_enrol_when_manager_of_another_programme_is_forbidden() -> None:
    world = World.new()
    prog, elsewhere = await world.programme(), await world.programme()
    cohort, person = await world.open_cohort(prog), await world.person(prog)
    await world.consent(person)
    before = len(world.store.rows)

    with pytest.raises(Forbidden):
        await world.app.enrol_participant(manager_of(elsewhere), cohort, person)

    assert world.events_since(before) == []


async def test_enrol_when_manager_of_the_programme_enrols() -> None:
    world = World.new()
    prog = await world.programme()
    cohort, person = await world.open_cohort(prog), await world.person(prog)
    await world.consent(person)

    result = await world.app.enrol_participant(manager_of(prog), cohort, person)

    assert result["status"] == "ENROLLED"


async def test_withdraw_consent_when_manager_of_another_programme_is_forbidden() -> None:
    world = World.new()
    prog, elsewhere = await world.programme(), await world.programme()
    person = await world.person(prog)
    await world.consent(person)

    with pytest.raises(Forbidden):
        await world.app.withdraw_consent(manager_of(elsewhere), person, PURPOSE, "phone")


async def test_replay_when_key_is_reused_by_a_manager_of_another_programme_is_forbidden() -> None:
    """The policy is asked before a replay is answered, so a key is no way around it."""
    world = World.new()
    prog, elsewhere = await world.programme(), await world.programme()
    cohort, person = await world.open_cohort(prog), await world.person(prog)
    await world.consent(person)
    ctx = manager_of(prog)
    await world.app.enrol_participant(ctx.__class__(ctx.actor, idempotency_key="k"), cohort, person)
    rescoped = manager_of(elsewhere)

    with pytest.raises(Forbidden):
        await world.app.enrol_participant(replace(rescoped, idempotency_key="k"), cohort, person)
