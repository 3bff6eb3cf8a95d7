"""Webhook signing secrets: generated here, shown once, kept only as ciphertext.

A secret is encrypted under a data key of its endpoint (the key store that holds
people's data keys); the event log and the feed tables hold the ciphertext only.
Removing an endpoint destroys that key, and with it every secret it ever had.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from program.feeds.webhooks import new_secret
from program.store.keys import KeyStore, decrypt, encrypt


class SecretBox:
    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys
        self._cache: dict[UUID, tuple[int, list[tuple[str, datetime | None]]]] = {}

    async def seal_new(self, endpoint_id: UUID) -> tuple[str, str]:
        """A new secret and its ciphertext (the secret is returned once, to its owner)."""
        secret = new_secret()
        key = await self.keys.create(endpoint_id)
        return secret, encrypt(key, endpoint_id, {"secret": secret})

    async def signing_secrets(self, endpoint_id: UUID, raw: Any, version: int) -> list[str]:
        """The secrets that sign now: the current one, and the previous until it expires."""
        cached = self._cache.get(endpoint_id)
        if cached is None or cached[0] != version:
            key = await self.keys.get(endpoint_id)
            opened = []
            for item in json.loads(raw) if isinstance(raw, str) else raw:
                until = datetime.fromisoformat(item["until"]) if item.get("until") else None
                opened.append((decrypt(key, endpoint_id, item["secret"])["secret"], until))
            cached = self._cache[endpoint_id] = (version, opened)
        now = datetime.now(UTC)
        return [s for s, until in cached[1] if until is None or until > now]
