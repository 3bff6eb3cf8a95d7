"""Issue 6, findings 1 and 2, at the application: every aggregate a command touches is
checked against the access policy, and idempotency keys belong to one caller's identity,
are answered only after authorisation and refuse a different input."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
import pytest_asyncio

from program.application.context import Actor, CommandContext, FixedClock, Role
from program.application.idempotency import IdempotencyKeyReused, fingerprint
from program.application.policy import Forbidden
from program.application.services import Application
from program.domain.errors import DomainError
from program.store.errors import AggregateNotFound
from program.store.eventstore import EventStore
from program.store.keys import KeyStore
from program.store.mapping import create_mapper
from program.store.repository import Repository

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
KINDS = ["PEER_SUPPORT_TRAINING", "SAFEGUARDING", "BACKGROUND_CHECK"]
PURPOSE = "programme-participation"
ADMIN = CommandContext(Actor("admin-1", Role.ADMIN))


@pytest_asyncio.fixture(scope="module")
async def app(store: EventStore, pool: asyncpg.Pool) -> Application:
    return Application(Repository(store, create_mapper()), KeyStore(pool), clock=FixedClock(NOW))


def manager(*programmes: str, subject: str = "programme_manager", key: str | None = None,
            input: dict | None = None) -> CommandContext:
    """Managers minted with the default subject share it: only their scope tells them apart."""
    actor = Actor(subject, Role.PROGRAMME_MANAGER, frozenset(uuid.UUID(p) for p in programmes))
    return CommandContext(actor, idempotency_key=key,
                          input_fingerprint=fingerprint(input or {}) if key else None)


def facilitator_ctx(fid: str) -> CommandContext:
    return CommandContext(Actor("fac", Role.FACILITATOR, facilitator_id=uuid.UUID(fid)))


async def programme(app: Application) -> str:
    pid = (await app.create_programme(ADMIN, "Group", "", None, ["HHI"], 2,
                                      ["research"]))["programme_id"]
    await app.activate_programme(ADMIN, pid)
    return pid


async def person(app: Application, prog: str, ctx: CommandContext = ADMIN) -> str:
    pid = (await app.register_participant(ctx, "Alex", programme_id=prog))["participant_id"]
    await app.give_consent(ctx, pid, PURPOSE, "n-1", "v1", "consent", "paper-form", [],
                           TODAY + timedelta(365))
    return pid


async def facilitator(app: Application) -> str:
    fid = (await app.register_facilitator(ADMIN, "Sam", "sam@example.org", 3))["facilitator_id"]
    for kind in KINDS:
        await app.record_facilitator_credential(ADMIN, fid, kind, TODAY + timedelta(365))
    await app.activate_facilitator(ADMIN, fid)
    return fid


async def cohort(app: Application, prog: str, format: str = "ENROLLED") -> str:
    cid = (await app.plan_cohort(ADMIN, prog, "Tuesdays", format, 10 if format == "ENROLLED"
                                 else None, TODAY, "Hall"))["cohort_id"]
    if format == "ENROLLED":
        await app.open_cohort_enrolment(ADMIN, cid)
    return cid


async def running_drop_in(app: Application, prog: str) -> tuple[str, str, str]:
    """A running drop-in cohort of ``prog``, one session, and its lead facilitator."""
    cid = await cohort(app, prog, "DROP_IN")
    lead, co = await facilitator(app), await facilitator(app)
    await app.assign_facilitator(ADMIN, cid, lead, "LEAD")
    await app.assign_facilitator(ADMIN, cid, co, "CO")
    await app.start_cohort(ADMIN, cid)
    # Started an hour ago: attendance is taken at sessions that have started.
    session = (await app.schedule_session(ADMIN, cid, NOW - timedelta(hours=1)))["session_id"]
    return cid, session, lead


@pytest_asyncio.fixture(scope="module")
async def world(app: Application) -> dict[str, str]:
    a, b = await programme(app), await programme(app)
    return {"a": a, "b": b, "cohort_a": await cohort(app, a), "cohort_b": await cohort(app, b),
            "person_b": await person(app, b)}


# -- finding 1: cross-programme reach --------------------------------------------------------


async def test_register_participant_when_programme_is_not_the_managers_is_forbidden(
    app: Application, world: dict[str, str], store: EventStore
) -> None:
    before = await store.max_position()
    with pytest.raises(Forbidden):
        await app.register_participant(manager(world["a"]), "Grab", programme_id=world["b"])
    assert await store.max_position() == before


async def test_register_participant_when_programme_does_not_exist_is_not_found(
    app: Application,
) -> None:
    with pytest.raises(AggregateNotFound):
        await app.register_participant(ADMIN, "Nowhere", programme_id=uuid.uuid4())


async def test_enrol_participant_when_person_is_of_another_programme_is_forbidden(
    app: Application, world: dict[str, str], store: EventStore
) -> None:
    before = await store.max_position()
    with pytest.raises(Forbidden):
        await app.enrol_participant(manager(world["a"]), world["cohort_a"], world["person_b"])
    assert await store.max_position() == before


async def test_enrol_participant_when_manager_runs_both_programmes_is_allowed(
    app: Application, world: dict[str, str]
) -> None:
    both = manager(world["a"], world["b"])
    prog_b_person = await person(app, world["b"])
    result = await app.enrol_participant(both, world["cohort_a"], prog_b_person)
    assert result["status"] == "ENROLLED"
    # From now on the person is (and stays) in A too: A's manager may act for them.
    await app.withdraw_participant(manager(world["a"]), world["cohort_a"], prog_b_person)
    await app.give_consent(manager(world["a"]), prog_b_person, "research", "n", "v1",
                           "consent", "web-form", [], None)


@pytest.mark.parametrize("command", ["give_consent", "withdraw_consent"])
async def test_consent_when_person_was_just_registered_into_another_programme_is_forbidden(
    app: Application, world: dict[str, str], command: str
) -> None:
    """The old loophole: a person in no cohort yet was any manager's."""
    fresh = (await app.register_participant(ADMIN, "Fresh", programme_id=world["b"]))["participant_id"]
    call = {
        "give_consent": lambda ctx: app.give_consent(ctx, fresh, PURPOSE, "n", "v1", "consent",
                                                     "web-form", [], None),
        "withdraw_consent": lambda ctx: app.withdraw_consent(ctx, world["person_b"], PURPOSE,
                                                             "phone"),
    }[command]
    for outsider in (manager(world["a"]), manager()):
        with pytest.raises(Forbidden):
            await call(outsider)


async def test_withdraw_participant_when_cohort_is_of_another_programme_is_forbidden(
    app: Application, world: dict[str, str]
) -> None:
    member = await person(app, world["b"])
    await app.enrol_participant(ADMIN, world["cohort_b"], member)
    with pytest.raises(Forbidden):
        await app.withdraw_participant(manager(world["a"]), world["cohort_b"], member)


async def test_record_outcome_when_person_is_not_a_member_is_not_enrolled(
    app: Application, world: dict[str, str]
) -> None:
    outsider = await person(app, world["a"])
    with pytest.raises(DomainError) as err:
        await app.record_outcome(manager(world["a"]), outsider, world["cohort_a"], "HHI",
                                 "BASELINE", 30)
    assert err.value.code == "NOT_ENROLLED"


async def test_record_outcome_when_person_is_of_another_programme_is_forbidden(
    app: Application, world: dict[str, str]
) -> None:
    with pytest.raises(Forbidden):
        await app.record_outcome(manager(world["a"]), world["person_b"], world["cohort_a"],
                                 "HHI", "BASELINE", 30)


async def test_record_outcome_when_present_at_a_drop_in_session_is_recorded(
    app: Application, world: dict[str, str]
) -> None:
    cid, session, _ = await running_drop_in(app, world["a"])
    walk_in = await person(app, world["a"])
    with pytest.raises(DomainError, match="not enrolled"):
        await app.record_outcome(ADMIN, walk_in, cid, "HHI", "BASELINE", 30)
    await app.record_attendance(ADMIN, cid, session, walk_in, "ABSENT_EXCUSED")
    with pytest.raises(DomainError, match="not enrolled"):
        await app.record_outcome(ADMIN, walk_in, cid, "HHI", "BASELINE", 30)

    await app.record_attendance(ADMIN, cid, session, walk_in, "PRESENT")
    assert (await app.record_outcome(manager(world["a"]), walk_in, cid, "HHI", "BASELINE",
                                     30)).position > 0


async def test_record_attendance_when_drop_in_person_does_not_exist_is_not_found(
    app: Application, world: dict[str, str], store: EventStore
) -> None:
    cid, session, _ = await running_drop_in(app, world["a"])
    before = await store.max_position()
    with pytest.raises(AggregateNotFound):
        await app.record_attendance(ADMIN, cid, session, uuid.uuid4(), "PRESENT")
    assert await store.max_position() == before


async def test_record_attendance_when_drop_in_person_is_of_another_programme_is_forbidden(
    app: Application, world: dict[str, str]
) -> None:
    cid, session, lead = await running_drop_in(app, world["a"])
    for ctx in (facilitator_ctx(lead), manager(world["a"])):
        with pytest.raises(Forbidden):
            await app.record_attendance(ctx, cid, session, world["person_b"], "PRESENT")
    own = await person(app, world["a"])
    await app.record_attendance(facilitator_ctx(lead), cid, session, own, "PRESENT")


@pytest.mark.parametrize("command", [
    "suspend_facilitator", "activate_facilitator", "record_facilitator_credential",
    "begin_facilitator_training", "retire_facilitator",
])
async def test_facilitator_command_when_facilitator_serves_another_programme_is_forbidden(
    app: Application, world: dict[str, str], store: EventStore, command: str
) -> None:
    theirs = await facilitator(app)
    await app.assign_facilitator(ADMIN, world["cohort_b"], theirs, "CO")
    args = {"suspend_facilitator": ("unwell",),
            "record_facilitator_credential": ("SAFEGUARDING", TODAY)}.get(command, ())
    before = await store.max_position()
    for outsider in (manager(world["a"]), manager()):
        with pytest.raises(Forbidden):
            await getattr(app, command)(outsider, theirs, *args)
    assert await store.max_position() == before


async def test_suspend_facilitator_when_serving_none_yet_or_ours_is_allowed(
    app: Application, world: dict[str, str]
) -> None:
    unassigned = await facilitator(app)
    await app.suspend_facilitator(manager(world["a"]), unassigned, "a break")
    ours = await facilitator(app)
    await app.assign_facilitator(manager(world["a"]), world["cohort_a"], ours, "CO")
    await app.suspend_facilitator(manager(world["a"]), ours, "a break")


async def test_assign_facilitator_when_facilitator_serves_another_programme_is_forbidden(
    app: Application, world: dict[str, str]
) -> None:
    theirs = await facilitator(app)
    await app.assign_facilitator(ADMIN, world["cohort_b"], theirs, "CO")
    with pytest.raises(Forbidden):
        await app.assign_facilitator(manager(world["a"]), world["cohort_a"], theirs, "LEAD")


# -- finding 2: idempotency keys ---------------------------------------------------------------


async def test_plan_cohort_when_two_managers_share_a_subject_their_keys_are_not_shared(
    app: Application, world: dict[str, str]
) -> None:
    input_a = {"programme_id": world["a"], "name": "Mine"}
    input_b = {"programme_id": world["b"], "name": "Mine"}
    a = await app.plan_cohort(manager(world["a"], key="k1", input=input_a), world["a"], "Mine",
                              "DROP_IN", None, TODAY)
    b = await app.plan_cohort(manager(world["b"], key="k1", input=input_b), world["b"], "Mine",
                              "DROP_IN", None, TODAY)
    assert not b.replayed and b["cohort_id"] != a["cohort_id"]
    assert b["programme_id"] == world["b"]


async def test_plan_cohort_when_key_reused_with_another_input_is_conflict(
    app: Application, world: dict[str, str], store: EventStore
) -> None:
    first = {"programme_id": world["a"], "name": "Once"}
    await app.plan_cohort(manager(world["a"], key="k2", input=first), world["a"], "Once",
                          "DROP_IN", None, TODAY)
    replay = await app.plan_cohort(manager(world["a"], key="k2", input=first), world["a"],
                                   "Once", "DROP_IN", None, TODAY)
    assert replay.replayed
    before = await store.max_position()
    other = {"programme_id": world["a"], "name": "Twice"}
    with pytest.raises(IdempotencyKeyReused) as err:
        await app.plan_cohort(manager(world["a"], key="k2", input=other), world["a"], "Twice",
                              "DROP_IN", None, TODAY)
    assert err.value.code == "CONFLICT"
    assert await store.max_position() == before


async def test_activate_facilitator_when_replayed_after_losing_reach_is_forbidden(
    app: Application, world: dict[str, str]
) -> None:
    """The replay is answered only to a caller authorised for the command now."""
    fid = (await app.register_facilitator(ADMIN, "Ash", "ash@example.org", 3))["facilitator_id"]
    for kind in KINDS:
        await app.record_facilitator_credential(ADMIN, fid, kind, TODAY + timedelta(365))
    ctx = manager(world["a"], key="k3", input={"id": fid})
    await app.activate_facilitator(ctx, fid)
    await app.assign_facilitator(ADMIN, world["cohort_b"], fid, "CO")  # now B's
    with pytest.raises(Forbidden):
        await app.activate_facilitator(ctx, fid)
