"""A token is verified once (signature, issuer, audience, claims) and remembered; only its
expiry is checked again at each use. Nothing about a token that was not verified, or
was verified under another secret, is taken from what is remembered."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from program.api import auth
from program.api.auth import Unauthenticated, decode_token, mint_token

SECRET = "unit-secret-" + "c" * 40


@pytest.fixture(autouse=True)
def _forget() -> None:
    auth.forget_tokens()


def test_a_token_used_twice_is_verified_once() -> None:
    # given a token that was used once
    token = mint_token(SECRET, role="PROGRAMME_MANAGER", subject="m", programme_ids=[
        "6f1c5b1e-0000-4000-8000-000000000001"])
    first = decode_token(token, SECRET)
    # when it is used again
    verified = auth.verifications()
    again = decode_token(token, SECRET)
    # then it speaks for the same actor, without a second verification
    assert again == first
    assert auth.verifications() == verified


def test_a_remembered_token_past_its_expiry_is_refused_as_expired() -> None:
    # given a token that was valid when first used
    token = mint_token(SECRET, role="ADMIN", subject="a", ttl=timedelta(seconds=30))
    decode_token(token, SECRET)
    # when it is used after it expired
    with pytest.raises(Unauthenticated, match="expired"):
        decode_token(token, SECRET, now=time.time() + 31)
    # then it is refused; before, it was still good
    assert decode_token(token, SECRET, now=time.time() + 29).subject == "a"


def test_a_remembered_token_is_refused_under_another_secret() -> None:
    # given a token accepted under one secret
    token = mint_token(SECRET, role="ADMIN", subject="a")
    decode_token(token, SECRET)
    # when the secret changes (rotated) and the token is presented again
    # then it is verified under the new secret, and refused
    with pytest.raises(Unauthenticated):
        decode_token(token, SECRET + "-rotated")


@pytest.mark.parametrize("where", [-1, -20, 10], ids=["signature-end", "signature", "header"])
def test_a_token_altered_after_a_genuine_one_was_remembered_is_refused(where: int) -> None:
    # given a genuine token, accepted and remembered
    token = mint_token(SECRET, role="AUDITOR", subject="a")
    decode_token(token, SECRET)
    # when one character of it is changed
    altered = token[:where] + ("A" if token[where] != "A" else "B") + token[where:][1:]
    assert altered != token
    # then the altered token is refused
    with pytest.raises(Unauthenticated):
        decode_token(altered, SECRET)


def test_refused_tokens_are_not_remembered() -> None:
    # given a token refused once (its signature made with another secret)
    token = mint_token("another-" + SECRET, role="ADMIN", subject="a")
    with pytest.raises(Unauthenticated):
        decode_token(token, SECRET)
    verified = auth.verifications()
    # when it is presented again, then it is verified again, and refused again
    with pytest.raises(Unauthenticated):
        decode_token(token, SECRET)
    assert auth.verifications() == verified + 1


def test_at_most_a_bounded_number_of_tokens_are_remembered() -> None:
    # when more distinct valid tokens are used than are remembered
    for i in range(auth.REMEMBERED_TOKENS + 10):
        decode_token(mint_token(SECRET, role="ADMIN", subject=f"s{i}"), SECRET)
    # then only the bound is held
    assert auth.remembered_tokens() == auth.REMEMBERED_TOKENS
