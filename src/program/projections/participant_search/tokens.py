"""Blind-index tokens for finding people by a fragment of their name or email, without
keeping either in clear: text is normalised (accents dropped, case folded), cut into
trigrams (and one- and two-letter word prefixes, for short queries), and each token is
an HMAC under the index key, truncated to 64 bits so it fits an indexed ``bigint``.

The index key is a data key of the key store under a fixed subject id, so it lives (and
could be rotated, with a rebuild) where every other key lives. A truncated HMAC can
collide, and trigrams do not prove a substring, so matches are confirmed on the decrypted
candidates before anyone sees them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable
from uuid import UUID

# Never change: the index key is found by this subject id (uuid5(NAMESPACE_URL, "urn:program:search-index")).
INDEX_KEY_SUBJECT = UUID("bf1d1b32-6f09-5624-af81-3f14cc159e38")
SEARCHED_FIELDS = ("name", "chosen_name", "email")
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def normalise(text: str) -> str:
    """``"  Zoë O'Brien "`` -> ``"zoe o brien"``: accents dropped, case folded, anything
    but letters and digits a space."""
    if text.isascii():  # most names and every email: nothing to decompose
        plain = text.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", text.casefold())
        plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", plain).split())


def _grams(word: str) -> set[str]:
    grams = {f"p:{word[:n]}" for n in (1, 2) if len(word) >= n}
    grams |= {f"t:{word[i:i + 3]}" for i in range(len(word) - 2)}
    return grams


def _query_grams(word: str) -> set[str]:
    if len(word) < 3:
        return {f"p:{word}"}
    return {f"t:{word[i:i + 3]}" for i in range(len(word) - 2)}


def _token(key: bytes, gram: str) -> int:
    digest = hmac.new(key, gram.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def person_tokens(key: bytes, personal: dict[str, object]) -> set[int]:
    """The tokens of a person's name, chosen name and email."""
    grams: set[str] = set()
    for field in SEARCHED_FIELDS:
        value = personal.get(field)
        if isinstance(value, str):
            for word in normalise(value).split():
                grams |= _grams(word)
    return {_token(key, g) for g in grams}


def query_tokens(key: bytes, search: str) -> list[int]:
    """Every token a match must have (empty: the query has no letters or digits)."""
    grams: set[str] = set()
    for word in normalise(search).split():
        grams |= _query_grams(word)
    return sorted({_token(key, g) for g in grams})


def matches(personal: dict[str, object] | None, search: str) -> bool:
    """The confirmation: every query word is part of the normalised name or email."""
    if not personal:
        return False
    text = " ".join(normalise(str(personal.get(f) or "")) for f in SEARCHED_FIELDS)
    joined = " " + text + " " + text.replace(" ", "")
    return all(word in joined for word in normalise(search).split())


def words(search: str) -> Iterable[str]:
    return normalise(search).split()
