"""Consent history: every consent change per person and purpose, for auditors.

Changes that carry no notice of their own (withdrawn, revoked, expired) are shown
with the notice, basis, recipients and validity they ended, so each row reads alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from program.projections.base import Envelope, Projection
from program.projections.tables import Appends, Rows, Table

CONSENTS = Table.define(
    "consents",
    """id uuid, participant_id uuid, purpose text, notice_id text, notice_version text,
    notice_hash text, language text, lawful_basis text, recipients jsonb, valid_until date""",
    key="id",
)
CHANGES = Table.define(
    "changes",
    """position bigint, consent_id uuid, participant_id uuid, purpose text, state text,
    notice_id text, notice_version text, language text, lawful_basis text, method text,
    recipients text[], recorded_by text, valid_until date, reason text, at timestamptz,
    recorded_at timestamptz, notice_hash text""",
    key="position",
)

STATES = {
    "Consent.Given": "GIVEN", "Consent.Refused": "REFUSED", "Consent.Withdrawn": "WITHDRAWN",
    "Consent.Revoked": "REVOKED", "Consent.Expired": "EXPIRED",
}


def _record(consents: Rows, changes: Appends, e: Envelope) -> None:
    ev = e.event
    consent = consents.get(e.originator_id)
    if consent is None:
        return
    state = STATES[e.kind]
    if state in ("GIVEN", "REFUSED"):
        consent.update(
            notice_id=ev.notice_id, notice_version=ev.notice_version, language=ev.language,
            notice_hash=ev.notice_hash, lawful_basis=getattr(ev, "lawful_basis", None),
            recipients=list(getattr(ev, "recipients", [])),
            valid_until=getattr(ev, "valid_until", None),
        )
        consents.changed(e.originator_id)
    changes.add(
        e.position, e.originator_id, consent["participant_id"], consent["purpose"], state,
        consent["notice_id"], consent["notice_version"], consent["language"],
        consent["lawful_basis"], getattr(ev, "method", None), list(consent["recipients"] or []),
        getattr(ev, "recorded_by", None), consent["valid_until"], getattr(ev, "reason", None),
        ev.at, e.recorded_at, consent["notice_hash"],
    )


class ConsentHistoryProjection(Projection):
    """Appends one row per consent change; keeps each consent's notice to carry forward."""

    name = "consent_history"
    handles = frozenset({"Consent.Opened", *STATES})
    tables = (CONSENTS, CHANGES)
    indexes = (
        "CREATE INDEX ON {schema}.changes (participant_id, purpose, at, position)",
        "CREATE INDEX ON {schema}.consents (participant_id)",
    )

    async def apply(
        self, conn: asyncpg.Connection, schema: str, batch: Sequence[Envelope]
    ) -> None:
        consents = Rows(CONSENTS)
        changes = Appends(CHANGES)
        wanted: set[UUID] = set()
        for e in batch:
            if e.kind != "Consent.Opened":
                wanted.add(e.originator_id)
        await consents.load(conn, schema, wanted)
        for e in batch:
            if e.kind == "Consent.Opened":
                consents.put({"id": e.originator_id, "participant_id": e.event.participant_id,
                              "purpose": e.event.purpose, "recipients": []})
            else:
                _record(consents, changes, e)
        await consents.flush(conn, schema)
        await changes.flush(conn, schema)
