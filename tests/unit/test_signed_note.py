"""C2SP signed-note, tlog-checkpoint and tlog-proof formats: the specs' own example,
round trips, and refusals of everything malformed."""

from __future__ import annotations

import pytest

from program.transparency.checkpoint import Checkpoint, InclusionProof
from program.transparency.merkle import MemoryTree
from program.transparency.note import NoteError, Signer, Verifier, open_note

# c2sp.org/signed-note, section "Example".
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOB"
    "H3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


def test_spec_example_note_verifies_with_spec_key() -> None:
    assert open_note(SPEC_NOTE, [Verifier.parse(SPEC_VKEY)]) == "This is an example message.\n"


def test_spec_example_note_when_text_changed_is_refused() -> None:
    with pytest.raises(NoteError):
        open_note(SPEC_NOTE.replace("example message", "example massage"), [Verifier.parse(SPEC_VKEY)])


def test_note_signed_by_unknown_key_only_is_refused() -> None:
    other = Signer.generate("example.com/foo")
    with pytest.raises(NoteError, match="no known key"):
        open_note(SPEC_NOTE, [other.verifier])


@pytest.mark.parametrize("vkey", [
    SPEC_VKEY.replace("530d903a", "530d903b"),  # id does not match
    SPEC_VKEY.replace("+530d903a", ""),  # two parts
    SPEC_VKEY.replace("Aeky", "Beky"),  # not type 0x01 / key changed
    SPEC_VKEY + "=",  # bad base64
    "exa mple.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
])
def test_verifier_key_when_malformed_is_refused(vkey: str) -> None:
    with pytest.raises(NoteError):
        Verifier.parse(vkey)


def test_verifier_key_round_trips() -> None:
    signer = Signer.generate("program.example/ledger")
    assert Verifier.parse(str(signer.verifier)) == signer.verifier


def _signed_checkpoint(size: int = 5) -> tuple[Signer, MemoryTree, str]:
    signer = Signer.generate("program.example/ledger")
    tree = MemoryTree()
    tree.append(*[f"row-{i}".encode() for i in range(size)])
    return signer, tree, Checkpoint("program.example/ledger", size, tree.root()).sign(signer)


def test_checkpoint_round_trips_and_checks_origin() -> None:
    signer, tree, note = _signed_checkpoint()
    checkpoint = Checkpoint.open(note, signer.verifier)
    assert (checkpoint.size, checkpoint.root) == (5, tree.root())
    with pytest.raises(NoteError):
        Checkpoint.open(note, signer.verifier, origin="another.example/log")


@pytest.mark.parametrize("body", [
    "origin\n05\nAAAA\n", "origin\n5\n", "\n5\nroot\n", "origin\n5\nAAAA\n",
    "origin\n-1\n" + "A" * 43 + "=\n", "origin\n5\n" + "A" * 43 + "=\n\n",
])
def test_checkpoint_when_body_malformed_is_refused(body: str) -> None:
    with pytest.raises(NoteError):
        Checkpoint.parse(body)


def test_inclusion_proof_file_round_trips_and_verifies() -> None:
    signer, tree, note = _signed_checkpoint(7)
    proof = InclusionProof(3, tree.inclusion_proof(3), note, extra=b"row-3")
    parsed = InclusionProof.parse(proof.format())
    assert parsed == proof
    assert parsed.verify(signer.verifier, b"row-3").size == 7


@pytest.mark.parametrize("change", ["index", "leaf", "hash", "size", "signature", "key"])
def test_inclusion_proof_when_tampered_is_refused(change: str) -> None:
    signer, tree, note = _signed_checkpoint(7)
    proof, leaf, verifier = InclusionProof(3, tree.inclusion_proof(3), note), b"row-3", signer.verifier
    if change == "index":
        proof = InclusionProof(2, proof.hashes, note)
    elif change == "leaf":
        leaf = b"row-4"
    elif change == "hash":
        first = proof.hashes[0]
        proof = InclusionProof(3, [bytes([first[0] ^ 1]) + first[1:], *proof.hashes[1:]], note)
    elif change == "size":
        proof = InclusionProof(3, proof.hashes, note.replace("\n7\n", "\n8\n"))
    elif change == "signature":
        proof = InclusionProof(3, proof.hashes, note[:-6] + ("A" if note[-6] != "A" else "B") + note[-5:])
    else:
        verifier = Signer.generate("program.example/ledger").verifier
    with pytest.raises(NoteError):
        InclusionProof.parse(proof.format()).verify(verifier, leaf)


def test_inclusion_proof_when_index_beyond_size_is_refused() -> None:
    signer, tree, note = _signed_checkpoint(4)
    proof = InclusionProof(4, tree.inclusion_proof(3), note)
    with pytest.raises(NoteError):
        proof.verify(signer.verifier, b"row-3")


@pytest.mark.parametrize("text", [
    "c2sp.org/tlog-proof@v2\nindex 0\n\nx\n", "c2sp.org/tlog-proof@v1\nindex 01\n\nx\n",
    "c2sp.org/tlog-proof@v1\n\nx\n", "c2sp.org/tlog-proof@v1\nindex 0\nAAAA\n\nx\n",
    "c2sp.org/tlog-proof@v1\nindex 0",
])
def test_inclusion_proof_file_when_malformed_is_refused(text: str) -> None:
    with pytest.raises(NoteError):
        InclusionProof.parse(text)
