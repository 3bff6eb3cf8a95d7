"""Bearer tokens: what the auth helpers accept, and every way they refuse (UNAUTHENTICATED)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import jwt
import pytest

from program.api.auth import (
    ALGORITHM,
    AUDIENCE,
    ISSUER,
    Unauthenticated,
    actor_from_authorization,
    decode_token,
    mint_token,
    resolve_secret,
)
from program.application.context import Role
from program.settings import Settings

SECRET = "auth-test-secret-" + "y" * 40


def _claims(**overrides: object) -> dict[str, object]:
    now = int(datetime.now(UTC).timestamp())
    claims: dict[str, object] = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": "someone", "role": "ADMIN",
        "iat": now, "exp": now + 600,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def test_decode_token_returns_the_actor_with_its_scope() -> None:
    programme, facilitator = uuid4(), uuid4()
    token = mint_token(
        SECRET, role=Role.PROGRAMME_MANAGER, subject="pm-1",
        programme_ids=[programme], facilitator_id=facilitator, partner_id="partner-a",
    )
    actor = decode_token(token, SECRET)
    assert actor.subject == "pm-1"
    assert actor.role is Role.PROGRAMME_MANAGER
    assert actor.programme_ids == frozenset({programme})
    assert actor.facilitator_id == facilitator
    assert actor.partner_id == "partner-a"


def test_actor_from_authorization_accepts_a_bearer_header_in_any_case() -> None:
    token = mint_token(SECRET, role="AUDITOR", subject="aud-1")
    assert actor_from_authorization(f"Bearer {token}", SECRET).role is Role.AUDITOR
    assert actor_from_authorization(f"bearer  {token} ", SECRET).subject == "aud-1"


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "Token abc", "not-a-header"],
    ids=["missing", "empty", "no-token", "blank-token", "basic", "other-scheme", "no-scheme"],
)
def test_actor_from_authorization_when_header_is_not_a_bearer_token_unauthenticated(
    header: str | None,
) -> None:
    with pytest.raises(Unauthenticated) as caught:
        actor_from_authorization(header, SECRET)
    assert caught.value.code == "UNAUTHENTICATED"


def _bad_tokens() -> dict[str, str]:
    good = _claims()
    return {
        "garbage": "not.a.jwt",
        "wrong-secret": jwt.encode(good, "another-secret-" + "z" * 40, algorithm=ALGORITHM),
        "expired": mint_token(
            SECRET, role="ADMIN", subject="old", ttl=timedelta(hours=1),
            now=datetime.now(UTC) - timedelta(hours=2),
        ),
        "unsigned": jwt.encode(good, None, algorithm="none"),
        "wrong-audience": jwt.encode(_claims(aud="someone-else"), SECRET, algorithm=ALGORITHM),
        "wrong-issuer": jwt.encode(_claims(iss="someone-else"), SECRET, algorithm=ALGORITHM),
        "no-expiry": jwt.encode(_claims(exp=None), SECRET, algorithm=ALGORITHM),
        "no-subject": jwt.encode(_claims(sub=None), SECRET, algorithm=ALGORITHM),
        "no-role": jwt.encode(_claims(role=None), SECRET, algorithm=ALGORITHM),
        "unknown-role": jwt.encode(_claims(role="SUPERUSER"), SECRET, algorithm=ALGORITHM),
        "bad-programme-id": jwt.encode(
            _claims(role="PROGRAMME_MANAGER", programmes=["not-a-uuid"]), SECRET, algorithm=ALGORITHM
        ),
        "tampered": _tamper(mint_token(SECRET, role="AUDITOR", subject="aud")),
    }


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    admin = jwt.utils.base64url_encode(  # same claims, role raised to ADMIN, old signature
        jwt.utils.base64url_decode(payload).replace(b'"AUDITOR"', b'"ADMIN"')
    ).decode()
    return f"{header}.{admin}.{signature}"


@pytest.mark.parametrize("kind", sorted(_bad_tokens()))
def test_decode_token_when_token_is_bad_unauthenticated(kind: str) -> None:
    token = _bad_tokens()[kind]
    with pytest.raises(Unauthenticated) as caught:
        decode_token(token, SECRET)
    assert caught.value.code == "UNAUTHENTICATED"
    with pytest.raises(Unauthenticated):
        actor_from_authorization(f"Bearer {token}", SECRET)


def test_expired_token_says_it_expired() -> None:
    with pytest.raises(Unauthenticated, match="expired"):
        decode_token(_bad_tokens()["expired"], SECRET)


def test_resolve_secret_prefers_the_setting_then_keeps_one_in_the_data_folder(tmp_path: Path) -> None:
    assert resolve_secret(Settings(data_dir=tmp_path, jwt_secret="configured")) == "configured"
    assert not (tmp_path / "jwt-secret").exists()
    first = resolve_secret(Settings(data_dir=tmp_path / "data"))
    assert len(first) >= 32
    assert resolve_secret(Settings(data_dir=tmp_path / "data")) == first
    assert (tmp_path / "data" / "jwt-secret").stat().st_mode & 0o077 == 0
