"""Application services against the real embedded PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest
import pytest_asyncio

from program.application.policy import Forbidden
from program.application.context import Actor, CommandContext, FixedClock, Role
from program.application.services import Application
from program.domain.cohort import Cohort
from program.domain.errors import DomainError
from program.domain.participant import Participant
from program.store.eventstore import EventStore
from program.store.keys import KeyStore, decrypt
from program.store.ledger import verify_chain
from program.store.mapping import create_mapper
from program.store.repository import Repository

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
KINDS = ["PEER_SUPPORT_TRAINING", "SAFEGUARDING", "BACKGROUND_CHECK"]


@pytest_asyncio.fixture(scope="module")
async def app(store: EventStore, pool: asyncpg.Pool) -> Application:
    return Application(Repository(store, create_mapper()), KeyStore(pool), clock=FixedClock(NOW))


def admin(key: str | None = None) -> CommandContext:
    return CommandContext(Actor("admin-1", Role.ADMIN), idempotency_key=key)


async def programme(app: Application, measures: list[str] | None = None) -> str:
    pid = (await app.create_programme(admin(), "Bipolar peer group", "weekly", None,
                                      measures or ["HHI"], 2, ["research"]))["programme_id"]
    await app.activate_programme(admin(), pid)
    return pid


async def accredited_facilitator(app: Application, valid_until: date | None = None) -> str:
    fid = (await app.register_facilitator(admin(), "Sam", "sam@example.org", 3))["facilitator_id"]
    # Trained when activated; the credentials then as the test wants them.
    await app.record_facilitator_credential(admin(), fid, "PEER_SUPPORT_TRAINING", TODAY)
    await app.activate_facilitator(admin(), fid)
    for kind in KINDS:
        await app.record_facilitator_credential(admin(), fid, kind, valid_until or TODAY + timedelta(365))
    return fid


async def consenting_person(app: Application, name: str = "Alex", prog: str | None = None) -> str:
    """A person who consented, registered into ``prog`` (or a programme of their own)."""
    prog = prog or await programme(app)
    pid = (await app.register_participant(admin(), name, f"{name}@example.org", "0700", "GP",
                                          programme_id=prog))["participant_id"]
    await app.give_consent(admin(), pid, "programme-participation", "notice-1", "v1", "consent",
                           "paper-form", ["evaluator-a"], TODAY + timedelta(365))
    return pid


async def open_cohort(app: Application, prog: str, capacity: int) -> str:
    cid = (await app.plan_cohort(admin(), prog, "Tuesday group", "ENROLLED", capacity,
                                 TODAY, "Hall"))["cohort_id"]
    await app.open_cohort_enrolment(admin(), cid)
    return cid


async def test_100_concurrent_enrolments_into_capacity_10_enrol_10_and_waitlist_90_in_order(
    app: Application, store: EventStore
) -> None:
    prog = await programme(app)
    cid = await open_cohort(app, prog, 10)
    people = await asyncio.gather(*(consenting_person(app, f"p{i}", prog) for i in range(100)))

    results = await asyncio.gather(*(app.enrol_participant(admin(), cid, p) for p in people))

    statuses = [r["status"] for r in results]
    assert statuses.count("ENROLLED") == 10 and statuses.count("WAITLISTED") == 90
    rows = await store.read_aggregate(uuid.UUID(cid))
    topics = [r.topic.rsplit(".", 1)[-1] for r in rows]
    assert topics.count("ParticipantEnrolled") == 10 and topics.count("ParticipantWaitlisted") == 90
    arrival = [app.repository.to_domain_event(r).participant_id for r in rows
               if r.topic.endswith("ParticipantWaitlisted")]
    fresh = await Repository(store, create_mapper()).get(uuid.UUID(cid), Cohort)
    assert len(fresh.enrolled) == 10 and fresh.waitlist == arrival

    leaver = fresh.enrolled[0]
    result = await app.withdraw_participant(admin(), cid, leaver, "moved away")
    assert result["promoted_participant_id"] == str(arrival[0])
    after = await Repository(store, create_mapper()).get(uuid.UUID(cid), Cohort)
    assert arrival[0] in after.enrolled and after.waitlist == arrival[1:]
    assert leaver not in after.enrolled


async def test_enrol_without_consent_raises_consent_required_and_appends_nothing(
    app: Application, store: EventStore
) -> None:
    prog = await programme(app)
    cid = await open_cohort(app, prog, 5)
    person = (await app.register_participant(admin(), "Robin", None, None, None,
                                             programme_id=prog))["participant_id"]
    before = await store.max_position()
    with pytest.raises(DomainError) as err:
        await app.enrol_participant(admin(), cid, person)
    assert err.value.code == "CONSENT_REQUIRED"
    assert await store.max_position() == before


async def test_withdrawing_required_consent_ends_enrolment_with_withdrawal_as_causation(
    app: Application, store: EventStore
) -> None:
    prog = await programme(app)
    cid = await open_cohort(app, prog, 1)
    first, second = await consenting_person(app, "a", prog), await consenting_person(app, "b", prog)
    await app.enrol_participant(admin(), cid, first)
    await app.enrol_participant(admin(), cid, second)

    result = await app.withdraw_consent(admin(), first, "programme-participation", "phone", "unwell")

    assert result["ended_cohort_ids"] == [cid]
    rows = await store.read_after(result.position - 10, 100)
    withdrawal = next(r for r in rows if r.topic.endswith("Consent.Withdrawn"))
    caused = [r for r in rows if r.metadata.get("causation_id") == withdrawal.metadata["event_id"]]
    kinds = {r.topic.rsplit(".", 1)[-1] for r in caused}
    assert {"ParticipantWithdrawn", "ParticipantPromoted", "LeftCohort"} <= kinds
    cohort = await Repository(store, create_mapper()).get(uuid.UUID(cid), Cohort)
    assert cohort.enrolled == [uuid.UUID(second)]


async def test_idempotency_key_reused_returns_first_result_and_appends_nothing(
    app: Application, store: EventStore
) -> None:
    first = await app.create_programme(admin("create-hope-1"), "Hope", "", None, None, 2)
    position = await store.max_position()
    again = await app.create_programme(admin("create-hope-1"), "Hope", "", None, None, 2)
    assert again.replayed and again["programme_id"] == first["programme_id"]
    assert again.position == first.position
    assert await store.max_position() == position


async def test_start_cohort_without_minimum_eligible_facilitators_is_refused(app: Application) -> None:
    prog = await programme(app)
    cid = await open_cohort(app, prog, 5)
    lapsed_soon = await accredited_facilitator(app, valid_until=TODAY + timedelta(1))
    await app.assign_facilitator(admin(), cid, lapsed_soon, "LEAD")
    with pytest.raises(DomainError) as err:
        await app.start_cohort(admin(), cid)
    assert err.value.code == "NOT_ENOUGH_FACILITATORS"
    await app.assign_facilitator(admin(), cid, await accredited_facilitator(app), "CO")
    assert (await app.start_cohort(admin(), cid)).position > 0


async def test_assign_facilitator_with_expired_credential_is_refused(app: Application) -> None:
    prog = await programme(app)
    cid = await open_cohort(app, prog, 5)
    expired = await accredited_facilitator(app, valid_until=TODAY - timedelta(1))
    with pytest.raises(DomainError) as err:
        await app.assign_facilitator(admin(), cid, expired, "LEAD")
    assert err.value.code == "FACILITATOR_NOT_ELIGIBLE"


async def test_manager_of_another_programme_is_forbidden(app: Application) -> None:
    mine, theirs = await programme(app), await programme(app)
    manager = CommandContext(Actor("pm", Role.PROGRAMME_MANAGER, frozenset({uuid.UUID(mine)})))
    await app.plan_cohort(manager, mine, "Mine", "DROP_IN", None, TODAY, None)
    with pytest.raises(Forbidden):
        await app.plan_cohort(manager, theirs, "Theirs", "DROP_IN", None, TODAY, None)
    auditor = CommandContext(Actor("aud", Role.AUDITOR))
    with pytest.raises(Forbidden):
        await app.register_participant(auditor, "Nope", None, None, None, programme_id=mine)


async def test_events_record_actor_role_and_correlation(app: Application, store: EventStore) -> None:
    ctx = CommandContext(Actor("pm-7", Role.ADMIN), correlation_id="corr-1", request_id="req-1")
    result = await app.create_programme(ctx, "Anxiety group", "", None, None, 2)
    row = (await store.read_after(result.position - 1, 1))[0]
    assert row.metadata["actor"] == "pm-7" and row.metadata["role"] == "ADMIN"
    assert row.metadata["correlation_id"] == "corr-1" and row.metadata["request_id"] == "req-1"


async def test_erase_participant_shreds_personal_data_but_history_and_chain_remain(
    app: Application, store: EventStore, pool: asyncpg.Pool
) -> None:
    person = await consenting_person(app, "Jordan")
    pid = uuid.UUID(person)
    cid = await open_cohort(app, await programme(app), 3)
    await app.enrol_participant(admin(), cid, person)
    rows = await store.read_aggregate(pid)
    ciphertext = app.repository.to_domain_event(rows[0]).personal_data
    assert "Jordan" not in ciphertext and b"Jordan" not in rows[0].state
    assert decrypt(await app.keys.get(pid), pid, ciphertext)["name"] == "Jordan"

    await app.erase_participant(admin(), person)

    reloaded = await Repository(store, create_mapper()).get(pid, Participant)
    assert reloaded.erased and reloaded.cohorts == {}
    cohort = await Repository(store, create_mapper()).get(uuid.UUID(cid), Cohort)
    assert pid not in cohort.enrolled
    assert await app.keys.get(pid) is None
    assert (await app.personal_data([pid], {pid: ciphertext}))[pid] is None
    async with pool.acquire() as conn:
        assert (await verify_chain(conn)).ok
    with pytest.raises(DomainError) as err:
        await app.give_consent(admin(), person, "research", "n", "v1", "consent", "web-form", [], None)
    assert err.value.code == "PARTICIPANT_ERASED"


async def test_enrolment_racing_a_consent_withdrawal_never_enrols_without_consent(
    app: Application, store: EventStore, pool: asyncpg.Pool
) -> None:
    """Two processes (separate caches and queues): one enrols, one withdraws consent."""
    other = Application(Repository(store, create_mapper()), KeyStore(pool), clock=FixedClock(NOW))
    prog = await programme(app)
    cid = await open_cohort(app, prog, 100)
    people = [await consenting_person(app, f"r{i}", prog) for i in range(30)]

    async def enrol(p: str) -> None:
        try:
            await app.enrol_participant(admin(), cid, p)
        except DomainError as err:
            assert err.code == "CONSENT_REQUIRED"

    await asyncio.gather(
        *(enrol(p) for p in people),
        *(other.withdraw_consent(admin(), p, "programme-participation", "phone", "") for p in people),
    )
    cohort = await Repository(store, create_mapper()).get(uuid.UUID(cid), Cohort)
    assert cohort.enrolled == [] and cohort.waitlist == []


async def test_manager_of_another_programme_cannot_change_consent_of_a_person_in_mine(
    app: Application,
) -> None:
    mine, theirs = await programme(app), await programme(app)
    cid = await open_cohort(app, mine, 5)
    person = await consenting_person(app, "Kit", mine)
    await app.enrol_participant(admin(), cid, person)
    outsider = CommandContext(Actor("pm-b", Role.PROGRAMME_MANAGER, frozenset({uuid.UUID(theirs)})))
    with pytest.raises(Forbidden):
        await app.withdraw_consent(outsider, person, "programme-participation", "phone", "")
    with pytest.raises(Forbidden):
        await app.give_consent(outsider, person, "research", "n", "v1", "consent", "web-form", [], None)
    insider = CommandContext(Actor("pm-a", Role.PROGRAMME_MANAGER, frozenset({uuid.UUID(mine)})))
    await app.give_consent(insider, person, "research", "n", "v1", "consent", "web-form", [], None)
