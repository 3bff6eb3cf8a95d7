"""Disclosure: the consent rule applied when an event actually leaves (sent, streamed,
pulled or replayed), and the disclosure log written in the same statement.

Judging is done by PostgreSQL (``JUDGING``), in the statement that also logs the
disclosures and, for webhooks, reserves the range: one snapshot, one round trip, and no
Python object per event (the request body is put together by the database). It is the
rule of ``program.feeds.consent`` written in SQL; ``tests/integration/test_feed_verdicts``
holds the two to the same answers.

The consent state read here is the builder's, which follows the log within
milliseconds. To close even that window, a person with a consent or erasure event still
in the log's unbuilt tail is not judged yet: the range judged stops before their first
event until the builder has caught up; and a partner with an event still unbuilt is
not judged at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg

from program.domain.consent import Consent
from program.domain.partner import PartnerStatus
from program.feeds import translate as tr
from program.store.schema import EVENTS_TABLE

PENDING_TOPICS = sorted({*tr.CONSENT_ENDED, tr.CONSENT_GIVEN, tr.CONSENT_REFUSED, tr.ERASED})
NOTICE_REASON = "notice to a recipient (GDPR Art. 19)"
OUT_OF_SCOPE = "the partner is no longer scoped to this programme"
NO_CONSENT = "no GIVEN, unexpired consent naming this partner for: "
DISCLOSURE_COLUMNS = ("at, partner_id, channel, endpoint_id, sequence, event_id, type, "
                      "participant_id, consent_id, consent_version, outcome, reason")


@lru_cache(maxsize=1 << 16)
def consent_id(participant_id: UUID, purpose: str) -> UUID:
    """``Consent.create_id``, remembered: every range asks it for each person in it and
    each purpose of the partner (a SHA-1 each time)."""
    return Consent.create_id(participant_id, purpose)


class PartnerUnavailable(Exception):
    """The partner is unknown, suspended or retired: nothing is disclosed to it."""

    code = "FORBIDDEN"


class FeedRow(NamedTuple):
    """A disclosed event as a channel hands it over."""

    sequence: int
    body: bytes


@dataclass(frozen=True)
class Range:
    """The feed's events after ``after`` up to ``last``, as far as judging them must know
    beforehand: whose events they are, and the partner's purposes (to name the consents
    whose unbuilt events would hold them back). ``JUDGING`` refuses to judge when the
    purposes have changed since."""

    partner_id: UUID
    after: int
    last: int
    people: list[UUID]
    purposes: list[str]

    def arguments(self, today: date) -> tuple[Any, ...]:
        """``JUDGING``'s parameters $1 to $9."""
        ids: list[UUID] = []
        owners: list[UUID] = []
        for person in self.people:
            ids.append(person)
            owners.append(person)
            for purpose in self.purposes:
                ids.append(consent_id(person, purpose))
                owners.append(person)
        return (self.partner_id, self.after, self.last, ids, owners, self.purposes, today,
                TAIL_CHECKED, PENDING_TOPICS)


_RANGE = """
SELECT (SELECT purposes FROM feed_partners WHERE partner_id = $1) AS purposes,
       max(r.sequence) AS last,
       coalesce(array_agg(DISTINCT r.participant_id)
                  FILTER (WHERE r.participant_id IS NOT NULL), '{}') AS people
  FROM (SELECT sequence, participant_id FROM feed_events
         WHERE partner_id = $1 AND sequence > $2 AND ($4::bigint IS NULL OR sequence <= $4)
         ORDER BY sequence LIMIT $3) r"""


async def next_range(conn: asyncpg.Connection, partner_id: UUID, after: int, limit: int,
                     upto: int | None = None) -> Range | None:
    """At most ``limit`` events after ``after`` (and not past ``upto``); None when none."""
    row = await conn.fetchrow(_RANGE, partner_id, after, limit, upto)
    if row["purposes"] is None:
        raise PartnerUnavailable(f"no feed for partner {partner_id}")
    if row["last"] is None:
        return None
    return Range(partner_id, after, row["last"], list(row["people"]), list(row["purposes"]))


# The common table expressions that judge a range ($1 partner, $2 after, $3 last, $4 and
# $5 the watched aggregates and whose they are, $6 the purposes the range was read with,
# $7 today, $8 TAIL_CHECKED, $9 PENDING_TOPICS), ending in ``judged``: one row per event
# judged, with its verdict. The unbuilt tail of the log is read by position, at most
# TAIL_CHECKED events of it: unbounded, its plan took it for a third of the log and
# started parallel workers for every batch once the log was a few megabytes. When the
# builder is further behind than that, the watched aggregates' own events are looked up
# instead, an index probe each however long the log. A partner not active judges nothing
# (the caller reads ``status`` and refuses).
TAIL_CHECKED = 5000
JUDGING = f"""
partner AS (
  SELECT partner_id, status, purposes, programme_ids FROM feed_partners WHERE partner_id = $1),
built AS (SELECT position FROM feed_checkpoint WHERE name = 'builder'),
tail AS MATERIALIZED (
  SELECT originator_id, topic FROM {EVENTS_TABLE}
   WHERE notification_id > (SELECT position FROM built)
   ORDER BY notification_id LIMIT $8::int + 1),
behind AS (SELECT count(*) > $8::int AS far FROM tail),
pending AS (
  SELECT array_agg(DISTINCT w.owner) AS owners FROM unnest($4::uuid[], $5::uuid[]) AS w(id, owner)
   WHERE CASE WHEN (SELECT far FROM behind)
         THEN EXISTS (SELECT 1 FROM {EVENTS_TABLE} e WHERE e.originator_id = w.id
                         AND e.notification_id > (SELECT position FROM built)
                         AND e.topic = ANY($9::text[]))
         ELSE EXISTS (SELECT 1 FROM tail t WHERE t.originator_id = w.id
                         AND t.topic = ANY($9::text[])) END),
held AS (
  SELECT (SELECT purposes FROM partner) IS DISTINCT FROM $6::text[]
      OR CASE WHEN (SELECT far FROM behind)
         THEN EXISTS (SELECT 1 FROM {EVENTS_TABLE} e WHERE e.originator_id = $1
                         AND e.notification_id > (SELECT position FROM built))
         ELSE EXISTS (SELECT 1 FROM tail t WHERE t.originator_id = $1) END AS partner),
upto AS (
  SELECT CASE WHEN (SELECT partner FROM held) THEN $2::bigint
              WHEN (SELECT owners FROM pending) IS NULL THEN $3::bigint
         ELSE coalesce((SELECT min(f.sequence) - 1 FROM feed_events f
                         WHERE f.partner_id = $1 AND f.sequence > $2 AND f.sequence <= $3
                           AND f.participant_id = ANY((SELECT owners FROM pending)::uuid[])), $3::bigint)
         END AS last),
granted AS (
  SELECT array_agg(participant_id) AS people, array_agg(consent_id) AS consents,
         array_agg(version) AS versions
    FROM (SELECT DISTINCT ON (c.participant_id) c.participant_id, c.consent_id, c.version
            FROM feed_consents c, partner p
           WHERE c.participant_id = ANY($5::uuid[])
             AND c.purpose = ANY(p.purposes) AND c.state = 'GIVEN'
             AND p.partner_id::text = ANY(c.recipients)
             AND (c.valid_until IS NULL OR c.valid_until >= $7::date)
           ORDER BY c.participant_id, array_position(p.purposes, c.purpose)) c),
judged AS (
  SELECT f.sequence, f.event_id, f.type, f.participant_id, f.body,
         v.consent_id, v.consent_version,
         f.notice OR (s.in_scope AND (f.participant_id IS NULL OR v.consent_id IS NOT NULL))
           AS disclosed,
         CASE WHEN f.notice THEN '{NOTICE_REASON}'
              WHEN NOT s.in_scope THEN '{OUT_OF_SCOPE}'
              WHEN f.participant_id IS NULL OR v.consent_id IS NOT NULL THEN NULL
              ELSE '{NO_CONSENT}' || array_to_string(p.purposes, ', ') END AS reason
    FROM feed_events f CROSS JOIN partner p CROSS JOIN granted g
         CROSS JOIN LATERAL (SELECT array_position(g.people, f.participant_id) AS i) k
         CROSS JOIN LATERAL (SELECT coalesce(f.programme_id = ANY(p.programme_ids), false)
                               AS in_scope) s
         CROSS JOIN LATERAL (
           SELECT CASE WHEN s.in_scope AND NOT f.notice THEN g.consents[k.i] END AS consent_id,
                  CASE WHEN s.in_scope AND NOT f.notice THEN g.versions[k.i] END
                    AS consent_version) v
   WHERE f.partner_id = $1 AND f.sequence > $2 AND f.sequence <= (SELECT last FROM upto)
     AND p.status = '{PartnerStatus.ACTIVE}')"""

# What a judged range comes to: the partner's status, the last event judged (NULL when
# none was), how many of them are disclosed and their bodies as one JSON array.
OUTCOME = """
(SELECT status FROM partner) AS status,
(SELECT max(sequence) FROM judged) AS last,
(SELECT count(*) FROM judged WHERE disclosed) AS disclosed,
(SELECT '['::bytea || string_agg(body, ','::bytea ORDER BY sequence) || ']'::bytea
   FROM judged WHERE disclosed) AS body"""

# Judging alone, writing nothing: a range reserved before, sent again.
_JUDGE = f"WITH {JUDGING} SELECT {OUTCOME}"

# Judging a page and logging its disclosures ($10 the channel): pull, SSE, GraphQL.
_PAGE = f"""
WITH {JUDGING},
logged AS (
  INSERT INTO feed_disclosures ({DISCLOSURE_COLUMNS})
  SELECT now(), $1, $10, NULL, sequence, event_id, type, participant_id, consent_id,
         consent_version, CASE WHEN disclosed THEN 'DISCLOSED' ELSE 'WITHHELD' END, reason
    FROM judged ORDER BY sequence)
SELECT (SELECT status FROM partner) AS status, (SELECT max(sequence) FROM judged) AS last,
       (SELECT array_agg(sequence ORDER BY sequence) FROM judged WHERE disclosed) AS sequences,
       (SELECT array_agg(body ORDER BY sequence) FROM judged WHERE disclosed) AS bodies"""


@dataclass(frozen=True)
class Judged:
    """A range judged: ``last`` the last event judged (None: none could be yet), the
    disclosed events' count and their bodies as one JSON array (None when none)."""

    last: int | None
    disclosed: int
    body: bytes | None


def check_active(partner_id: UUID, status: str | None) -> None:
    if status is None:
        raise PartnerUnavailable(f"no feed for partner {partner_id}")
    if status != PartnerStatus.ACTIVE:
        raise PartnerUnavailable(f"partner {partner_id} is {status}")


async def judge(conn: asyncpg.Connection, events: Range, today: date) -> Judged:
    """``events`` judged under the consents and partner scope as they stand now; nothing
    written."""
    row = await conn.fetchrow(_JUDGE, *events.arguments(today))
    check_active(events.partner_id, row["status"])
    return Judged(row["last"], row["disclosed"], row["body"])


async def disclose_page(conn: asyncpg.Connection, events: Range, today: date,
                        channel: str) -> tuple[list[FeedRow], int | None]:
    """``events`` judged, each logged as disclosed on ``channel`` or withheld, in one
    statement; the disclosed events and the last judged (None: none could be yet)."""
    row = await conn.fetchrow(_PAGE, *events.arguments(today), channel)
    check_active(events.partner_id, row["status"])
    sequences, bodies = row["sequences"] or [], row["bodies"] or []
    return [FeedRow(s, b) for s, b in zip(sequences, bodies, strict=True)], row["last"]
