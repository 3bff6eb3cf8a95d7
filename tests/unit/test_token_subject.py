"""A token's subject is recorded in every event's metadata, so it is held to the input
limits: a signed token with a NUL or an over-long subject is not trusted."""

from __future__ import annotations

import pytest

from program.api.auth import Unauthenticated, decode_token, mint_token
from program.domain import limits

SECRET = "unit-secret-" + "x" * 40


@pytest.mark.parametrize("subject", ["a\x00b", "line\nbreak", "s" * (limits.IDENTITY.max_length + 1)],
                         ids=["nul", "newline", "over-long"])
def test_decode_token_when_subject_breaks_the_limits_is_unauthenticated(subject: str) -> None:
    token = mint_token(SECRET, role="ADMIN", subject=subject)
    with pytest.raises(Unauthenticated):
        decode_token(token, SECRET)


def test_decode_token_when_subject_is_plain_speaks_for_it() -> None:
    token = mint_token(SECRET, role="ADMIN", subject="manager:alex")
    assert decode_token(token, SECRET).subject == "manager:alex"
