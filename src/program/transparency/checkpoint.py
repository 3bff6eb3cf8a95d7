"""C2SP ``tlog-checkpoint`` bodies and ``tlog-proof@v1`` files, parsed strictly."""

from __future__ import annotations

import re
from dataclasses import dataclass

from program.transparency.merkle import HASH_SIZE, ProofError, leaf_hash, verify_inclusion
from program.transparency.note import NoteError, Signer, Verifier, b64, b64decode, open_note

PROOF_HEADER = "c2sp.org/tlog-proof@v1"
MAX_PROOF_HASHES = 64
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")


def _decimal(text: str, what: str) -> int:
    if not _DECIMAL.fullmatch(text):
        raise NoteError(f"{what} must be a decimal number without leading zeroes")
    return int(text)


def _hash(text: str, what: str) -> bytes:
    value = b64decode(text, what)
    if len(value) != HASH_SIZE:
        raise NoteError(f"{what} must be a 32-byte hash")
    return value


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin, its size and its root hash."""

    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{b64(self.root)}\n"

    def sign(self, signer: Signer) -> str:
        return signer.sign(self.body())

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
            raise NoteError("a checkpoint is at least three non-empty lines")
        return cls(lines[0], _decimal(lines[1], "tree size"), _hash(lines[2], "root hash"))

    @classmethod
    def open(cls, note: str | bytes, verifier: Verifier, origin: str | None = None) -> Checkpoint:
        """A checkpoint signed by ``verifier``'s key, for the expected origin."""
        checkpoint = cls.parse(open_note(note, [verifier]))
        expected = origin or verifier.name
        if checkpoint.origin != expected:
            raise NoteError(f"checkpoint is for {checkpoint.origin!r}, not {expected!r}")
        return checkpoint


@dataclass(frozen=True)
class InclusionProof:
    """A ``c2sp.org/tlog-proof@v1`` file: an entry's index, its proof and a checkpoint."""

    index: int
    hashes: list[bytes]
    checkpoint_note: str
    extra: bytes | None = None

    def format(self) -> str:
        lines = [PROOF_HEADER]
        if self.extra is not None:
            lines.append(f"extra {b64(self.extra)}")
        lines.append(f"index {self.index}")
        lines.extend(b64(h) for h in self.hashes)
        return "\n".join(lines) + "\n\n" + self.checkpoint_note

    @classmethod
    def parse(cls, text: str) -> InclusionProof:
        head, sep, note = text.partition("\n\n")
        if not sep:
            raise NoteError("a proof is its lines, an empty line, then the checkpoint")
        lines = head.split("\n")
        if lines[0] != PROOF_HEADER:
            raise NoteError(f"a proof starts with {PROOF_HEADER}")
        extra = None
        rest = lines[1:]
        if rest and rest[0].startswith("extra "):
            extra = b64decode(rest[0][len("extra "):], "extra data")
            rest = rest[1:]
        if not rest or not rest[0].startswith("index "):
            raise NoteError("a proof names its entry's index")
        index = _decimal(rest[0][len("index "):], "index")
        if len(rest) - 1 > MAX_PROOF_HASHES:
            raise NoteError("proof is too long")
        hashes = [_hash(line, "proof hash") for line in rest[1:]]
        return cls(index, hashes, note, extra)

    def verify(self, verifier: Verifier, leaf: bytes, origin: str | None = None) -> Checkpoint:
        """Check that ``leaf`` (the entry's data) is at this index under a signed checkpoint."""
        checkpoint = Checkpoint.open(self.checkpoint_note, verifier, origin)
        try:
            verify_inclusion(self.index, checkpoint.size, leaf_hash(leaf), self.hashes, checkpoint.root)
        except ProofError as exc:
            raise NoteError(str(exc)) from None
        return checkpoint
