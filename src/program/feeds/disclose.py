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
from datetime import date, datetime
from uuid import UUID

import asyncpg

from program.domain.consent import Consent
from program.feeds import translate as tr
from program.feeds.consent import NOTICE, ConsentRow, PartnerRow, Verdict, authorise, in_scope
from program.store.schema import EVENTS_TABLE

_ROW = "sequence, event_id, type, participant_id, programme_id, notice, body"
_PENDING_TOPICS = sorted({*tr.CONSENT_ENDED, tr.CONSENT_GIVEN, tr.CONSENT_REFUSED, tr.ERASED})
_DISCLOSURE_COLUMNS = ["at", "partner_id", "channel", "endpoint_id", "sequence", "event_id",
                       "type", "participant_id", "consent_id", "consent_version", "outcome",
                       "reason"]
NOTICE_REASON = "notice to a recipient (GDPR Art. 19)"


class PartnerUnavailable(Exception):
    """The partner is unknown, suspended or retired: nothing is disclosed to it."""

    code = "FORBIDDEN"


@dataclass(frozen=True)
class FeedRow:
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

    @property
    def disclosed(self) -> list[FeedRow]:
        return [r for r, v in self.rows if v.allowed]

    @property
    def last(self) -> int | None:
        return self.rows[-1][0].sequence if self.rows else None


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
    return PartnerRow(r["partner_id"], r["name"], r["status"], list(r["purposes"]),
                      set(r["programme_ids"]), set(r["event_types"]), r["head"])


async def judge(conn: asyncpg.Connection, partner: PartnerRow, rows: Sequence[FeedRow],
                today: date) -> Judged:
    """Each row's verdict under the consents and partner scope as they stand now."""
    if not partner.active:
        raise PartnerUnavailable(f"partner {partner.partner_id} is {partner.status}")
    people = list({r.participant_id for r in rows if r.participant_id is not None})
    consents: dict[UUID, list[ConsentRow]] = {p: [] for p in people}
    pending: set[UUID] = set()
    if people:
        for c in await conn.fetch("SELECT * FROM feed_consents WHERE participant_id = ANY($1)",
                                  people):
            consents[c["participant_id"]].append(ConsentRow(
                c["consent_id"], c["participant_id"], c["purpose"], c["version"], c["state"],
                list(c["recipients"]), c["valid_until"]))
        pending = {r[0] for r in await conn.fetch(
            f"SELECT originator_id FROM {EVENTS_TABLE} WHERE notification_id > "
            "(SELECT position FROM feed_checkpoint WHERE name = 'builder') "
            "AND topic = ANY($1::text[])", _PENDING_TOPICS)}
    out: list[tuple[FeedRow, Verdict]] = []
    for row in rows:
        pid = row.participant_id
        if pid is not None and pending and _changing(pid, partner, pending):
            return Judged(out, complete=False)
        out.append((row, _verdict(partner, row, consents.get(pid, []) if pid else [], today)))
    return Judged(out, complete=True)


def _changing(pid: UUID, partner: PartnerRow, pending: set[UUID]) -> bool:
    return pid in pending or any(Consent.create_id(pid, p) in pending for p in partner.purposes)


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
