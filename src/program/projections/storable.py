"""Make text storable in PostgreSQL before a read model writes it.

The log may hold values PostgreSQL's ``text`` and ``jsonb`` refuse: a NUL character
(``\\u0000``), an unpaired surrogate, or a value too long for a btree index (an index
row holds at most 2,704 bytes). New input is refused at the boundary, but events
already in the log must still project, so every value is made storable where the
read models write it (``program.projections.tables``): NUL is dropped, an unpaired
surrogate becomes U+FFFD, and text in an indexed column longer than ``INDEXED_CHARS``
is cut, with a digest of the whole value appended so distinct values stay distinct.
Ordinary text passes through untouched, after two cheap checks.
"""

from __future__ import annotations

import hashlib
from typing import Any

NUL = "\x00"
REPLACEMENT = "\ufffd"
# At four bytes a character, 600 characters and the digest stay under 2,704 bytes.
INDEXED_CHARS = 600
_ELLIPSIS = "…"


def _encodes(value: str) -> bool:
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def needs_cleaning(value: str) -> bool:
    return NUL in value or not (value.isascii() or _encodes(value))


def clean(value: str) -> str:
    """``value`` without NUL and with unpaired surrogates replaced."""
    if NUL in value:
        value = value.replace(NUL, "")
    if not value.isascii() and not _encodes(value):
        # Through UTF-16: a surrogate pair split over two code units joins up again, and
        # a lone surrogate becomes U+FFFD.
        value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return value


def bounded(value: str, limit: int = INDEXED_CHARS) -> str:
    """``value`` cut to about ``limit`` characters, ending in a digest of the whole."""
    if len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:16]
    return value[: limit - len(digest) - 1] + _ELLIPSIS + digest


def fine(value: Any, indexed: bool = False) -> bool:
    """True when a text (or text[]) column's value can be written as it is."""
    if type(value) is str:
        return not needs_cleaning(value) and (not indexed or len(value) <= INDEXED_CHARS)
    if type(value) is list:
        return all(fine(v, indexed) for v in value)
    return True


def text(value: Any, *, indexed: bool = False) -> Any:
    """A ``text`` column's value made storable (anything not a string unchanged)."""
    if type(value) is not str:
        if isinstance(value, list):  # a text[] column
            return [text(v, indexed=indexed) for v in value]
        return value
    if needs_cleaning(value):
        value = clean(value)
    return bounded(value) if indexed else value


def json_value(value: Any) -> Any:
    """Every string (and key) in a JSON-ready value made storable."""
    kind = type(value)
    if kind is str:
        return clean(value) if needs_cleaning(value) else value
    if kind is dict:
        return {json_value(k): json_value(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [json_value(v) for v in value]
    return value


def json_text(encoded: str) -> bool:
    """True when JSON text is storable as ``jsonb`` (no escaped NUL in it)."""
    return "\\u0000" not in encoded
