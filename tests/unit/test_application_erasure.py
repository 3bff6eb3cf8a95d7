"""Erasure by crypto-shredding: the person's key is destroyed, their data unreadable."""

from __future__ import annotations

from uuid import UUID

from .application_support import World, admin


async def test_erase_participant_when_registered_destroys_their_key() -> None:
    world = World.new()
    person = UUID(await world.person(await world.programme(), "Robin"))
    registered = (await world.store.read_aggregate(person))[0]
    ciphertext = {person: world.app.repository.to_domain_event(registered).personal_data}
    assert (await world.app.personal_data([person], ciphertext))[person] == {
        "name": "Robin", "chosen_name": None, "email": "Robin@example.org", "phone": None,
        "referral_source": None}

    await world.app.erase_participant(admin(), person)

    assert await world.keys.get(person) is None
    assert (await world.app.personal_data([person], ciphertext))[person] is None
