"""Partner feeds end to end: real embedded PostgreSQL, the real app over HTTP, and real
local webhook receivers that verify every signature."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import pytest_asyncio

from feeds_support import (
    PURPOSE,
    Receiver,
    Serving,
    admin,
    cohort,
    endpoint,
    partner,
    person,
    programme,
)
from program.bootstrap import Services, open_services
from program.feeds import disclose, queries
from program.feeds.settings import FeedSettings
from program.settings import Settings
from program.store.database import Database

JWT_SECRET = "test-secret-" + "x" * 40
FAST = FeedSettings(allow_private_urls=True, retry_schedule=(0.05, 0.05, 0.05),
                    pseudonym_key="test-pseudonym-key-0123456789", heartbeat=0.2)


@pytest_asyncio.fixture(scope="module")
async def services(db_url: str, tmp_path_factory: pytest.TempPathFactory
                   ) -> AsyncIterator[Services]:
    settings = Settings(database_url=db_url, data_dir=Path(tmp_path_factory.mktemp("data")),
                        jwt_secret=JWT_SECRET, feeds=FAST)
    s = await open_services(settings, database=Database(url=db_url), run_projections=False)
    yield s
    await s.close()


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rx = Receiver()
    async with Serving(rx) as serving:
        rx.port = serving.port
        yield rx


@pytest_asyncio.fixture
async def world(services: Services) -> tuple[str, str]:
    prog = await programme(services.application)
    return prog, await cohort(services.application, prog)


async def test_feed_when_a_person_names_a_partner_delivers_to_it_and_to_no_other_partner(
    services: Services, world: tuple[str, str], receiver: Receiver
) -> None:
    app = services.application
    prog, cid = world
    named, other = await partner(app, prog, "Named"), await partner(app, prog, "Other")
    other_rx = Receiver()
    async with Serving(other_rx) as serving:
        other_rx.port = serving.port
        await endpoint(app, named, receiver)
        await endpoint(app, other, other_rx)
        alex = await person(app, prog, "Alex", [named])
        bo = await person(app, prog, "Bo", [])
        await app.enrol_participant(admin(), cid, alex)
        await app.enrol_participant(admin(), cid, bo)
        await receiver.wait_for(lambda: len(receiver.delivered()) == 1)
        # the other partner's feed never holds anything about either person
        rows = await services.pool.fetch("SELECT * FROM feed_events WHERE partner_id = $1",
                                         UUID(other))
    assert rows == [] and other_rx.receipts == []
    [event] = receiver.delivered()
    assert event["type"] == "org.program.participant.enrolled.v1" and event["sequence"] == 1
    assert event["data"]["cohortId"] == cid and event["subject"].startswith("psn_")


async def test_feed_when_consent_is_withdrawn_discloses_nothing_more_even_on_replay(
    services: Services, world: tuple[str, str], receiver: Receiver
) -> None:
    app = services.application
    prog, cid = world
    pid = await partner(app, prog)
    eid = await endpoint(app, pid, receiver)
    alex = await person(app, prog, "Alex", [pid])
    await app.enrol_participant(admin(), cid, alex)
    await receiver.wait_for(lambda: len(receiver.delivered()) == 1)

    await app.withdraw_consent(admin(), alex, PURPOSE, "phone")
    await app.withdraw_participant(admin(), cid, alex, "moved away")
    await receiver.wait_for(lambda: len(receiver.delivered()) == 2)
    await app.replay_webhook(admin(), pid, eid, 1)
    await receiver.wait_for(lambda: len(receiver.delivered()) == 3)

    types = [e["type"] for e in receiver.delivered()]
    assert types == ["org.program.participant.enrolled.v1", "org.program.consent.withdrawn.v1",
                     "org.program.consent.withdrawn.v1"]  # the replay withheld the enrolment
    notice = receiver.delivered()[1]
    assert notice["subject"] == receiver.delivered()[0]["subject"]
    assert notice["data"] == {"participant": notice["subject"], "purpose": PURPOSE,
                              "change": "WITHDRAWN"}
    log = await queries.disclosures_of_participant(services.pool, UUID(alex))
    disclosed = [d for d in log if d.outcome == "DISCLOSED" and d.channel == "webhook"]
    assert disclosed[0].consent_id is not None and disclosed[0].consent_version is not None
    withheld = [d for d in log if d.outcome == "WITHHELD"]
    assert {d.channel for d in withheld} == {"feed", "webhook"}  # the left event; the replay
    assert all(d.reason for d in withheld)


async def _enrol_new_people(app: Any, prog: str, cid: str, partner_id: str, count: int) -> None:
    """``count`` people who name ``partner_id`` in their consent, each enrolled into ``cid``."""
    for i in range(count):
        await app.enrol_participant(admin(), cid,
                                    await person(app, prog, f"P{i}", [partner_id]))


async def test_webhook_when_receiver_fails_then_recovers_delivers_each_event_once_in_order(
    services: Services, world: tuple[str, str], receiver: Receiver
) -> None:
    app = services.application
    prog, cid = world
    pid = await partner(app, prog)
    await endpoint(app, pid, receiver)
    receiver.script = [(500, {}), (500, {})]
    await _enrol_new_people(app, prog, cid, pid, 5)
    await receiver.wait_for(lambda: len(receiver.delivered()) == 5)

    assert receiver.sequences() == [1, 2, 3, 4, 5]
    first, second, ok = receiver.receipts[:3]
    assert (first.status, second.status, ok.status) == (500, 500, 200)
    assert first.webhook_id == second.webhook_id == ok.webhook_id
    assert first.events == ok.events and receiver.bad_signatures == 0


async def test_webhook_when_receiver_answers_megabytes_still_delivers_each_event_once_in_order(
    services: Services, world: tuple[str, str], receiver: Receiver
) -> None:
    # A hostile (or broken) receiver answers every request with 8 MB: the dispatcher reads
    # at most 64 KiB of an answer, drops that connection and goes on.
    app = services.application
    prog, cid = world
    pid = await partner(app, prog)
    await endpoint(app, pid, receiver)
    receiver.answer = b"x" * (8 << 20)
    await _enrol_new_people(app, prog, cid, pid, 4)
    await receiver.wait_for(lambda: len(receiver.delivered()) == 4)

    assert receiver.sequences() == [1, 2, 3, 4]
    assert [r.status for r in receiver.receipts] == [200] * len(receiver.receipts)
    assert len({r.webhook_id for r in receiver.receipts}) == len(receiver.receipts)  # no retry


async def test_webhook_when_receiver_is_down_past_every_retry_loses_nothing_once_enabled(
    services: Services, world: tuple[str, str], receiver: Receiver
) -> None:
    app = services.application
    prog, cid = world
    pid = await partner(app, prog)
    eid = await endpoint(app, pid, receiver)
    receiver.default = 503
    for i in range(4):
        await app.enrol_participant(admin(), cid, await person(app, prog, f"D{i}", [pid]))
    await receiver.wait_for(lambda: len(receiver.receipts) >= 4)
    state = await _endpoint_state(services, pid, "DISABLED")
    assert "retries exhausted" in state["disabled_reason"] and state["delivered"] == 0

    for i in range(3):  # more events while it is disabled
        await app.enrol_participant(admin(), cid, await person(app, prog, f"E{i}", [pid]))
    receiver.default = 200
    await app.enable_webhook_endpoint(admin(), pid, eid)
    await receiver.wait_for(lambda: len(receiver.delivered()) >= 7)
    assert receiver.sequences() == list(range(1, 8))


async def test_webhook_when_receiver_answers_410_disables_the_endpoint(
    services: Services, world: tuple[str, str], receiver: Receiver
) -> None:
    app = services.application
    prog, cid = world
    pid = await partner(app, prog)
    await endpoint(app, pid, receiver)
    receiver.script = [(410, {})]
    await app.enrol_participant(admin(), cid, await person(app, prog, "G", [pid]))
    state = await _endpoint_state(services, pid, "DISABLED")
    assert state["disabled_reason"].startswith("410") and len(receiver.receipts) == 1


async def test_webhook_when_receiver_answers_429_waits_its_retry_after(
    services: Services, world: tuple[str, str], receiver: Receiver
) -> None:
    app = services.application
    prog, cid = world
    pid = await partner(app, prog)
    eid = await endpoint(app, pid, receiver)
    receiver.script = [(429, {"Retry-After": "2"})]
    await app.enrol_participant(admin(), cid, await person(app, prog, "T", [pid]))
    await receiver.wait_for(lambda: len(receiver.delivered()) == 1)

    attempts = await _attempts(services, eid, 2)
    assert [a["outcome"] for a in attempts] == ["throttled", "delivered"]
    assert (attempts[1]["at"] - attempts[0]["at"]).total_seconds() >= 2.0


async def _endpoint_state(services: Services, partner_id: str, state: str) -> dict:
    import asyncio

    for _ in range(1000):
        [row] = await queries.endpoints(services.pool, UUID(partner_id))
        if row["state"] == state:
            return row
        await asyncio.sleep(0.02)
    raise AssertionError(f"endpoint never became {state}: {row}")


async def _attempts(services: Services, endpoint_id: str, count: int) -> list[dict]:
    """The attempt log once it holds ``count`` rows (it is written after the response)."""
    import asyncio

    for _ in range(1000):
        rows = await queries.attempts(services.pool, UUID(endpoint_id))
        if len(rows) >= count:
            return rows
        await asyncio.sleep(0.02)
    raise AssertionError(f"only {len(rows)} attempts logged")


async def test_webhook_when_the_log_tail_is_too_long_to_read_checks_id_by_id_and_delivers(
    services: Services, world: tuple[str, str], receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As when the feed builder is far behind the log: every reservation checks the judged
    # people one by one instead of reading the log's tail.
    monkeypatch.setattr(disclose, "TAIL_CHECKED", -1)
    app = services.application
    prog, cid = world
    pid = await partner(app, prog)
    await endpoint(app, pid, receiver)
    alex, bo = await person(app, prog, "Alex", [pid]), await person(app, prog, "Bo", [pid])

    await app.enrol_participant(admin(), cid, alex)
    await app.enrol_participant(admin(), cid, bo)
    await receiver.wait_for(lambda: len(receiver.delivered()) == 2)

    assert [e["sequence"] for e in receiver.delivered()] == [1, 2]
