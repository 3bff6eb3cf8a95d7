"""AES-GCM sealing of personal data under a person's own key: pure functions, shared
by every key store and by the application (no database here)."""

from __future__ import annotations

import base64
import json
import os
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_PREFIX = "aesgcm1:"


class KeyErased(Exception):
    """The person's data key was destroyed: their personal data is gone for good."""


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
