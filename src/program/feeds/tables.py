"""The feed tables, created idempotently by whoever starts first (an advisory lock
serialises them). They are kept apart from the event store's migrations: everything
here is derived from the log (``feed_events`` and the state the builder needs) or is
the record of what left the system (deliveries, attempts, disclosures).

The disclosure log is kept as sets: one row per request, page or built batch, its
entries in arrays (``feed_disclosure_sets``), read one entry per row through the view
``feed_disclosures``. An entry's id is its set's id times ``SET_SIZE`` plus its place in
the set, so entries keep the order they were written in. A row per entry, with its
three indexes, was a third of what a webhook request cost PostgreSQL; a set of 100 costs
about 60% of what its 100 rows did. Queries filter on the set's columns (``set_id``,
``set_participants``, ``partner_id``, ``at``), which its indexes serve. The people's
index is kept up to date as each set is written (no pending list: no deferred work, and
no query that must read one).
"""

from __future__ import annotations

import asyncpg

from program.store.database import takes_session_state

SET_SIZE = 4096  # entries in a disclosure set at most (and the step between sets' entry ids)
SET_COLUMNS = ("at, partner_id, channel, endpoint_id, sequences, event_ids, types, "
               "participant_ids, consent_ids, consent_versions, outcomes, reasons")
FEED_CHANNEL = "program_feeds"  # NOTIFY after each built batch; payload: built position
_LOCK = "program.feeds:schema"

DDL = f"""
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
CREATE TABLE IF NOT EXISTS feed_disclosure_sets (
    id bigserial PRIMARY KEY, at timestamptz NOT NULL, partner_id uuid NOT NULL,
    channel text NOT NULL, endpoint_id uuid,
    sequences bigint[] NOT NULL, event_ids uuid[] NOT NULL, types text[] NOT NULL,
    participant_ids uuid[] NOT NULL, consent_ids uuid[] NOT NULL,
    consent_versions bigint[] NOT NULL, outcomes text[] NOT NULL, reasons text[] NOT NULL,
    CHECK (cardinality(event_ids) BETWEEN 1 AND {SET_SIZE}));
CREATE INDEX IF NOT EXISTS feed_disclosure_sets_participants_idx
    ON feed_disclosure_sets USING gin (participant_ids) WITH (fastupdate = off);
CREATE INDEX IF NOT EXISTS feed_disclosure_sets_partner_idx
    ON feed_disclosure_sets (partner_id, id);
DO $$ BEGIN  -- a log kept a row per disclosure before: each becomes a set of one, in order
  IF (SELECT relkind FROM pg_class WHERE oid = to_regclass('feed_disclosures')) = 'r' THEN
    INSERT INTO feed_disclosure_sets ({SET_COLUMNS})
    SELECT at, partner_id, channel, endpoint_id, ARRAY[sequence], ARRAY[event_id], ARRAY[type],
           ARRAY[participant_id], ARRAY[consent_id], ARRAY[consent_version], ARRAY[outcome],
           ARRAY[reason]
      FROM feed_disclosures ORDER BY id;
    DROP TABLE feed_disclosures;
  END IF;
END $$;
CREATE OR REPLACE VIEW feed_disclosures AS
SELECT s.id * {SET_SIZE} + d.entry - 1 AS id, s.at, s.partner_id, s.channel, s.endpoint_id,
       d.sequence, d.event_id, d.type, d.participant_id, d.consent_id, d.consent_version,
       d.outcome, d.reason, s.id AS set_id, d.entry, s.participant_ids AS set_participants
  FROM feed_disclosure_sets s CROSS JOIN LATERAL unnest(
       s.sequences, s.event_ids, s.types, s.participant_ids, s.consent_ids, s.consent_versions,
       s.outcomes, s.reasons) WITH ORDINALITY
       AS d(sequence, event_id, type, participant_id, consent_id, consent_version, outcome,
            reason, entry);
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
