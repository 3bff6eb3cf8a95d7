"""Participant state queries: current consent per purpose and cohorts, by person."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from program.domain.consent import state_on
from program.projections.by_id import where_id
from program.projections.participant_state.projection import ParticipantStateProjection
from program.projections.participant_state.views import (
    ConsentStateView,
    ParticipantCohortView,
    ParticipantView,
)
from program.store.reads import Reader

PS = ParticipantStateProjection.schema


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
    pool: Reader, ids: Iterable[UUID], today: date | None = None
) -> dict[UUID, ParticipantView]:
    """People by id with consent per purpose as read on ``today`` (default: today, UTC)
    and their cohorts."""
    rows = await pool.fetch(*where_id(f"SELECT * FROM {PS}.participants", "id", ids))
    on = today or datetime.now(UTC).date()
    return {r["id"]: participant_view(r, on) for r in rows}
