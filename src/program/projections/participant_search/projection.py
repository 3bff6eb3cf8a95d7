"""Finding people: a keyed blind index of each person's name, chosen name and email
(see ``tokens.py``), and who belongs where — the programmes a
person is or was in (registered into, or joined a cohort of) and the cohorts they are in
now — so a search is answered within the caller's reach by the index alone.

The projection decrypts a person's personal data with their live key to cut it into
tokens; nothing in clear is written. On erasure the tokens go; a rebuild after erasure
finds no key and indexes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from program.projections.base import Envelope, Projection
from program.projections.participant_search.tokens import INDEX_KEY_SUBJECT, person_tokens
from program.projections.tables import Table
from program.store.keys import KeyErased, decrypt

TOKENS = Table.define("tokens", "token bigint, participant_id uuid", key="token, participant_id")
PROGRAMMES = Table.define("programmes", "programme_id uuid, participant_id uuid",
                          key="programme_id, participant_id")
COHORTS = Table.define("cohorts", "cohort_id uuid, participant_id uuid",
                       key="cohort_id, participant_id")

_KINDS = ("Participant.Registered", "Participant.PersonalDataUpdated", "Participant.JoinedCohort",
          "Participant.LeftCohort", "Participant.Erased")


async def index_key(conn: asyncpg.Connection) -> bytes:
    """The blind index's key (made on first use, like any data key)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    await conn.execute(
        "INSERT INTO personal_data_keys (subject_id, key) VALUES ($1, $2) "
        "ON CONFLICT (subject_id) DO NOTHING", INDEX_KEY_SUBJECT, AESGCM.generate_key(256))
    return bytes(await conn.fetchval(
        "SELECT key FROM personal_data_keys WHERE subject_id = $1", INDEX_KEY_SUBJECT))


class ParticipantSearchProjection(Projection):
    """Keeps the blind index of people's names and emails, and their programmes and cohorts."""

    name = "participant_search"
    handles = frozenset(_KINDS)
    tables = (TOKENS, PROGRAMMES, COHORTS)
    indexes = (
        "CREATE INDEX ON {schema}.tokens (participant_id)",
        "CREATE INDEX ON {schema}.programmes (participant_id)",
        "CREATE INDEX ON {schema}.cohorts (participant_id)",
    )

    async def apply(self, conn: asyncpg.Connection, schema: str, batch: Sequence[Envelope]) -> None:
        # The latest ciphertext per person in this batch decides their tokens.
        latest: dict[UUID, str | None] = {}
        joined: list[tuple[UUID, UUID]] = []
        cohorts_in: list[tuple[UUID, UUID]] = []
        cohorts_out: list[tuple[UUID, UUID]] = []
        for e in batch:
            pid, ev = e.originator_id, e.event
            if e.kind in ("Participant.Registered", "Participant.PersonalDataUpdated"):
                latest[pid] = ev.personal_data
                if e.kind == "Participant.Registered" and ev.programme_id is not None:
                    joined.append((ev.programme_id, pid))
            elif e.kind == "Participant.JoinedCohort":
                joined.append((ev.programme_id, pid))
                cohorts_in.append((ev.cohort_id, pid))
            elif e.kind == "Participant.LeftCohort":
                cohorts_out.append((ev.cohort_id, pid))
            elif e.kind == "Participant.Erased":
                latest[pid] = None
        if latest:
            await self._index(conn, schema, latest)
        if joined:
            await conn.execute(
                f"INSERT INTO {schema}.programmes SELECT * FROM unnest($1::uuid[], $2::uuid[]) "
                "ON CONFLICT DO NOTHING", [p for p, _ in joined], [q for _, q in joined])
        for rows, sql in ((cohorts_in, f"INSERT INTO {schema}.cohorts SELECT * FROM "
                           "unnest($1::uuid[], $2::uuid[]) ON CONFLICT DO NOTHING"),
                          (cohorts_out, f"DELETE FROM {schema}.cohorts c USING unnest($1::uuid[], "
                           "$2::uuid[]) AS x(c, p) WHERE c.cohort_id = x.c AND c.participant_id = x.p")):
            if rows:  # in log order: a join then a leave in one batch ends out
                await conn.execute(sql, [c for c, _ in rows], [p for _, p in rows])

    async def _index(self, conn: asyncpg.Connection, schema: str,
                     latest: dict[UUID, str | None]) -> None:
        people = list(latest)
        await conn.execute(f"DELETE FROM {schema}.tokens WHERE participant_id = ANY($1::uuid[])",
                           people)
        keys = {r[0]: bytes(r[1]) for r in await conn.fetch(
            "SELECT subject_id, key FROM personal_data_keys "
            "WHERE subject_id = ANY($1::uuid[]) AND key IS NOT NULL", people)}
        secret = await index_key(conn)
        tokens: list[int] = []
        owners: list[UUID] = []
        for pid, ciphertext in latest.items():
            if ciphertext is None or pid not in keys:
                continue  # erased: nothing to index
            try:
                personal = decrypt(keys[pid], pid, ciphertext)
            except (KeyErased, ValueError):
                continue
            found = person_tokens(secret, personal)
            tokens += found
            owners += [pid] * len(found)
        if tokens:
            await conn.copy_records_to_table(
                "tokens", records=list(zip(tokens, owners, strict=True)),
                columns=["token", "participant_id"], schema_name=schema)
