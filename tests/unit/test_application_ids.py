"""Ids a command is given, whatever kind of UUID they come as, are recorded as plain UUIDs."""

from __future__ import annotations

from uuid import UUID

from asyncpg.pgproto.pgproto import UUID as DriverUUID

from program.application.base import as_uuid

from .application_support import World, admin


def test_given_the_drivers_uuid_when_taken_as_an_id_then_it_is_a_plain_uuid() -> None:
    plain = UUID("12345678-1234-5678-1234-567812345678")

    taken = as_uuid(DriverUUID(str(plain)), "participant_id")

    assert type(taken) is UUID and taken == plain


async def test_given_ids_read_from_the_database_when_a_command_uses_them_then_it_is_recorded(
) -> None:
    # given a cohort and a consenting person, their ids as the driver reads them back
    world = World.new()
    prog = await world.programme()
    cohort, person = await world.open_cohort(prog), await world.person(prog)
    await world.consent(person)
    before = len(world.store.rows)

    # when a command is given those ids
    result = await world.app.enrol_participant(admin(), DriverUUID(str(cohort)),
                                               DriverUUID(str(person)))

    # then the enrolment is recorded, of that cohort
    assert result["status"] == "ENROLLED"
    assert "ParticipantEnrolled" in world.kinds_since(before)
    assert UUID(str(cohort)) in {r.originator_id for r in world.events_since(before)}
