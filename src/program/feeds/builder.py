"""The feed builder: reads the log in order and appends, per partner, the public events
it may hear about, with gap-free sequences, in one transaction with its checkpoint.

One builder runs at a time across every process (an advisory lock); it keeps partners
and cohorts in memory and writes them through. Consent is checked here against the
consent state *as of the event* (so people who never consented to a partner take no
place in its sequence, which would itself tell the partner something), and checked
again when each event is disclosed (``disclose``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from eventsourcing.persistence import Mapper, StoredEvent

from program.feeds import translate as tr
from program.feeds.consent import ConsentRow, PartnerRow, authorise, in_scope
from program.feeds.envelope import envelope, feed_event_id
from program.feeds.pseudonyms import Pseudonyms
from program.feeds.tables import FEED_CHANNEL, SET_COLUMNS, SET_SIZE
from program.feeds.wiring import endpoint_op, partner_change
from program.store.repository import event_id as source_event_id
from program.store.schema import EVENTS_TABLE

log = logging.getLogger(__name__)

CHECKPOINT = "builder"
_READ = (f"SELECT notification_id, originator_id, originator_version, topic, state, recorded_at "
         f"FROM {EVENTS_TABLE} WHERE notification_id > $1 ORDER BY notification_id LIMIT $2")
_EVENT_COLUMNS = ["partner_id", "sequence", "event_id", "type", "participant_id",
                  "programme_id", "position", "time", "notice", "body"]
# A batch's withheld events, a disclosure set per partner and time (``tables``): $1 the time,
# $2 the partner, then per event its id, type, person and reason.
_WITHHELD = f"""
INSERT INTO feed_disclosure_sets ({SET_COLUMNS})
SELECT $1, $2, 'feed', NULL, array_fill(NULL::bigint, ARRAY[cardinality($3::uuid[])]), $3,
       $4::text[], $5::uuid[], array_fill(NULL::uuid, ARRAY[cardinality($3::uuid[])]),
       array_fill(NULL::bigint, ARRAY[cardinality($3::uuid[])]),
       array_fill('WITHHELD'::text, ARRAY[cardinality($3::uuid[])]), $6::text[]"""


class StaleCheckpoint(Exception):
    """Another builder moved the checkpoint: this one lost its lock."""


@dataclass
class _Batch:
    events: list[tuple[Any, ...]] = field(default_factory=list)
    withheld: list[tuple[Any, ...]] = field(default_factory=list)
    recipients: set[tuple[UUID, UUID]] = field(default_factory=set)
    consents: dict[UUID, ConsentRow] = field(default_factory=dict)
    changed_consents: set[UUID] = field(default_factory=set)
    known_recipients: set[tuple[UUID, UUID]] = field(default_factory=set)
    cohorts: dict[UUID, UUID] = field(default_factory=dict)
    partners: set[UUID] = field(default_factory=set)
    endpoint_ops: list[tuple[str, Any]] = field(default_factory=list)

    by_person: dict[UUID, list[ConsentRow]] = field(default_factory=dict)

    def add_consent(self, consent: ConsentRow) -> None:
        self.consents[consent.consent_id] = consent
        self.by_person.setdefault(consent.participant_id, []).append(consent)

    def consents_of(self, participant_id: UUID) -> list[ConsentRow]:
        return self.by_person.get(participant_id, [])


class FeedBuilder:
    """Builds every partner's feed from the log; ``build`` is one batch."""

    def __init__(self, pool: asyncpg.Pool, mapper: Mapper, pseudonyms: Pseudonyms,
                 batch_size: int = 2000) -> None:
        self.pool = pool
        self.mapper = mapper
        self.pseudonyms = pseudonyms
        self.batch_size = batch_size
        self.partners: dict[UUID, PartnerRow] = {}
        self.cohorts: dict[UUID, UUID] = {}
        self.position = 0

    async def load(self) -> int:
        """Read partners, cohorts and the checkpoint (on taking over, or after a failure)."""
        async with self.pool.acquire() as conn:
            await conn.execute("INSERT INTO feed_checkpoint VALUES ($1, 0) ON CONFLICT DO NOTHING",
                               CHECKPOINT)
            self.position = await conn.fetchval(
                "SELECT position FROM feed_checkpoint WHERE name = $1", CHECKPOINT)
            self.partners = {
                r["partner_id"]: PartnerRow(r["partner_id"], r["name"], r["status"],
                                            list(r["purposes"]), set(r["programme_ids"]),
                                            set(r["event_types"]), r["head"])
                for r in await conn.fetch("SELECT * FROM feed_partners")
            }
            self.cohorts = {r[0]: r[1] for r in await conn.fetch("SELECT * FROM feed_cohorts")}
        return int(self.position)

    async def read(self, limit: int | None = None) -> list[asyncpg.Record]:
        return list(await self.pool.fetch(_READ, self.position, limit or self.batch_size))

    async def build(self, rows: list[asyncpg.Record]) -> int:
        """Apply rows after the checkpoint; feed rows and checkpoint commit together."""
        if not rows:
            return self.position
        expected, position = self.position, rows[-1]["notification_id"]
        decoded = [(r, self._decode(r)) for r in rows if tr.interesting(r["topic"])]
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                moved = await conn.fetchval(
                    "UPDATE feed_checkpoint SET position = $3 WHERE name = $1 AND position = $2 "
                    "RETURNING position", CHECKPOINT, expected, position)
                if moved is None:
                    raise StaleCheckpoint("the feed checkpoint moved under this builder")
                if decoded:
                    batch = await self._prepare(conn, decoded)
                    for row, event in decoded:
                        self._apply(batch, row, event)
                    await self._write(conn, batch)
                    await conn.execute("SELECT pg_notify($1, $2)", FEED_CHANNEL, str(position))
        except BaseException:
            await self.load()  # the in-memory state may hold the failed batch's changes
            raise
        self.position = position
        return position

    def _decode(self, row: asyncpg.Record) -> Any:
        return self.mapper.to_domain_event(StoredEvent(
            UUID(bytes=row["originator_id"].bytes), row["originator_version"], row["topic"],
            bytes(row["state"])))

    async def _prepare(self, conn: asyncpg.Connection, decoded: list[tuple[Any, Any]]) -> _Batch:
        people: set[UUID] = set()
        consent_ids: set[UUID] = set()
        for row, e in decoded:
            if row["topic"] in tr.FACTS and getattr(e, "participant_id", None) is not None:
                people.add(e.participant_id)
            elif row["topic"] == tr.get_topic(tr.Participant.OutcomeRecorded) or \
                    row["topic"] == tr.ERASED:
                people.add(e.originator_id)
            elif row["topic"] in tr.CONSENT_ENDED or row["topic"] in (tr.CONSENT_GIVEN,
                                                                     tr.CONSENT_REFUSED):
                consent_ids.add(e.originator_id)
        batch = _Batch()
        for r in await conn.fetch(
                "SELECT * FROM feed_consents WHERE participant_id = ANY($1::uuid[]) "
                "OR consent_id = ANY($2::uuid[])", list(people), list(consent_ids)):
            batch.add_consent(ConsentRow(
                r["consent_id"], r["participant_id"], r["purpose"], r["version"], r["state"],
                list(r["recipients"]), r["valid_until"]))
        people |= {c.participant_id for c in batch.consents.values()}
        batch.known_recipients = {
            (r[0], r[1]) for r in await conn.fetch(
                "SELECT participant_id, partner_id FROM feed_recipients "
                "WHERE participant_id = ANY($1::uuid[])", list(people))}
        return batch

    def _apply(self, batch: _Batch, row: asyncpg.Record, e: Any) -> None:
        topic, time = row["topic"], row["recorded_at"]
        source = source_event_id(e.originator_id, e.originator_version)
        translate = tr.FACTS.get(topic)
        if translate is not None:
            self._address(batch, translate(e), source, row["notification_id"], time)
        elif topic == tr.COHORT_PLANNED:
            self.cohorts[e.originator_id] = batch.cohorts[e.originator_id] = e.programme_id
        elif topic == tr.CONSENT_OPENED:
            consent = ConsentRow.opened(e.participant_id, e.purpose, e.originator_version)
            batch.add_consent(consent)
            batch.changed_consents.add(consent.consent_id)
        elif topic in (tr.CONSENT_GIVEN, tr.CONSENT_REFUSED) or topic in tr.CONSENT_ENDED:
            self._consent_changed(batch, topic, e, source, row["notification_id"], time)
        elif topic == tr.ERASED:
            for partner in self._recipients_of(batch, e.originator_id):
                self._append(batch, partner, tr.T + "participant.erased.v1", source,
                             row["notification_id"], time, e.originator_id, None, {}, notice=True)
        elif (name := tr.partner_event(topic)) is not None:
            if partner_change(self.partners, name, e):
                batch.partners.add(e.originator_id)
            partner = self.partners.get(e.originator_id)
            op = endpoint_op(name, e, partner.head if partner else 0)
            if op is not None:
                batch.endpoint_ops.append(op)

    def _consent_changed(self, batch: _Batch, topic: str, e: Any, source: UUID,
                         position: int, time: datetime) -> None:
        consent = batch.consents.get(e.originator_id)
        if consent is None:  # a consent opened before feeds existed: nothing was sent under it
            return
        if topic in tr.CONSENT_ENDED and consent.state == "GIVEN":
            for partner in self._recipients_of(batch, consent.participant_id):
                if str(partner.partner_id) in consent.recipients and \
                        consent.purpose in partner.purposes:
                    self._append(batch, partner, tr.T + "consent.withdrawn.v1", source, position,
                                 time, consent.participant_id, None,
                                 {"purpose": consent.purpose, "change": tr.CONSENT_ENDED[topic]},
                                 notice=True)
        consent.version = e.originator_version
        if topic == tr.CONSENT_GIVEN:
            consent.state, consent.recipients = "GIVEN", list(e.recipients)
            consent.valid_until = e.valid_until
        elif topic == tr.CONSENT_REFUSED:
            consent.state, consent.recipients, consent.valid_until = "REFUSED", [], None
        else:
            consent.state = tr.CONSENT_ENDED[topic]
        batch.changed_consents.add(consent.consent_id)

    def _recipients_of(self, batch: _Batch, participant_id: UUID) -> list[PartnerRow]:
        return [p for p in self.partners.values() if not p.retired and
                ((participant_id, p.partner_id) in batch.known_recipients
                 or (participant_id, p.partner_id) in batch.recipients)]

    def _address(self, batch: _Batch, fact: tr.Fact, source: UUID, position: int,
                 time: datetime) -> None:
        programme = self.cohorts.get(fact.cohort_id) if fact.cohort_id else None
        for partner in self.partners.values():
            if partner.retired or fact.type not in partner.event_types or \
                    not in_scope(partner, programme):
                continue
            if fact.participant_id is not None:
                verdict = authorise(partner, batch.consents_of(fact.participant_id), time.date())
                if not verdict.allowed:
                    batch.withheld.append((
                        time, partner.partner_id,
                        UUID(feed_event_id(partner.partner_id, source, fact.type)), fact.type,
                        fact.participant_id, verdict.reason))
                    continue
            data = {"programmeId": str(programme), "cohortId": str(fact.cohort_id), **fact.data}
            self._append(batch, partner, fact.type, source, position, time,
                         fact.participant_id, programme, data)

    def _append(self, batch: _Batch, partner: PartnerRow, event_type: str, source: UUID,
                position: int, time: datetime, participant_id: UUID | None,
                programme_id: UUID | None, data: dict[str, Any], *, notice: bool = False) -> None:
        partner.head += 1
        batch.partners.add(partner.partner_id)
        subject = None
        if participant_id is not None:
            subject = self.pseudonyms.of(partner.partner_id, participant_id)
            data = {"participant": subject, **data}
            batch.recipients.add((participant_id, partner.partner_id))
        event_id, body = envelope(partner_id=partner.partner_id, source_event_id=source,
                                  event_type=event_type, time=time, sequence=partner.head,
                                  subject=subject, data=data)
        batch.events.append((partner.partner_id, partner.head, UUID(event_id), event_type,
                             participant_id, programme_id, position, time, notice, body))

    async def _write(self, conn: asyncpg.Connection, batch: _Batch) -> None:
        if batch.events:
            await conn.copy_records_to_table("feed_events", records=batch.events,
                                             columns=_EVENT_COLUMNS)
        if batch.withheld:
            await conn.executemany(_WITHHELD, _withheld_sets(batch.withheld))
        if batch.recipients - batch.known_recipients:
            pairs = list(batch.recipients - batch.known_recipients)
            await conn.execute(
                "INSERT INTO feed_recipients SELECT * FROM unnest($1::uuid[], $2::uuid[]) "
                "ON CONFLICT DO NOTHING", [a for a, _ in pairs], [b for _, b in pairs])
        if batch.changed_consents:
            await _upsert_consents(conn, [batch.consents[c] for c in batch.changed_consents])
        if batch.cohorts:
            await conn.execute(
                "INSERT INTO feed_cohorts SELECT * FROM unnest($1::uuid[], $2::uuid[]) "
                "ON CONFLICT DO NOTHING", list(batch.cohorts), list(batch.cohorts.values()))
        for partner_id in batch.partners:
            p = self.partners[partner_id]
            await conn.execute(
                "INSERT INTO feed_partners VALUES ($1, $2, $3, $4, $5, $6, $7) "
                "ON CONFLICT (partner_id) DO UPDATE SET name = $2, status = $3, purposes = $4, "
                "programme_ids = $5, event_types = $6, head = $7",
                p.partner_id, p.name, p.status, p.purposes, list(p.programme_ids),
                sorted(p.event_types), p.head)
        for sql, args in batch.endpoint_ops:
            await conn.execute(sql, *args)


async def _upsert_consents(conn: asyncpg.Connection, rows: list[ConsentRow]) -> None:
    await conn.executemany(
        "INSERT INTO feed_consents VALUES ($1, $2, $3, $4, $5, $6, $7) "
        "ON CONFLICT (consent_id) DO UPDATE SET version = $4, state = $5, recipients = $6, "
        "valid_until = $7",
        [(c.consent_id, c.participant_id, c.purpose, c.version, c.state, c.recipients,
          c.valid_until) for c in rows])


def _withheld_sets(withheld: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """``_WITHHELD``'s arguments: the events withheld, a set per partner and event time (a
    set has one time, and each of these is dated by its event), in the order they came, at
    most ``tables.SET_SIZE`` events each."""
    by_key: dict[tuple[datetime, UUID], list[tuple[Any, ...]]] = {}
    for entry in withheld:
        by_key.setdefault((entry[0], entry[1]), []).append(entry)
    sets = []
    for (at, partner_id), entries in by_key.items():
        for i in range(0, len(entries), SET_SIZE):
            part = entries[i:i + SET_SIZE]
            sets.append((at, partner_id, [e[2] for e in part], [e[3] for e in part],
                         [e[4] for e in part], [e[5] for e in part]))
    return sets
