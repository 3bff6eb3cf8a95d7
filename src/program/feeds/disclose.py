"""Disclosure: the consent rule applied when an event actually leaves (sent, streamed,
pulled or replayed), and the disclosure log written in the same statement.

Judging is done by PostgreSQL (``JUDGING``), in the statement that also logs the
disclosures and, for webhooks, reserves the range: one snapshot, one round trip, and no
Python object per event (the request body is put together by the database). It is the
rule of ``program.feeds.consent`` written in SQL; ``tests/integration/test_feed_verdicts``
holds the two to the same answers.

The consent state read here is the builder's, which follows the log within
milliseconds. To close even that window, a person with a consent or erasure event still
in the log's unbuilt tail is not judged yet: judging stops before their first event
until the builder has caught up; and nothing is judged while the partner itself has an
event still unbuilt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg

from program.domain.partner import PartnerStatus
from program.feeds import translate as tr
from program.feeds.tables import SET_COLUMNS
from program.store.schema import EVENTS_TABLE

PENDING_TOPICS = sorted({*tr.CONSENT_ENDED, tr.CONSENT_GIVEN, tr.CONSENT_REFUSED, tr.ERASED})
NOTICE_REASON = "notice to a recipient (GDPR Art. 19)"
OUT_OF_SCOPE = "the partner is no longer scoped to this programme"
NO_CONSENT = "no GIVEN, unexpired consent naming this partner for: "


class PartnerUnavailable(Exception):
    """The partner is unknown, suspended or retired: nothing is disclosed to it."""

    code = "FORBIDDEN"


class FeedRow(NamedTuple):
    """A disclosed event as a channel hands it over."""

    sequence: int
    body: bytes


def arguments(partner_id: UUID, after: int, limit: int, upto: int | None,
              today: date) -> tuple[Any, ...]:
    """``JUDGING``'s parameters $1 to $7."""
    return (partner_id, after, limit, upto, today, TAIL_CHECKED, PENDING_TOPICS)


# The common table expressions that judge the next events of a feed ($1 partner, $2 after,
# $3 at most so many, $4 not past this sequence (NULL: no bound), $5 today,
# $6 TAIL_CHECKED, $7 PENDING_TOPICS), ending in ``judged``: one row per event judged,
# in order, with its verdict.
#
# Events still in the log's unbuilt tail hold judging back. The tail is read by position,
# at most TAIL_CHECKED events of it: unbounded, its plan took it for a third of the log
# and started parallel workers for every batch once the log was a few megabytes. When the
# builder is further behind than that, the events of the people in the span and of their
# consents are looked up instead, an index probe each however long the log. A consent
# the builder has not seen at all is not watched: it can only grant, never take away, so
# judging without it withholds rather than discloses. A partner not active judges
# nothing (the caller reads ``status`` and refuses).
TAIL_CHECKED = 5000
JUDGING = f"""
partner AS (
  SELECT partner_id, status, purposes, programme_ids FROM feed_partners WHERE partner_id = $1),
built AS (SELECT position FROM feed_checkpoint WHERE name = 'builder'),
span AS MATERIALIZED (
  SELECT sequence, event_id, type, participant_id, programme_id, notice, body FROM feed_events
   WHERE partner_id = $1 AND sequence > $2 AND ($4::bigint IS NULL OR sequence <= $4)
   ORDER BY sequence LIMIT $3),
people AS (  -- with repeats: ``= ANY`` takes each once
  SELECT array_agg(participant_id) AS ids FROM span WHERE participant_id IS NOT NULL),
consents AS MATERIALIZED (
  SELECT consent_id, participant_id, purpose, version, state, recipients, valid_until
    FROM feed_consents WHERE participant_id = ANY((SELECT ids FROM people)::uuid[])),
tail AS MATERIALIZED (
  SELECT originator_id, topic FROM {EVENTS_TABLE}
   WHERE notification_id > (SELECT position FROM built)
   ORDER BY notification_id LIMIT $6::int + 1),
behind AS (  -- anything unbuilt at all; more than the tail read holds
  SELECT count(*) > 0 OR count(*) > $6::int AS unbuilt, count(*) > $6::int AS far FROM tail),
watched AS (
  SELECT p AS id, p AS owner FROM unnest((SELECT ids FROM people)::uuid[]) AS p
  UNION ALL SELECT consent_id, participant_id FROM consents),
pending AS (
  SELECT array_agg(DISTINCT w.owner) AS owners FROM watched w
   WHERE (SELECT unbuilt FROM behind) AND CASE WHEN (SELECT far FROM behind)
         THEN EXISTS (SELECT 1 FROM {EVENTS_TABLE} e WHERE e.originator_id = w.id
                         AND e.notification_id > (SELECT position FROM built)
                         AND e.topic = ANY($7::text[]))
         ELSE EXISTS (SELECT 1 FROM tail t WHERE t.originator_id = w.id
                         AND t.topic = ANY($7::text[])) END),
held AS (
  SELECT CASE WHEN (SELECT far FROM behind)
         THEN EXISTS (SELECT 1 FROM {EVENTS_TABLE} e WHERE e.originator_id = $1
                         AND e.notification_id > (SELECT position FROM built))
         ELSE EXISTS (SELECT 1 FROM tail t WHERE t.originator_id = $1) END AS partner),
upto AS (
  SELECT CASE WHEN (SELECT partner FROM held) THEN $2::bigint
              WHEN (SELECT owners FROM pending) IS NULL THEN (SELECT max(sequence) FROM span)
         ELSE coalesce((SELECT min(sequence) - 1 FROM span
                         WHERE participant_id = ANY((SELECT owners FROM pending)::uuid[])),
                       (SELECT max(sequence) FROM span))
         END AS last),
granted AS (
  SELECT array_agg(participant_id) AS people, array_agg(consent_id) AS consents,
         array_agg(version) AS versions
    FROM (SELECT DISTINCT ON (c.participant_id) c.participant_id, c.consent_id, c.version
            FROM consents c, partner p
           WHERE c.purpose = ANY(p.purposes) AND c.state = 'GIVEN'
             AND p.partner_id::text = ANY(c.recipients)
             AND (c.valid_until IS NULL OR c.valid_until >= $5::date)
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
    FROM span f CROSS JOIN partner p CROSS JOIN granted g
         CROSS JOIN LATERAL (SELECT coalesce(f.programme_id = ANY(p.programme_ids), false)
                               AS in_scope, array_position(g.people, f.participant_id) AS i) s
         CROSS JOIN LATERAL (
           SELECT CASE WHEN s.in_scope AND NOT f.notice THEN g.consents[s.i] END AS consent_id,
                  CASE WHEN s.in_scope AND NOT f.notice THEN g.versions[s.i] END
                    AS consent_version) v
   WHERE f.sequence <= (SELECT last FROM upto) AND p.status = '{PartnerStatus.ACTIVE}')"""

# What a judged range comes to: the partner's status, whether there were events to judge,
# the last event judged (NULL when none was: none there, or held back), how many of them
# are disclosed, and their bodies as one JSON array.
OUTCOME = """
(SELECT status FROM partner) AS status, EXISTS (SELECT 1 FROM span) AS waiting,
(SELECT max(sequence) FROM judged) AS last,
(SELECT count(*) FROM judged WHERE disclosed) AS disclosed,
(SELECT '['::bytea || string_agg(body, ','::bytea ORDER BY sequence) || ']'::bytea
   FROM judged WHERE disclosed) AS body"""


def logged(channel: str, endpoint: str, condition: str = "true") -> str:
    """The statement part that logs every event judged as one disclosure set (in order,
    ``tables.feed_disclosure_sets``), when there is any and ``condition`` holds."""
    agg = ", ".join(f"array_agg({c} ORDER BY sequence)" for c in (
        "sequence", "event_id", "type", "participant_id", "consent_id", "consent_version",
        "CASE WHEN disclosed THEN 'DISCLOSED' ELSE 'WITHHELD' END", "reason"))
    return f"""INSERT INTO feed_disclosure_sets ({SET_COLUMNS})
  SELECT now(), $1, {channel}, {endpoint}, {agg}
    FROM judged HAVING count(*) > 0 AND {condition}"""


# Judging alone, writing nothing: a range reserved before, sent again.
_JUDGE = f"WITH {JUDGING} SELECT {OUTCOME}"

# Judging a page and logging its disclosures ($8 the channel): pull, SSE, GraphQL.
_PAGE = f"""
WITH {JUDGING},
written AS ({logged("$8::text", "NULL")})
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


async def judge(conn: asyncpg.Connection, partner_id: UUID, after: int, upto: int,
                today: date) -> Judged:
    """The events after ``after`` up to ``upto`` judged under the consents and partner
    scope as they stand now; nothing written."""
    row = await conn.fetchrow(_JUDGE, *arguments(partner_id, after, upto - after, upto, today))
    check_active(partner_id, row["status"])
    return Judged(row["last"], row["disclosed"], row["body"])


async def disclose_page(conn: asyncpg.Connection, partner_id: UUID, after: int, limit: int,
                        today: date, channel: str) -> tuple[list[FeedRow], int | None]:
    """At most ``limit`` events after ``after`` judged, each logged as disclosed on
    ``channel`` or withheld, in one statement; the disclosed events and the last judged
    (None: none, or none could be yet)."""
    row = await conn.fetchrow(_PAGE, *arguments(partner_id, after, limit, None, today), channel)
    check_active(partner_id, row["status"])
    sequences, bodies = row["sequences"] or [], row["bodies"] or []
    return [FeedRow(s, b) for s, b in zip(sequences, bodies, strict=True)], row["last"]
