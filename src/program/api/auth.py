"""Bearer tokens: mint and verify JWTs that carry a role and its scope."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from uuid import UUID

import jwt

from program.application.context import Actor, Role
from program.domain import limits
from program.domain.errors import InvalidInput
from program.domain.values import check_text
from program.settings import Settings

ISSUER = "program"
AUDIENCE = "program"
ALGORITHM = "HS256"


class Unauthenticated(Exception):
    """No token, or a token we cannot trust."""

    code = "UNAUTHENTICATED"


def mint_token(
    secret: str,
    *,
    role: Role | str,
    subject: str,
    programme_ids: Iterable[UUID | str] = (),
    facilitator_id: UUID | str | None = None,
    partner_id: str | None = None,
    ttl: timedelta = timedelta(hours=12),
    now: datetime | None = None,
) -> str:
    issued = now or datetime.now(UTC)
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "role": Role(role).value,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
    }
    programmes = [str(UUID(str(p))) for p in programme_ids]
    if programmes:
        claims["programmes"] = programmes
    if facilitator_id is not None:
        claims["facilitator"] = str(UUID(str(facilitator_id)))
    if partner_id is not None:
        claims["partner"] = partner_id
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


# Verified tokens are remembered (at most this many, the least recently used forgotten
# first): a token cannot change, so at each later use only its expiry is left to check.
# A token refused is not remembered, and one verified under another secret is a miss.
REMEMBERED_TOKENS = 4096


def decode_token(token: str, secret: str, now: float | None = None) -> Actor:
    """The actor a valid token speaks for; ``Unauthenticated`` for anything else."""
    actor, expires = _verified(token, secret)
    if expires <= (time.time() if now is None else now):  # as PyJWT judges ``exp``
        raise Unauthenticated("token expired")
    return actor


@lru_cache(maxsize=REMEMBERED_TOKENS)
def _verified(token: str, secret: str) -> tuple[Actor, float]:
    """The actor of a token whose signature, issuer, audience and claims hold, and when
    it expires."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
        role = Role(claims["role"])
        programmes = frozenset(UUID(p) for p in claims.get("programmes", []))
        facilitator = claims.get("facilitator")
        return Actor(
            # Recorded in every event's metadata: held to the same limits as any input.
            subject=check_text(str(claims["sub"]), "sub", limits.IDENTITY),
            role=role,
            programme_ids=programmes,
            facilitator_id=UUID(facilitator) if facilitator else None,
            partner_id=claims.get("partner"),
        ), float(claims["exp"])
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("token expired") from exc
    except (jwt.PyJWTError, KeyError, ValueError, TypeError, InvalidInput) as exc:
        raise Unauthenticated("invalid token") from exc


def verifications() -> int:
    """How many times a token was verified in full (not taken from those remembered)."""
    return _verified.cache_info().misses


def remembered_tokens() -> int:
    return _verified.cache_info().currsize


def forget_tokens() -> None:
    _verified.cache_clear()


def actor_from_authorization(header: str | None, secret: str) -> Actor:
    if not header:
        raise Unauthenticated("missing bearer token")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("expected 'Authorization: Bearer <token>'")
    return decode_token(token.strip(), secret)


def resolve_secret(settings: Settings) -> str:
    """The configured secret, or one generated once and kept in the data folder."""
    if settings.jwt_secret:
        return settings.jwt_secret
    path = Path(settings.data_dir) / "jwt-secret"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret)
    path.chmod(0o600)
    return secret
