"""Per-person data keys, and AES-GCM encryption of personal data under them."""

from __future__ import annotations

import base64
import json
import os
from typing import Any
from uuid import UUID

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_PREFIX = "aesgcm1:"


class KeyErased(Exception):
    """The person's data key was destroyed: their personal data is gone for good."""


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


def encrypt(key: bytes, subject_id: UUID, data: dict[str, Any]) -> str:
    """Ciphertext as text, bound to the person's id so it cannot be moved to another."""
    nonce = os.urandom(12)
    plaintext = json.dumps(data, sort_keys=True).encode()
    sealed = AESGCM(key).encrypt(nonce, plaintext, subject_id.bytes)
    return _PREFIX + base64.b64encode(nonce + sealed).decode()


def decrypt(key: bytes | None, subject_id: UUID, ciphertext: str) -> dict[str, Any]:
    if key is None:
        raise KeyErased(f"personal data of {subject_id} was erased")
    if not ciphertext.startswith(_PREFIX):
        raise ValueError("not personal-data ciphertext")
    raw = base64.b64decode(ciphertext[len(_PREFIX):])
    try:
        plaintext = AESGCM(key).decrypt(raw[:12], raw[12:], subject_id.bytes)
    except InvalidTag as exc:
        raise KeyErased(f"personal data of {subject_id} cannot be decrypted") from exc
    return json.loads(plaintext)
