"""Consent before enrolment, and withdrawal ending enrolments: application rules,
given / when / then on the in-memory store."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from program.application.ports import VersionConflict, event_id
from program.domain.consent import Consent, ConsentRequired
from program.store.records import AppendResult, NewEvent

from .application_support import PURPOSE, TODAY, World, admin, kind


async def test_enrol_when_no_consent_is_refused_and_appends_nothing() -> None:
    world = World.new()
    prog = await world.programme()
    cohort, person = await world.open_cohort(prog), await world.person(prog)
    before = len(world.store.rows)

    with pytest.raises(ConsentRequired):
        await world.app.enrol_participant(admin(), cohort, person)

    assert world.events_since(before) == []


async def test_enrol_when_consent_given_enrols() -> None:
    world = World.new()
    prog = await world.programme()
    cohort, person = await world.open_cohort(prog), await world.person(prog)
    await world.consent(person)
    before = len(world.store.rows)

    result = await world.app.enrol_participant(admin(), cohort, person)

    assert result["status"] == "ENROLLED"
    assert "ParticipantEnrolled" in world.kinds_since(before)


@pytest.mark.parametrize("given", [PURPOSE, "evaluation"])
async def test_enrol_when_one_of_two_required_consents_is_missing_is_refused(given: str) -> None:
    world = World.new()
    prog = str((await world.app.create_programme(
        admin(), "Two consents", "", [PURPOSE, "evaluation"], ["HHI"], 2))["programme_id"])
    await world.app.activate_programme(admin(), prog)
    cohort, person = await world.open_cohort(prog), await world.person(prog)
    await world.app.give_consent(admin(), person, given, "notice-1", "v1", "consent",
                                 "paper-form", [], TODAY + timedelta(days=365))
    before = len(world.store.rows)

    with pytest.raises(ConsentRequired) as refused:
        await world.app.enrol_participant(admin(), cohort, person)

    missing = "evaluation" if given == PURPOSE else PURPOSE
    assert refused.value.details["purpose"] == missing
    assert world.events_since(before) == []


async def test_enrol_when_every_required_consent_is_given_enrols() -> None:
    world = World.new()
    prog = str((await world.app.create_programme(
        admin(), "Two consents", "", [PURPOSE, "evaluation"], ["HHI"], 2))["programme_id"])
    await world.app.activate_programme(admin(), prog)
    cohort, person = await world.open_cohort(prog), await world.person(prog)
    for purpose in (PURPOSE, "evaluation"):
        await world.app.give_consent(admin(), person, purpose, "notice-1", "v1", "consent",
                                     "paper-form", [], TODAY + timedelta(days=365))

    result = await world.app.enrol_participant(admin(), cohort, person)

    assert result["status"] == "ENROLLED"


async def test_enrol_when_consent_expired_is_refused() -> None:
    world = World.new()
    prog = await world.programme()
    cohort, person = await world.open_cohort(prog), await world.person(prog)
    await world.consent(person, valid_for=timedelta(days=30))
    world.clock.at += timedelta(days=31)

    with pytest.raises(ConsentRequired):
        await world.app.enrol_participant(admin(), cohort, person)


async def test_withdraw_consent_when_required_by_programme_ends_enrolment() -> None:
    world = World.new()
    prog = await world.programme()
    cohort, person = await world.open_cohort(prog), await world.person(prog)
    await world.consent(person)
    await world.app.enrol_participant(admin(), cohort, person)

    result = await world.app.withdraw_consent(admin(), person, PURPOSE, "phone", "unwell")

    assert result["ended_cohort_ids"] == [cohort]


async def test_withdraw_consent_when_it_ends_enrolments_records_withdrawal_as_causation() -> None:
    world = World.new()
    prog = await world.programme()
    cohort, person = await world.open_cohort(prog), await world.person(prog)
    await world.consent(person)
    await world.app.enrol_participant(admin(), cohort, person)
    before = len(world.store.rows)

    await world.app.withdraw_consent(admin(), person, PURPOSE, "phone", "unwell")

    rows = world.events_since(before)
    withdrawal = next(r for r in rows if kind(r) == "Withdrawn")
    assert withdrawal.metadata["event_id"] == str(
        event_id(withdrawal.originator_id, withdrawal.originator_version))
    caused = {kind(r) for r in rows if r.metadata.get("causation_id") == withdrawal.metadata["event_id"]}
    assert {"ParticipantWithdrawn", "LeftCohort"} <= caused


async def test_enrol_when_consent_withdrawn_concurrently_conflicts_instead_of_enrolling() -> None:
    """The enrolment read the consent but does not change it: its append expects the
    consent's version, so a withdrawal committed in between makes it conflict, and the
    retry decides again on the withdrawn consent."""
    world = World.new()
    prog = await world.programme()
    cohort, person = await world.open_cohort(prog), await world.person(prog)
    await world.consent(person)
    consent_id = Consent.create_id(UUID(person), PURPOSE)
    conflicts: list[VersionConflict] = []
    original_append = world.store.append

    async def withdraw_first(events: list[NewEvent]) -> None:
        if any(kind_of(e) == "ParticipantEnrolled" for e in events):
            world.store.before_append = None
            await world.app.withdraw_consent(admin(), person, PURPOSE, "phone", "changed mind")

    async def counting_append(*args: Any, **kwargs: Any) -> AppendResult:
        try:
            return await original_append(*args, **kwargs)
        except VersionConflict as conflict:
            conflicts.append(conflict)
            raise

    world.store.before_append = withdraw_first
    world.store.append = counting_append  # type: ignore[method-assign]
    before = len(world.store.rows)

    with pytest.raises(ConsentRequired):
        await world.app.enrol_participant(admin(), cohort, person)

    assert [c.originator_id for c in conflicts] == [consent_id]
    assert "ParticipantEnrolled" not in world.kinds_since(before)


def kind_of(event: NewEvent) -> str:
    return event.topic.rsplit(".", 1)[-1]
