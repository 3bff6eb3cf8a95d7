"""The feed tables, created idempotently by whoever starts first (an advisory lock
serialises them). They are kept apart from the event store's migrations: everything
here is derived from the log (``feed_events`` and the state the builder needs) or is
the record of what left the system (deliveries, attempts, disclosures).
"""

from __future__ import annotations

import asyncpg

from program.store.database import takes_session_state

FEED_CHANNEL = "program_feeds"  # NOTIFY after each built batch; payload: built position
_LOCK = "program.feeds:schema"

DDL = """
CREATE TABLE IF NOT EXISTS feed_checkpoint (
    name text PRIMARY KEY, position bigint NOT NULL);
CREATE TABLE IF NOT EXISTS feed_partners (
    partner_id uuid PRIMARY KEY, name text NOT NULL, status text NOT NULL,
    purposes text[] NOT NULL, programme_ids uuid[] NOT NULL, event_types text[] NOT NULL,
    head bigint NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS feed_cohorts (
    cohort_id uuid PRIMARY KEY, programme_id uuid NOT NULL);
CREATE TABLE IF NOT EXISTS feed_consents (
    consent_id uuid PRIMARY KEY, participant_id uuid NOT NULL, purpose text NOT NULL,
    version bigint NOT NULL, state text, recipients text[] NOT NULL, valid_until date);
CREATE INDEX IF NOT EXISTS feed_consents_participant_idx ON feed_consents (participant_id);
CREATE TABLE IF NOT EXISTS feed_recipients (
    participant_id uuid NOT NULL, partner_id uuid NOT NULL,
    PRIMARY KEY (participant_id, partner_id));
CREATE TABLE IF NOT EXISTS feed_events (
    partner_id uuid NOT NULL, sequence bigint NOT NULL, event_id uuid NOT NULL,
    type text NOT NULL, participant_id uuid, programme_id uuid, position bigint NOT NULL,
    time timestamptz NOT NULL, notice boolean NOT NULL DEFAULT false, body bytea NOT NULL,
    PRIMARY KEY (partner_id, sequence));
CREATE TABLE IF NOT EXISTS feed_endpoints (
    endpoint_id uuid PRIMARY KEY, partner_id uuid NOT NULL, url text NOT NULL,
    enabled boolean NOT NULL, removed boolean NOT NULL DEFAULT false,
    secrets jsonb NOT NULL, disabled_reason text, version bigint NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS feed_deliveries (
    endpoint_id uuid PRIMARY KEY, partner_id uuid NOT NULL,
    delivered bigint NOT NULL, inflight_to bigint, attempt int NOT NULL DEFAULT 0,
    next_at timestamptz, last_status int, last_error text, last_attempt_at timestamptz,
    failing_since timestamptz);
CREATE TABLE IF NOT EXISTS feed_attempts (
    id bigserial PRIMARY KEY, endpoint_id uuid NOT NULL, partner_id uuid NOT NULL,
    webhook_id text NOT NULL, first_sequence bigint NOT NULL, last_sequence bigint NOT NULL,
    events int NOT NULL, at timestamptz NOT NULL, status int, duration_ms double precision,
    outcome text NOT NULL, error text);
CREATE INDEX IF NOT EXISTS feed_attempts_endpoint_idx ON feed_attempts (endpoint_id, id);
CREATE TABLE IF NOT EXISTS feed_disclosures (
    id bigserial PRIMARY KEY, at timestamptz NOT NULL, partner_id uuid NOT NULL,
    channel text NOT NULL, endpoint_id uuid, sequence bigint, event_id uuid NOT NULL,
    type text NOT NULL, participant_id uuid, consent_id uuid, consent_version bigint,
    outcome text NOT NULL, reason text);
CREATE INDEX IF NOT EXISTS feed_disclosures_participant_idx
    ON feed_disclosures (participant_id, id) WHERE participant_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS feed_disclosures_partner_idx ON feed_disclosures (partner_id, id);
"""


async def ensure(conn: asyncpg.Connection | asyncpg.Pool) -> None:
    """Create the feed tables if they are missing; safe from many processes at once."""
    async with _connection(conn) as c:
        takes_session_state(c)
        await c.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", _LOCK)
        try:
            await c.execute(DDL)
        finally:
            await c.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", _LOCK)


class _connection:
    def __init__(self, source: asyncpg.Connection | asyncpg.Pool) -> None:
        self.source = source
        self._held: object = None

    async def __aenter__(self) -> asyncpg.Connection:
        if isinstance(self.source, asyncpg.Pool):
            self._held = self.source.acquire()
            return await self._held.__aenter__()  # type: ignore[attr-defined,no-any-return]
        return self.source

    async def __aexit__(self, *exc: object) -> None:
        if self._held is not None:
            await self._held.__aexit__(*exc)  # type: ignore[attr-defined]
