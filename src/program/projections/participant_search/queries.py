"""Finding people through the blind index, within a reach (programmes or cohorts)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID

import asyncpg

from program.projections.paging import cursor_uuid, decode_cursor, encode_cursor, page_size
from program.projections.participant_search.projection import ParticipantSearchProjection
from program.projections.participant_state.projection import ParticipantStateProjection
from program.projections.participant_state.queries import participant_view
from program.projections.participant_state.views import ParticipantView

PS = ParticipantSearchProjection.schema
STATE = ParticipantStateProjection.schema
# The key store's table: a page of people comes with their live keys, so showing their
# names takes no second read (an erased person's key is NULL, hence absent).
KEYS = "personal_data_keys"
# Enough to tell a rare token from a common one without counting every holder of it.
_RARITY_CAP = 2000


async def find_participants(
    pool: asyncpg.Pool | asyncpg.Connection,
    *,
    tokens: list[int] | None,
    programme_ids: Iterable[UUID] | None,
    cohort_ids: Iterable[UUID] | None,
    first: int,
    after: str | None,
    today: date | None = None,
) -> Found:
    """Up to ``first`` people (by id, after the cursor) having every token (None: no
    search), in one of ``programme_ids`` and one of ``cohort_ids`` (None: anywhere), each
    with their state as read on ``today`` (None if it is not projected yet), and their
    live data keys. One statement: the index finds the ids, the rest comes with them."""
    n = page_size(first)
    args: list[object] = []

    def arg(value: object) -> str:
        args.append(value)
        return f"${len(args)}"

    where: list[str] = []
    if after is not None:
        (last,) = decode_cursor(after, 1)
        where.append(f"x.participant_id > {arg(cursor_uuid(last))}::uuid")
    # Each reach is probed by its key, person by person (LIMIT 1 keeps it a probe rather
    # than a join over everyone in the programme).
    if programme_ids is not None:
        where.append(f"(SELECT true FROM {PS}.programmes m WHERE m.participant_id = x.participant_id "
                     f"AND m.programme_id = ANY({arg(list(programme_ids))}::uuid[]) LIMIT 1)")
    if cohort_ids is not None:
        where.append(f"(SELECT true FROM {PS}.cohorts c WHERE c.participant_id = x.participant_id "
                     f"AND c.cohort_id = ANY({arg(list(cohort_ids))}::uuid[]) LIMIT 1)")
    if tokens is not None:
        # Walk the rarest token's people in id order (the index on (token, participant_id)
        # yields them so), keep those having every other token too, and stop when the page
        # is full: a few index probes per person shown, however common the other tokens.
        source = f"{PS}.tokens"
        every = arg(tokens)
        where.insert(0, f"x.token = (SELECT t FROM unnest({every}::bigint[]) t ORDER BY "
                        f"(SELECT count(*) FROM (SELECT 1 FROM {PS}.tokens k WHERE k.token = t "
                        f"LIMIT {_RARITY_CAP}) s) LIMIT 1)")
        where.insert(1, f"(SELECT count(*) FROM {PS}.tokens u WHERE u.token = ANY({every}::bigint[]) "
                        f"AND u.participant_id = x.participant_id) = {arg(len(tokens))}")
    else:
        source = f"(SELECT DISTINCT participant_id FROM {PS}.programmes)"
    found = (f"SELECT x.participant_id FROM {source} x "
             f"{'WHERE ' + ' AND '.join(where) if where else ''} "
             f"ORDER BY x.participant_id LIMIT {arg(n + 1)}")
    rows = await pool.fetch(
        f"SELECT f.participant_id AS found, k.key AS data_key, p.* FROM ({found}) f "
        f"LEFT JOIN {STATE}.participants p ON p.id = f.participant_id "
        f"LEFT JOIN {KEYS} k ON k.subject_id = f.participant_id AND k.key IS NOT NULL "
        f"ORDER BY f.participant_id", *args)
    on = today or datetime.now(UTC).date()
    people = [(r["found"], participant_view(r, on) if r["id"] is not None else None) for r in rows]
    keys = {r["found"]: bytes(r["data_key"]) for r in rows[:n] if r["data_key"] is not None}
    return Found(people[:n], len(people) > n, keys)


@dataclass(frozen=True)
class Found:
    """A page of people found: (id, state or None while not projected), whether more
    follow, and the live data keys of those on the page."""

    people: list[tuple[UUID, ParticipantView | None]]
    more: bool
    keys: dict[UUID, bytes]


def cursor_of(participant_id: UUID) -> str:
    return encode_cursor(participant_id)
