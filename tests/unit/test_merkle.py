"""RFC 9162 §2.1: roots, inclusion and consistency proofs, and their strict verifiers,
checked against the RFC's example tree and the transparency-dev test vectors."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from program.transparency.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    ProofError,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).parent.parent / "data" / "transparency-dev-merkle"


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _cases(kind: str) -> list[dict]:
    return json.loads((VECTORS / f"{kind}.json").read_text())


def _mth(leaves: list[bytes]) -> bytes:
    """MTH straight from the RFC's recursive definition."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaf_hash(leaves[0])
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


@pytest.mark.parametrize("case", _cases("inclusion"), ids=lambda c: c["file"])
def test_inclusion_vector(case: dict) -> None:
    # given a transparency-dev inclusion case, when verified, then it holds exactly when it should
    proof = [_b64(p) for p in case["proof"] or []]
    verify = lambda: verify_inclusion(  # noqa: E731
        case["leafIdx"], case["treeSize"], _b64(case["leafHash"]), proof, _b64(case["root"])
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify()
    else:
        verify()


@pytest.mark.parametrize("case", _cases("consistency"), ids=lambda c: c["file"])
def test_consistency_vector(case: dict) -> None:
    proof = [_b64(p) for p in case["proof"] or []]
    verify = lambda: verify_consistency(  # noqa: E731
        case["size1"], case["size2"], proof, _b64(case["root1"]), _b64(case["root2"])
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify()
    else:
        verify()


def test_happy_vectors_are_what_the_tree_builds() -> None:
    # The vectors' leaves are the RFC 6962 test inputs; our tree must produce their proofs.
    leaves = [bytes.fromhex(h) for h in (
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )]
    tree = MemoryTree()
    tree.append(*leaves)
    for case in _cases("inclusion"):
        if not case["wantErr"] and case["treeSize"] <= 8 and case["proof"]:
            got = tree.inclusion_proof(case["leafIdx"], case["treeSize"])
            assert got == [_b64(p) for p in case["proof"]]
            assert tree.root(case["treeSize"]) == _b64(case["root"])
    for case in _cases("consistency"):
        if not case["wantErr"] and case["size1"] < case["size2"] <= 8:
            got = tree.consistency_proof(case["size1"], case["size2"])
            assert got == [_b64(p) for p in case["proof"]]


def test_rfc9162_example_tree_proofs() -> None:
    # RFC 9162 §2.1.5: seven leaves d0..d6; nodes named a..l as in its figures.
    rfc_inclusion = {0: [(1, 2), (2, 4), (4, 7)], 3: [(2, 3), (0, 2), (4, 7)],
                     4: [(5, 6), (6, 7), (0, 4)], 6: [(4, 6), (0, 4)]}
    for index, ranges in rfc_inclusion.items():
        assert inclusion_ranges(index, 7) == ranges
    # PROOF(3, D[7]) = [c, d, g, l]; PROOF(4, D[7]) = [l]; PROOF(6, D[7]) = [i, j, k]
    assert consistency_ranges(3, 7) == [(2, 3), (3, 4), (0, 2), (4, 7)]
    assert consistency_ranges(4, 7) == [(4, 7)]
    assert consistency_ranges(6, 7) == [(4, 6), (6, 7), (0, 4)]


def test_every_proof_of_small_trees_verifies_and_every_bit_flip_fails() -> None:
    entries = [f"event-{i}".encode() for i in range(33)]
    tree = MemoryTree()
    tree.append(*entries)
    for size in range(1, 34):
        root = tree.root(size)
        assert root == _mth(entries[:size])
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            leaf = leaf_hash(entries[index])
            verify_inclusion(index, size, leaf, proof, root)
            for i in range(len(proof)):
                bad = list(proof)
                bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
                with pytest.raises(ProofError):
                    verify_inclusion(index, size, leaf, bad, root)
            with pytest.raises(ProofError):
                verify_inclusion(index, size, leaf, proof + [root], root)
            if proof:
                with pytest.raises(ProofError):
                    verify_inclusion(index, size, leaf, proof[:-1], root)
            with pytest.raises(ProofError):
                verify_inclusion(size, size, leaf, proof, root)
        for old in range(1, size + 1):
            proof = tree.consistency_proof(old, size)
            verify_consistency(old, size, proof, tree.root(old), root)
            for i in range(len(proof)):
                bad = list(proof)
                bad[i] = bytes([bad[i][0] ^ 0x80]) + bad[i][1:]
                with pytest.raises(ProofError):
                    verify_consistency(old, size, bad, tree.root(old), root)
            if old < size:
                with pytest.raises(ProofError):
                    verify_consistency(old, size, proof[:-1], tree.root(old), root)
                with pytest.raises(ProofError):
                    verify_consistency(old, size, proof + [root], tree.root(old), root)


def test_verify_consistency_when_old_size_is_zero_refuses() -> None:
    with pytest.raises(ProofError):
        verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    with pytest.raises(ProofError):
        verify_consistency(0, 1, [], EMPTY_ROOT, leaf_hash(b"x"))


def test_verify_inclusion_when_a_hash_is_not_32_bytes_refuses() -> None:
    tree = MemoryTree()
    tree.append(b"a", b"b")
    proof = tree.inclusion_proof(0)
    with pytest.raises(ProofError):
        verify_inclusion(0, 2, leaf_hash(b"a"), [proof[0] + b"\x00"], tree.root())


def test_root_accumulator_matches_the_tree_at_every_size() -> None:
    from program.transparency.merkle import RootAccumulator

    entries = [bytes([i]) for i in range(70)]
    tree, acc = MemoryTree(), RootAccumulator()
    assert acc.root() == EMPTY_ROOT
    for entry in entries:
        tree.append(entry)
        acc.append(leaf_hash(entry))
        assert acc.root() == tree.root() == _mth(entries[: acc.size])
