"""The blind index's text rules: normalising, tokens, and the confirmation on plaintext."""

from __future__ import annotations

import unicodedata

import pytest

from program.projections.participant_search.tokens import (
    matches,
    normalise,
    person_tokens,
    query_tokens,
)

KEY = b"k" * 32


@pytest.mark.parametrize(("text", "plain"), [
    ("  Zoë O'Brien ", "zoe o brien"),
    ("SIOBHÁN Ní Bhriain", "siobhan ni bhriain"),
    ("Zielińska-00012", "zielinska 00012"),
    ("person12@Example.ORG", "person12 example org"),
    ("Straße", "strasse"),
    ("", ""),
])
def test_normalise_when_given_names_and_emails_then_drops_accents_case_and_punctuation(
    text: str, plain: str
) -> None:
    assert normalise(text) == plain


@pytest.mark.parametrize("text", ["Amara Ahmed-00001", "ben.jones@example.org", "O'Brien  X"])
def test_normalise_given_ascii_when_taking_the_short_path_then_agrees_with_the_unicode_path(
    text: str,
) -> None:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    slow = " ".join("".join(c if c.isalnum() else " " for c in decomposed).split())
    assert normalise(text) == slow


def test_a_person_when_searched_by_any_fragment_of_name_or_email_then_every_query_token_is_theirs(
) -> None:
    tokens = person_tokens(KEY, {"name": "Zoë Zielińska", "email": "zoe.z@example.org"})
    for search in ("zoe", "ZOË", "zieli", "linsk", "example", "zo", "z"):
        assert set(query_tokens(KEY, search)) <= tokens, search
        assert matches({"name": "Zoë Zielińska", "email": "zoe.z@example.org"}, search)


def test_a_query_without_letters_or_digits_when_tokenised_then_has_no_tokens() -> None:
    assert query_tokens(KEY, " -- '' ") == []


def test_matches_given_trigrams_in_another_order_then_confirms_nothing() -> None:
    # "amara" holds the trigrams of "mar" and "ara" but not the fragment "arama"
    assert not matches({"name": "Amara"}, "arama")
    assert not matches(None, "amara")
