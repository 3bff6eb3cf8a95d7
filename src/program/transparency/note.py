"""C2SP signed notes (``c2sp.org/signed-note``) with Ed25519 keys, and their verifier keys.

Parsing is strict: anything the format does not allow is refused, a known key's bad
signature rejects the whole note, and a note no known key signed is rejected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01
MAX_SIGNATURES = 100
MAX_NOTE_BYTES = 1 << 20
_DASH = "\u2014 "
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


class NoteError(ValueError):
    """A note, key or signature is malformed or does not verify."""


def b64decode(text: str, what: str) -> bytes:
    try:
        value = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise NoteError(f"{what} is not valid base64") from None
    if b64(value) != text:  # only the one canonical spelling of each value
        raise NoteError(f"{what} is not canonical base64")
    return value


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _check_name(name: str) -> str:
    if not name or any(c.isspace() or c == "+" for c in name) or _CONTROL.search(name):
        raise NoteError(f"key name {name!r} must be non-empty, with no spaces or '+'")
    return name


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    """One Ed25519 verifier key: ``<name>+<hex key id>+<base64(0x01 ‖ public key)>``."""

    name: str
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    def __str__(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{b64(bytes([ED25519]) + self.public_key)}"

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        parts = vkey.strip().split("+", 2)  # base64 may hold '+' too
        if len(parts) != 3:
            raise NoteError("a verifier key is <name>+<key id>+<key>")
        name, hex_id, encoded = parts
        _check_name(name)
        if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
            raise NoteError("a verifier key's id is 8 lower-case hex digits")
        material = b64decode(encoded, "the verifier key")
        if len(material) != 33 or material[0] != ED25519:
            raise NoteError("only Ed25519 verifier keys (type 0x01, 32 bytes) are accepted")
        verifier = cls(name, material[1:])
        if verifier.key_id.hex() != hex_id:
            raise NoteError("the verifier key's id does not match its name and key")
        return verifier

    def verifies(self, text: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """An Ed25519 signing key under a name."""

    name: str
    private_key: Ed25519PrivateKey

    def __post_init__(self) -> None:
        _check_name(self.name)

    @classmethod
    def generate(cls, name: str) -> Signer:
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Signer:
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, _raw(self.private_key.public_key()))

    def sign(self, text: str) -> str:
        """The signed note: ``text`` (ending in a newline), a blank line, one signature line."""
        _check_text(text)
        signature = self.verifier.key_id + self.private_key.sign(text.encode())
        return f"{text}\n{_DASH}{self.name} {b64(signature)}\n"


def _check_text(text: str) -> None:
    if not text.endswith("\n") or _CONTROL.search(text):
        raise NoteError("note text must end in a newline and hold no control characters")


def open_note(note: str | bytes, verifiers: list[Verifier]) -> str:
    """The note's text, once a known key's signature on it verified; raises otherwise."""
    if isinstance(note, bytes):
        if len(note) > MAX_NOTE_BYTES:
            raise NoteError("note is too large")
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("note is not valid UTF-8") from None
    if len(note) > MAX_NOTE_BYTES or _CONTROL.search(note) or not note.endswith("\n"):
        raise NoteError("note holds control characters or does not end in a newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no signatures")
    text, lines = note[: split + 1], note[split + 2 : -1].split("\n")
    if not text.strip("\n") or len(lines) > MAX_SIGNATURES:
        raise NoteError("note has no text, or too many signatures")
    known = {(v.name, v.key_id): v for v in verifiers}
    verified = False
    for line in lines:
        if not line.startswith(_DASH):
            raise NoteError("malformed signature line")
        name, _, encoded = line[len(_DASH):].partition(" ")
        _check_name(name)
        signature = b64decode(encoded, "a signature")
        if len(signature) < 5:
            raise NoteError("signature is too short")
        verifier = known.get((name, signature[:4]))
        if verifier is None:
            continue  # unknown keys are ignored, as the format requires
        if not verifier.verifies(text.encode(), signature[4:]):
            raise NoteError(f"signature by {name} does not verify")
        verified = True
    if not verified:
        raise NoteError("no known key signed this note")
    return text
