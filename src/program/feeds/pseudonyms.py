"""Per-partner pseudonyms: a keyed HMAC of the participant id.

One master secret (``PROGRAM_PSEUDONYM_KEY``, or 32 random bytes generated once into
the data folder) never leaves the process. Each partner gets its own key, derived with
HKDF-SHA256 (RFC 5869) from the master secret with the partner id as ``info``; the
pseudonym is HMAC-SHA256(partner key, participant id) truncated to 128 bits. Two
partners therefore see unrelated pseudonyms for the same person, and without the master
secret nobody can reverse one or link two.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache
from pathlib import Path
from uuid import UUID

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_SALT = b"program.feeds.pseudonym.v1"
PREFIX = "psn_"


def resolve_master_key(configured: str | None, data_dir: Path) -> bytes:
    """The configured secret, or one generated once and kept in the data folder (mode 600)."""
    if configured:
        return configured.encode()
    path = Path(data_dir) / "pseudonym-key"
    if path.exists():
        return path.read_text().strip().encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    # Written before it is used, so a second process racing here reads one winner.
    try:
        with path.open("x") as handle:
            path.chmod(0o600)
            handle.write(secret)
    except FileExistsError:
        return path.read_text().strip().encode()
    return secret.encode()


class Pseudonyms:
    """Pseudonyms of people for partners, from one master secret."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) < 16:
            raise ValueError("the pseudonym key must be at least 16 bytes")
        self._master = master_key
        self._key_of = lru_cache(maxsize=1024)(self._derive)

    def _derive(self, partner_id: UUID) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT,
                    info=b"partner:" + partner_id.bytes).derive(self._master)

    def of(self, partner_id: UUID, participant_id: UUID) -> str:
        digest = hmac.new(self._key_of(partner_id), participant_id.bytes, hashlib.sha256).digest()
        return PREFIX + base64.b32encode(digest[:16]).decode().rstrip("=").lower()
