"""Consent history queries."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from program.domain.consent import state_on
from program.projections.consent_history.projection import ConsentHistoryProjection
from program.projections.consent_history.views import ConsentChangeView, ConsentHistoryView
from program.projections.paging import Sql
from program.projections.participant_state.views import ConsentStateView

CH = ConsentHistoryProjection.schema


def _change(r: asyncpg.Record) -> ConsentChangeView:
    return ConsentChangeView(
        position=r["position"], consent_id=r["consent_id"], participant_id=r["participant_id"],
        purpose=r["purpose"], state=r["state"], notice_id=r["notice_id"],
        notice_version=r["notice_version"], language=r["language"],
        lawful_basis=r["lawful_basis"], method=r["method"], recipients=tuple(r["recipients"] or ()),
        recorded_by=r["recorded_by"], valid_until=r["valid_until"], reason=r["reason"],
        at=r["at"], recorded_at=r["recorded_at"], notice_hash=r["notice_hash"],
    )


def _state_as_of(change: ConsentChangeView, as_of: datetime | None) -> ConsentStateView:
    valid = None
    if as_of is not None:
        valid = change.state == "GIVEN" and (
            change.valid_until is None or change.valid_until >= as_of.date()
        )
    on = (as_of or datetime.now(UTC)).date()
    return ConsentStateView(
        purpose=change.purpose,
        state=state_on(change.state, change.valid_until, on) or change.state,
        consent_id=change.consent_id,
        notice_id=change.notice_id, notice_version=change.notice_version,
        language=change.language, lawful_basis=change.lawful_basis,
        recipients=change.recipients, valid_until=change.valid_until, changed_at=change.at,
        position=change.position, valid_at=valid,
    )


async def consent_history(
    pool: asyncpg.Pool | asyncpg.Connection,
    participant_id: UUID,
    *,
    purpose: str | None = None,
    as_of: datetime | None = None,
) -> ConsentHistoryView:
    """Every change (in time order), and the state per purpose as of ``as_of`` (default: now)."""
    q = Sql(f"SELECT * FROM {CH}.changes")
    q.where(f"participant_id = {q.arg(participant_id)}::uuid")
    if purpose is not None:
        q.where(f"purpose = {q.arg(purpose)}")
    changes = tuple(_change(r) for r in await pool.fetch(q.text("at, position"), *q.args))
    latest: dict[str, ConsentChangeView] = {}
    for change in changes:
        if as_of is None or change.at <= as_of:
            latest[change.purpose] = change
    return ConsentHistoryView(
        participant_id=participant_id, changes=changes,
        states_as_of=tuple(_state_as_of(latest[p], as_of) for p in sorted(latest)),
        as_of=as_of,
    )
