"""Per-person data keys in PostgreSQL (the sealing itself is ``store.sealing``)."""

from __future__ import annotations

from uuid import UUID

import asyncpg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from program.store.sealing import KeyErased, decrypt, encrypt

__all__ = ["KeyErased", "KeyStore", "decrypt", "encrypt"]


class KeyStore:
    """One 256-bit data key per person; erasure destroys it (crypto-shredding)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def create(self, subject_id: UUID) -> bytes:
        key = AESGCM.generate_key(bit_length=256)
        async with self.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO personal_data_keys (subject_id, key) VALUES ($1, $2) "
                "ON CONFLICT (subject_id) DO NOTHING",
                subject_id, key,
            )
            stored = await conn.fetchval(
                "SELECT key FROM personal_data_keys WHERE subject_id = $1", subject_id
            )
        if stored is None:
            raise KeyErased(f"data key of {subject_id} was destroyed")
        return bytes(stored)

    async def get_many(self, subject_ids: list[UUID]) -> dict[UUID, bytes]:
        """Live keys for these people; erased or unknown people are absent."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT subject_id, key FROM personal_data_keys "
                "WHERE subject_id = ANY($1::uuid[]) AND key IS NOT NULL",
                subject_ids,
            )
        return {r[0]: bytes(r[1]) for r in rows}

    async def get(self, subject_id: UUID) -> bytes | None:
        return (await self.get_many([subject_id])).get(subject_id)

    async def destroy(self, subject_id: UUID) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO personal_data_keys (subject_id, key, destroyed_at) "
                "VALUES ($1, NULL, now()) ON CONFLICT (subject_id) "
                "DO UPDATE SET key = NULL, destroyed_at = coalesce(personal_data_keys.destroyed_at, now())",
                subject_id,
            )
