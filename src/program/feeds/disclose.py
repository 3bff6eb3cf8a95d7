"""Disclosure: the consent rule applied when an event actually leaves (sent, streamed,
pulled or replayed), and the disclosure log written in the same breath.

The consent state read here is the builder's, which follows the log within
milliseconds. To close even that window, a person with a consent or erasure event still
in the log's unbuilt tail is not judged yet: reading stops before their event until the
builder has caught up (``Judged.complete`` is False).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple
from datetime import date, datetime
from uuid import UUID

import asyncpg

from program.domain.consent import Consent
from program.feeds import translate as tr
from program.feeds.consent import NOTICE, ConsentRow, PartnerRow, Verdict, authorise, in_scope
from program.store.schema import EVENTS_TABLE

_ROW = "sequence, event_id, type, participant_id, programme_id, notice, body"
PENDING_TOPICS = sorted({*tr.CONSENT_ENDED, tr.CONSENT_GIVEN, tr.CONSENT_REFUSED, tr.ERASED})
_DISCLOSURE_COLUMNS = ["at", "partner_id", "channel", "endpoint_id", "sequence", "event_id",
                       "type", "participant_id", "consent_id", "consent_version", "outcome",
                       "reason"]
NOTICE_REASON = "notice to a recipient (GDPR Art. 19)"


@lru_cache(maxsize=1 << 16)
def consent_id(participant_id: UUID, purpose: str) -> UUID:
    """``Consent.create_id``, remembered: every batch asks it for each person judged and
    each purpose of the partner (a SHA-1 each time)."""
    return Consent.create_id(participant_id, purpose)


class PartnerUnavailable(Exception):
    """The partner is unknown, suspended or retired: nothing is disclosed to it."""

    code = "FORBIDDEN"


class FeedRow(NamedTuple):  # a tuple: tens of thousands are made per second
    sequence: int
    event_id: UUID
    type: str
    participant_id: UUID | None
    programme_id: UUID | None
    notice: bool
    body: bytes


@dataclass(frozen=True)
class Judged:
    rows: list[tuple[FeedRow, Verdict]]
    complete: bool  # False: stopped early at a person whose consent is changing right now
    built: int = 0  # the builder's position the verdicts were made at
    partner: PartnerRow | None = None

    @property
    def disclosed(self) -> list[FeedRow]:
        return [r for r, v in self.rows if v.allowed]

    @property
    def last(self) -> int | None:
        return self.rows[-1][0].sequence if self.rows else None

    def watched(self) -> list[UUID]:
        """Whose events, recorded after ``built``, would void these verdicts: the partner,
        the people judged and their consents for the partner's purposes."""
        if self.partner is None:
            return []
        people = {r.participant_id for r, _ in self.rows if r.participant_id is not None}
        purposes = self.partner.purposes
        return [self.partner.partner_id, *people,
                *(consent_id(p, purpose) for p in people for purpose in purposes)]


async def read_feed(conn: asyncpg.Connection | asyncpg.Pool, partner_id: UUID, after: int,
                    limit: int, upto: int | None = None) -> list[FeedRow]:
    rows = await conn.fetch(
        f"SELECT {_ROW} FROM feed_events WHERE partner_id = $1 AND sequence > $2 "
        "AND ($4::bigint IS NULL OR sequence <= $4) ORDER BY sequence LIMIT $3",
        partner_id, after, limit, upto)
    return [FeedRow(*r) for r in rows]


async def load_partner(conn: asyncpg.Connection | asyncpg.Pool, partner_id: UUID) -> PartnerRow:
    r = await conn.fetchrow("SELECT * FROM feed_partners WHERE partner_id = $1", partner_id)
    if r is None:
        raise PartnerUnavailable(f"no feed for partner {partner_id}")
    return _partner(r)


def _partner(r: asyncpg.Record) -> PartnerRow:
    return PartnerRow(r["partner_id"], r["name"], r["status"], list(r["purposes"]),
                      set(r["programme_ids"]), set(r["event_types"]), r["head"])


# The partner, the people's consents and the consent events the builder has not applied
# yet, in one statement: one snapshot (a consent cannot change between the reads) and
# one round trip. Rows are told apart by ``kind``. The unbuilt tail is read by position,
# at most TAIL_CHECKED events of it: unbounded, its plan took it for a third of the log
# and started parallel workers for every batch once the log was a few megabytes. When
# the builder is further behind than that (``tail`` on the partner's row says so), the
# people's and consents' own events are looked up instead (``_PENDING_OF``).
TAIL_CHECKED = 5000
_SNAPSHOT = f"""
WITH built AS (SELECT position FROM feed_checkpoint WHERE name = 'builder'),
tail AS MATERIALIZED (
  SELECT originator_id, topic FROM {EVENTS_TABLE}
   WHERE cardinality($2::uuid[]) > 0 AND notification_id > (SELECT position FROM built)
   ORDER BY notification_id LIMIT $4::int + 1)
SELECT 'partner' AS kind, p.partner_id AS id, p.name, p.status, p.purposes, p.programme_ids,
       p.event_types, p.head, NULL::uuid AS participant_id, NULL::text AS purpose,
       NULL::bigint AS version, NULL::text AS state, NULL::text[] AS recipients,
       NULL::date AS valid_until, (SELECT position FROM built) AS built,
       (SELECT count(*) FROM tail) AS tail
  FROM feed_partners p WHERE p.partner_id = $1
UNION ALL
SELECT 'consent', c.consent_id, NULL, NULL, NULL, NULL, NULL, NULL, c.participant_id, c.purpose,
       c.version, c.state, c.recipients, c.valid_until, NULL, NULL
  FROM feed_consents c WHERE c.participant_id = ANY($2::uuid[])
UNION ALL
SELECT 'pending', t.originator_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL
  FROM tail t WHERE t.topic = ANY($3::text[])"""
# Which of these aggregates (people and their consents) have consent or erasure events
# after the builder's position: an index probe each, however long the log.
_PENDING_OF = f"""
SELECT w.id FROM unnest($1::uuid[]) AS w(id)
 WHERE EXISTS (SELECT 1 FROM {EVENTS_TABLE} e WHERE e.originator_id = w.id
                  AND e.notification_id > $2 AND e.topic = ANY($3::text[]))"""


async def judge(conn: asyncpg.Connection, partner_id: UUID, rows: Sequence[FeedRow],
                today: date) -> Judged:
    """Each row's verdict under the consents and partner scope as they stand now."""
    people = list({r.participant_id for r in rows if r.participant_id is not None})
    partner, built, tail = None, 0, 0
    consents: dict[UUID, list[ConsentRow]] = {p: [] for p in people}
    pending: set[UUID] = set()
    for c in await conn.fetch(_SNAPSHOT, partner_id, people, PENDING_TOPICS, TAIL_CHECKED):
        kind = c["kind"]
        if kind == "consent":
            consents[c["participant_id"]].append(ConsentRow(
                c["id"], c["participant_id"], c["purpose"], c["version"], c["state"],
                list(c["recipients"]), c["valid_until"]))
        elif kind == "pending":
            pending.add(c["id"])
        else:
            partner, built = _partner({**dict(c), "partner_id": c["id"]}), c["built"] or 0
            tail = c["tail"]
    if partner is None:
        raise PartnerUnavailable(f"no feed for partner {partner_id}")
    if not partner.active:
        raise PartnerUnavailable(f"partner {partner.partner_id} is {partner.status}")
    if tail > TAIL_CHECKED:  # the builder is far behind: look each one up
        watched = [*people, *(consent_id(p, purpose)
                              for p in people for purpose in partner.purposes)]
        pending = {r[0] for r in await conn.fetch(_PENDING_OF, watched, built, PENDING_TOPICS)}
    out: list[tuple[FeedRow, Verdict]] = []
    verdicts: dict[tuple[UUID | None, UUID | None], Verdict] = {}  # the same per person
    for row in rows:
        pid = row.participant_id
        if pid is not None and pending and _changing(pid, partner, pending):
            return _judged(out, False, built, partner)
        if row.notice:
            out.append((row, NOTICE))
            continue
        key = (pid, row.programme_id)
        verdict = verdicts.get(key)
        if verdict is None:
            verdict = verdicts[key] = _verdict(partner, row, consents.get(pid, []) if pid else [],
                                               today)
        out.append((row, verdict))
    return _judged(out, True, built, partner)


def _judged(out: list[tuple[FeedRow, Verdict]], complete: bool, built: int,
            partner: PartnerRow) -> Judged:
    return Judged(out, complete, built, partner)


def _changing(pid: UUID, partner: PartnerRow, pending: set[UUID]) -> bool:
    return pid in pending or any(consent_id(pid, p) in pending for p in partner.purposes)


def _verdict(partner: PartnerRow, row: FeedRow, consents: list[ConsentRow], today: date) -> Verdict:
    if row.notice:
        return NOTICE
    if not in_scope(partner, row.programme_id):
        return Verdict(False, reason="the partner is no longer scoped to this programme")
    if row.participant_id is None:
        return Verdict(True)
    return authorise(partner, consents, today)


async def record(conn: asyncpg.Connection, partner_id: UUID, channel: str, judged: Judged,
                 at: datetime, endpoint_id: UUID | None = None) -> None:
    """One disclosure-log row per event judged: DISCLOSED with its consent, or WITHHELD."""
    records = []
    for row, verdict in judged.rows:
        consent = verdict.consent
        reason = verdict.reason if not verdict.allowed else (NOTICE_REASON if row.notice else None)
        records.append((at, partner_id, channel, endpoint_id, row.sequence, row.event_id,
                        row.type, row.participant_id,
                        consent.consent_id if consent else None,
                        consent.version if consent else None,
                        "DISCLOSED" if verdict.allowed else "WITHHELD", reason))
    if records:
        await conn.copy_records_to_table("feed_disclosures", records=records,
                                         columns=_DISCLOSURE_COLUMNS)
