"""Reads of the feed records: endpoint status, webhook attempts, the disclosure log.

``disclosures_of_participant`` is what a subject-access export (Art. 15) lists as the
recipients of a person's data: every disclosure to a partner, who, what, when, under
which consent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from program.feeds.tables import SET_SIZE
from program.projections.paging import Sql

MAX_PAGE = 500


@dataclass(frozen=True)
class Disclosure:
    id: int
    at: datetime
    partner_id: UUID
    partner_name: str | None
    channel: str
    endpoint_id: UUID | None
    sequence: int | None
    event_id: UUID
    type: str
    participant_id: UUID | None
    consent_id: UUID | None
    consent_version: int | None
    outcome: str
    reason: str | None


_DISCLOSURES = """SELECT d.id, d.at, d.partner_id, p.name AS partner_name, d.channel,
    d.endpoint_id, d.sequence, d.event_id, d.type, d.participant_id, d.consent_id,
    d.consent_version, d.outcome, d.reason
    FROM feed_disclosures d LEFT JOIN feed_partners p USING (partner_id)"""


async def disclosures(pool: asyncpg.Pool, *, participant_id: UUID | None = None,
                      partner_id: UUID | None = None, since: datetime | None = None,
                      until: datetime | None = None, first: int = 100,
                      after: int = 0) -> list[Disclosure]:
    """A page of the disclosure log in order, after the entry id ``after``. Each filter is
    put on the entries' sets too, so their indexes find them (``tables``)."""
    q = Sql(_DISCLOSURES)
    q.where(f"d.set_id >= {q.arg(max(after, 0) // SET_SIZE)}")
    q.where(f"d.id > {q.arg(after)}")
    if participant_id is not None:
        n = q.arg(participant_id)
        q.where(f"d.set_participants @> ARRAY[{n}::uuid] AND d.participant_id = {n}")
    if partner_id is not None:
        q.where(f"d.partner_id = {q.arg(partner_id)}")
    if since is not None:
        q.where(f"d.at >= {q.arg(since)}")
    if until is not None:
        q.where(f"d.at < {q.arg(until)}")
    rows = await pool.fetch(q.text("d.set_id, d.entry", min(first, MAX_PAGE)), *q.args)
    return [Disclosure(**dict(r)) for r in rows]


async def disclosures_of_participant(pool: asyncpg.Pool, participant_id: UUID) -> list[Disclosure]:
    """Every disclosure (and withheld event) about one person, oldest first."""
    rows = await pool.fetch(
        f"{_DISCLOSURES} WHERE d.set_participants @> ARRAY[$1::uuid] AND d.participant_id = $1 "
        "ORDER BY d.set_id, d.entry", participant_id)
    return [Disclosure(**dict(r)) for r in rows]


async def endpoints(pool: asyncpg.Pool, partner_id: UUID | None = None) -> list[dict[str, Any]]:
    """Each endpoint's place, lag, state and last error."""
    rows = await pool.fetch(
        "SELECT e.endpoint_id, e.partner_id, e.url, e.enabled, e.removed, e.disabled_reason, "
        "d.delivered, p.head, p.head - d.delivered AS lag, d.inflight_to, d.attempt, d.next_at, "
        "d.last_status, d.last_error, d.last_attempt_at, d.failing_since "
        "FROM feed_endpoints e JOIN feed_deliveries d USING (endpoint_id) "
        "JOIN feed_partners p ON p.partner_id = e.partner_id "
        "WHERE ($1::uuid IS NULL OR e.partner_id = $1) ORDER BY e.partner_id, e.endpoint_id",
        partner_id)
    return [{**dict(r), "state": _state(r)} for r in rows]


def _state(r: asyncpg.Record) -> str:
    if r["removed"]:
        return "REMOVED"
    if not r["enabled"]:
        return "DISABLED"
    return "FAILING" if r["attempt"] else "ENABLED"


async def attempts(pool: asyncpg.Pool, endpoint_id: UUID, first: int = 100,
                   after: int = 0) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT * FROM feed_attempts WHERE endpoint_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        endpoint_id, after, min(first, MAX_PAGE))
    return [dict(r) for r in rows]


async def endpoint_partner(pool: asyncpg.Pool, endpoint_id: UUID) -> UUID | None:
    return await pool.fetchval(  # type: ignore[no-any-return]
        "SELECT partner_id FROM feed_endpoints WHERE endpoint_id = $1", endpoint_id)


async def sequence_since(pool: asyncpg.Pool, partner_id: UUID, since: datetime) -> int:
    """The first sequence of the partner's feed at or after a moment (head + 1 if none)."""
    value = await pool.fetchval(
        "SELECT coalesce((SELECT min(sequence) FROM feed_events WHERE partner_id = $1 "
        "AND time >= $2), (SELECT head + 1 FROM feed_partners WHERE partner_id = $1), 1)",
        partner_id, since)
    return int(value)


async def partners(pool: asyncpg.Pool, partner_id: UUID | None = None) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT * FROM feed_partners WHERE ($1::uuid IS NULL OR partner_id = $1) ORDER BY name",
        partner_id)
    return [dict(r) for r in rows]


async def built_position(pool: asyncpg.Pool) -> int:
    value = await pool.fetchval("SELECT position FROM feed_checkpoint WHERE name = 'builder'")
    return int(value or 0)
