"""The consent rule judged by PostgreSQL when events leave (``disclose.JUDGING``) gives the
same verdict, consent and reason as the rule the builder applies in Python
(``consent.authorise`` and ``consent.in_scope``), over every kind of case: consents of
several purposes in the partner's order, given, withdrawn, refused or never given,
naming the partner or not, unexpired or expired; events in and out of the partner's
programmes, about a person or none, notices of withdrawal and erasure."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

import asyncpg
import pytest

from program.domain.consent import Consent
from program.feeds import disclose, tables
from program.feeds.consent import NOTICE, ConsentRow, PartnerRow, Verdict, authorise, in_scope
from program.store.eventstore import EventStore
from program.store.records import NewEvent

TODAY = date(2026, 6, 15)
PURPOSES = ["evaluation", "referral"]  # the partner's, in its order
STATES = ["GIVEN", "WITHDRAWN", "REFUSED", None]
UNTIL = [None, TODAY - timedelta(days=1), TODAY, TODAY + timedelta(days=1)]


def _python_verdict(partner: PartnerRow, participant: uuid.UUID | None,
                    programme: uuid.UUID | None, notice: bool,
                    consents: list[ConsentRow]) -> Verdict:
    """The builder's rule, as each event leaves."""
    if notice:
        return NOTICE
    if not in_scope(partner, programme):
        return Verdict(False, reason=disclose.OUT_OF_SCOPE)
    if participant is None:
        return Verdict(True)
    return authorise(partner, consents, TODAY)


def _expected(verdict: Verdict, notice: bool) -> tuple[object, ...]:
    consent = verdict.consent
    reason = verdict.reason if not verdict.allowed else (
        disclose.NOTICE_REASON if notice else None)
    return ("DISCLOSED" if verdict.allowed else "WITHHELD",
            consent.consent_id if consent else None, consent.version if consent else None,
            reason)


@pytest.fixture
async def caught_up(pool: asyncpg.Pool, store: EventStore) -> asyncpg.Pool:
    await tables.ensure(pool)
    await store.append([NewEvent(uuid.uuid4(), 1, "tests:Happened", b"{}", {"actor": "t"})])
    await pool.execute(
        "INSERT INTO feed_checkpoint VALUES ('builder', $1) "
        "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
        await store.max_position())
    return pool


@pytest.mark.parametrize("seed", range(4))
async def test_sql_verdicts_are_the_builder_s_rule(caught_up: asyncpg.Pool, seed: int) -> None:
    rng = random.Random(seed)
    pool = caught_up
    # given a partner, its programmes, people with every kind of consent, and their events
    partner_id, inside, outside, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    partner = PartnerRow(partner_id, "P", "ACTIVE", PURPOSES, {inside}, set())
    await pool.execute("INSERT INTO feed_partners VALUES ($1, 'P', 'ACTIVE', $2, $3, '{}', 0)",
                       partner_id, PURPOSES, [inside])
    consents: dict[uuid.UUID, list[ConsentRow]] = {}
    for _ in range(30):
        person = uuid.uuid4()
        consents[person] = []
        for purpose in rng.sample([*PURPOSES, "research"], rng.randint(0, 3)):
            row = ConsentRow(Consent.create_id(person, purpose), person, purpose,
                             rng.randint(1, 9), rng.choice(STATES),
                             rng.choice([[str(partner_id)], [str(other)],
                                         [str(other), str(partner_id)], []]),
                             rng.choice(UNTIL))
            consents[person].append(row)
            await pool.execute("INSERT INTO feed_consents VALUES ($1, $2, $3, $4, $5, $6, $7)",
                               row.consent_id, person, purpose, row.version, row.state,
                               row.recipients, row.valid_until)
    events = []
    for sequence in range(1, 121):
        participant = rng.choice([*consents, None])
        programme = rng.choice([inside, inside, inside, outside, None])
        notice = rng.random() < 0.1
        if sequence == 1:  # at least one event about no one, in scope
            participant, programme, notice = None, inside, False
        events.append((sequence, participant, programme, notice))
        await pool.execute(
            "INSERT INTO feed_events (partner_id, sequence, event_id, type, participant_id, "
            "programme_id, position, time, notice, body) "
            "VALUES ($1, $2, $3, 't.v1', $4, $5, 1, now(), $6, '{}')",
            partner_id, sequence, uuid.uuid4(), participant, programme, notice)
    # when they are judged as they leave
    async with pool.acquire() as conn:
        rows, last = await disclose.disclose_page(conn, partner_id, 0, 1000, TODAY, "pull")
    logged = {r["sequence"]: (r["outcome"], r["consent_id"], r["consent_version"], r["reason"])
              for r in await pool.fetch("SELECT * FROM feed_disclosures WHERE partner_id = $1",
                                        partner_id)}
    # then every event's verdict, consent and reason are the Python rule's
    assert last == 120
    expected = {s: _expected(_python_verdict(partner, p, g, n, consents.get(p, []) if p else []),
                             n) for s, p, g, n in events}
    assert logged == expected
    assert [r.sequence for r in rows] == [s for s, v in sorted(expected.items())
                                          if v[0] == "DISCLOSED"]
    # and the mix held every kind of verdict
    outcomes = {(v[0], v[3] is None, v[1] is None) for v in expected.values()}
    assert {("DISCLOSED", True, False), ("DISCLOSED", True, True), ("DISCLOSED", False, True),
            ("WITHHELD", False, True)} <= outcomes
