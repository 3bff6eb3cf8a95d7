"""Finding people through the blind index, within a reach (programmes or cohorts)."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import asyncpg

from program.projections.paging import cursor_uuid, decode_cursor, encode_cursor, page_size
from program.projections.participant_search.projection import ParticipantSearchProjection

PS = ParticipantSearchProjection.schema


async def find_participant_ids(
    pool: asyncpg.Pool | asyncpg.Connection,
    *,
    tokens: list[int] | None,
    programme_ids: Iterable[UUID] | None,
    cohort_ids: Iterable[UUID] | None,
    first: int,
    after: str | None,
) -> tuple[list[UUID], bool]:
    """Up to ``first`` ids (by id, after the cursor) having every token (None: no search),
    in one of ``programme_ids`` and one of ``cohort_ids`` (None: anywhere); and whether
    more follow."""
    n = page_size(first)
    args: list[object] = []

    def arg(value: object) -> str:
        args.append(value)
        return f"${len(args)}"

    where: list[str] = []
    if after is not None:
        (last,) = decode_cursor(after, 1)
        where.append(f"x.participant_id > {arg(cursor_uuid(last))}::uuid")
    if programme_ids is not None:
        where.append(f"EXISTS (SELECT 1 FROM {PS}.programmes m WHERE m.participant_id = "
                     f"x.participant_id AND m.programme_id = ANY({arg(list(programme_ids))}::uuid[]))")
    if cohort_ids is not None:
        where.append(f"EXISTS (SELECT 1 FROM {PS}.cohorts c WHERE c.participant_id = "
                     f"x.participant_id AND c.cohort_id = ANY({arg(list(cohort_ids))}::uuid[]))")
    if tokens is not None:
        source = (f"(SELECT participant_id FROM {PS}.tokens WHERE token = ANY({arg(tokens)}::bigint[]) "
                  f"GROUP BY participant_id HAVING count(*) = {arg(len(tokens))})")
    else:
        source = f"(SELECT DISTINCT participant_id FROM {PS}.programmes)"
    sql = (f"SELECT x.participant_id FROM {source} x "
           f"{'WHERE ' + ' AND '.join(where) if where else ''} "
           f"ORDER BY x.participant_id LIMIT {arg(n + 1)}")
    rows = await pool.fetch(sql, *args)
    found = [r[0] for r in rows]
    return found[:n], len(found) > n


def cursor_of(participant_id: UUID) -> str:
    return encode_cursor(participant_id)
