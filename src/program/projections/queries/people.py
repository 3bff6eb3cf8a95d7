"""Facilitator load, participant and consent state, and consent history queries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from program.domain.consent import state_on

from program.projections.queries.paging import (
    Sql,
    decode_cursor,
    encode_cursor,
    make_page,
    page_size,
)
from program.projections.views import (
    ConsentChangeView,
    ConsentHistoryView,
    ConsentStateView,
    CredentialView,
    FacilitatorCohortView,
    FacilitatorView,
    Page,
    ParticipantCohortView,
    ParticipantView,
)

FL = "rm_facilitator_load"
PS = "rm_participant_state"
CH = "rm_consent_history"
ENDED = ("COMPLETED", "CANCELLED")

_FACILITATORS = f"""
SELECT f.*, coalesce((
    SELECT jsonb_agg(jsonb_build_object('cohort_id', a.cohort_id, 'role', a.role,
                                        'status', c.status, 'sessions', c.sessions)
                     ORDER BY a.assigned_at, a.cohort_id)
    FROM {FL}.assignments a LEFT JOIN {FL}.cohorts c ON c.id = a.cohort_id
    WHERE a.facilitator_id = f.id), '[]'::jsonb) AS cohorts
FROM {FL}.facilitators f"""


def _facilitator(r: asyncpg.Record, today: date, now: datetime) -> FacilitatorView:
    cohorts = []
    for c in r["cohorts"]:
        active = c["status"] is not None and c["status"] not in ENDED
        upcoming = sum(1 for at in c["sessions"] or () if datetime.fromisoformat(at) > now)
        cohorts.append(FacilitatorCohortView(UUID(c["cohort_id"]), c["role"], c["status"],
                                             active, upcoming if active else 0))
    credentials = []
    for kind, until in sorted((r["credentials"] or {}).items()):
        valid_until = date.fromisoformat(until)
        days = (valid_until - today).days
        credentials.append(CredentialView(kind, valid_until, days, days < 0))
    return FacilitatorView(
        id=r["id"], personal_data=r["personal_data"], legacy=r["legacy"], erased=r["erased"],
        status=r["status"],
        status_reason=r["status_reason"], max_cohorts=r["max_cohorts"],
        registered_at=r["registered_at"], cohorts=tuple(cohorts),
        active_cohort_count=sum(c.active for c in cohorts),
        upcoming_sessions=sum(c.upcoming_sessions for c in cohorts),
        credentials=tuple(credentials),
    )


async def get_facilitators(
    pool: asyncpg.Pool | asyncpg.Connection, ids: Iterable[UUID], *, today: date, now: datetime
) -> dict[UUID, FacilitatorView]:
    """Facilitators by id with their load; expiry counted from ``today``, sessions after ``now``."""
    rows = await pool.fetch(f"{_FACILITATORS} WHERE f.id = ANY($1::uuid[])", list(ids))
    return {r["id"]: _facilitator(r, today, now) for r in rows}


async def list_facilitators(
    pool: asyncpg.Pool | asyncpg.Connection,
    *,
    first: int = 50,
    after: str | None = None,
    today: date,
    now: datetime,
) -> Page[FacilitatorView]:
    """Facilitators in the order they registered (names are ciphertext: the database
    cannot sort by them)."""
    n = page_size(first)
    q = Sql(_FACILITATORS)
    if after is not None:
        at, last = decode_cursor(after, 2)
        q.where(f"(f.registered_at, f.id) > ({q.arg(_moment(at))}::timestamptz, "
                f"{q.arg(_uuid(last))}::uuid)")
    rows = await pool.fetch(q.text("f.registered_at, f.id", n + 1), *q.args)
    return make_page([_facilitator(r, today, now) for r in rows], n,
                     lambda v: encode_cursor(v.registered_at.isoformat(), v.id))


def _moment(value: Any) -> datetime:
    from program.projections.queries.paging import InvalidQuery

    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidQuery("cursor is not valid") from None


def _uuid(value: Any) -> UUID:
    from program.projections.queries.paging import InvalidQuery

    try:
        return UUID(str(value))
    except ValueError:
        raise InvalidQuery("cursor is not valid") from None


def _consent_state(purpose: str, c: dict[str, Any], today: date) -> ConsentStateView:
    until = date.fromisoformat(c["valid_until"]) if c.get("valid_until") else None
    return ConsentStateView(
        # A GIVEN consent past its valid-until reads EXPIRED, as the domain decides it.
        purpose=purpose, state=state_on(c["state"], until, today) or c["state"],
        consent_id=UUID(c["consent_id"]),
        notice_id=c.get("notice_id"), notice_version=c.get("notice_version"),
        language=c.get("language"), lawful_basis=c.get("lawful_basis"),
        recipients=tuple(c.get("recipients") or ()),
        valid_until=date.fromisoformat(c["valid_until"]) if c.get("valid_until") else None,
        changed_at=datetime.fromisoformat(c["changed_at"]), position=int(c["position"]),
    )


def participant_view(r: asyncpg.Record, today: date) -> ParticipantView:
    """A row of ``participants`` as the view, consent read on ``today``."""
    cohorts = tuple(
        ParticipantCohortView(
            UUID(cid), UUID(c["programme_id"]) if c.get("programme_id") else None, c["status"],
            datetime.fromisoformat(c["since"]),
        )
        for cid, c in sorted(r["cohorts"].items(), key=lambda kv: (kv[1]["since"], kv[0]))
    )
    return ParticipantView(
        id=r["id"], personal_data=r["personal_data"], erased=r["erased"],
        registered_at=r["registered_at"], erased_at=r["erased_at"],
        consents=tuple(_consent_state(p, c, today) for p, c in sorted(r["consents"].items())),
        cohorts=cohorts,
        programme_ids=frozenset(
            [UUID(p) for p in r["programmes"] or ()]
            + [c.programme_id for c in cohorts if c.programme_id is not None]
        ),
    )


async def get_participants(
    pool: asyncpg.Pool | asyncpg.Connection, ids: Iterable[UUID], today: date | None = None
) -> dict[UUID, ParticipantView]:
    """People by id with consent per purpose as read on ``today`` (default: today, UTC)
    and their cohorts."""
    rows = await pool.fetch(f"SELECT * FROM {PS}.participants WHERE id = ANY($1::uuid[])",
                            list(ids))
    on = today or datetime.now(UTC).date()
    return {r["id"]: participant_view(r, on) for r in rows}


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
        purpose=change.purpose, state=state_on(change.state, change.valid_until, on) or change.state, consent_id=change.consent_id,
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
