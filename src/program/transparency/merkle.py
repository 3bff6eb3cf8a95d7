"""RFC 9162 §2.1 Merkle tree hashing, proofs and their strict verification.

Proofs are built from *stored subtrees*: the hash of every complete, aligned
subtree (``level`` L, ``index`` i covers leaves ``[i·2^L, (i+1)·2^L)``) is kept,
so any proof needs O(log n) of them. :func:`inclusion_ranges` and
:func:`consistency_ranges` say which leaf ranges a proof is made of;
:func:`nodes_for` says which stored subtrees those ranges need; :func:`range_hash`
combines them. Verification needs none of that: only hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Node = tuple[int, int]  # (level, index)
Range = tuple[int, int]  # leaves [lo, hi)


class ProofError(ValueError):
    """A proof, or what it is checked against, does not hold."""


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


# -- which ranges make a proof (RFC 9162 §2.1.3.1 and §2.1.4.1) ---------------


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The leaf ranges whose hashes form PATH(index, D[0:size]), leaf side first."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not in a tree of size {size}")
    path: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo = lo + k
    path.reverse()
    return path


def consistency_ranges(old: int, new: int) -> list[Range]:
    """The leaf ranges whose hashes form PROOF(old, D[0:new])."""
    if not 0 < old <= new:
        raise ProofError(f"no consistency proof from size {old} to size {new}")
    proof: list[Range] = []
    lo, hi, m, whole = 0, new, old, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            proof.append((lo + k, hi))
            hi = lo + k
        else:
            proof.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        proof.append((lo, hi))
    proof.reverse()
    return proof


# -- hashing ranges from stored subtrees ---------------------------------------


def _aligned(lo: int, hi: int) -> Node | None:
    n = hi - lo
    if n & (n - 1) == 0 and lo % n == 0:
        level = n.bit_length() - 1
        return level, lo >> level
    return None


def _parts(lo: int, hi: int) -> Iterable[Node]:
    node = _aligned(lo, hi)
    if node is not None:
        yield node
        return
    k = _split(hi - lo)
    yield from _parts(lo, lo + k)
    yield from _parts(lo + k, hi)


def nodes_for(ranges: Iterable[Range]) -> set[Node]:
    """The stored subtrees needed to hash these ranges."""
    return {node for lo, hi in ranges for node in _parts(lo, hi)}


def range_hash(lo: int, hi: int, nodes: Mapping[Node, bytes]) -> bytes:
    """MTH(D[lo:hi]) from stored subtree hashes."""
    node = _aligned(lo, hi)
    if node is not None:
        try:
            return nodes[node]
        except KeyError:
            raise ProofError(f"subtree {node} is not stored") from None
    k = _split(hi - lo)
    return node_hash(range_hash(lo, lo + k, nodes), range_hash(lo + k, hi, nodes))


def root_hash(size: int, nodes: Mapping[Node, bytes]) -> bytes:
    return range_hash(0, size, nodes) if size else EMPTY_ROOT


# -- building stored subtrees as leaves arrive ---------------------------------


def frontier(size: int) -> list[Node]:
    """The stored subtrees a new leaf at index ``size`` may be combined with."""
    return [
        (level, (size >> level) - 1)
        for level in range(size.bit_length())
        if size >> level & 1
    ]


def append_leaves(size: int, leaves: Sequence[bytes], known: dict[Node, bytes]) -> dict[Node, bytes]:
    """The subtrees completed by appending leaf hashes at ``size``, ``size+1``, …

    ``known`` must hold :func:`frontier` (size); it is updated in place.
    """
    new: dict[Node, bytes] = {}
    for offset, leaf in enumerate(leaves):
        index, level, value = size + offset, 0, leaf
        new[(0, index)] = known[(0, index)] = value
        while index & 1:
            value = node_hash(known[(level, index - 1)], value)
            index >>= 1
            level += 1
            new[(level, index)] = known[(level, index)] = value
    return new


class MemoryTree:
    """A whole tree in memory: the reference the stored one is tested against."""

    def __init__(self) -> None:
        self.nodes: dict[Node, bytes] = {}
        self.size = 0

    def append(self, *entries: bytes) -> None:
        append_leaves(self.size, [leaf_hash(e) for e in entries], self.nodes)
        self.size += len(entries)

    def root(self, size: int | None = None) -> bytes:
        return root_hash(self.size if size is None else size, self.nodes)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self.size if size is None else size
        return [range_hash(lo, hi, self.nodes) for lo, hi in inclusion_ranges(index, size)]

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        new = self.size if new is None else new
        return [range_hash(lo, hi, self.nodes) for lo, hi in consistency_ranges(old, new)]


# -- strict verification (RFC 9162 §2.1.3.2 and §2.1.4.2) ----------------------


def _check_hashes(*hashes: bytes) -> None:
    for h in hashes:
        if not isinstance(h, bytes) or len(h) != HASH_SIZE:
            raise ProofError("every hash must be 32 bytes")


def _inner_proof_size(index: int, size: int) -> int:
    return (index ^ (size - 1)).bit_length()


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root an inclusion proof leads to; raises on any malformed input."""
    if size <= 0 or not 0 <= index < size:
        raise ProofError(f"index {index} is not in a tree of size {size}")
    _check_hashes(leaf, *proof)
    inner = _inner_proof_size(index, size)
    border = bin(index >> inner).count("1")
    if len(proof) != inner + border:
        raise ProofError(f"proof has {len(proof)} hashes, expected {inner + border}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof is too short")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Raise :class:`ProofError` unless ``leaf`` (a leaf hash) is at ``index`` under ``root``."""
    _check_hashes(root)
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(
    old: int, new: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> None:
    """Raise :class:`ProofError` unless the tree of size ``new`` extends that of size ``old``."""
    if old <= 0 or new < old:
        raise ProofError(f"no consistency proof from size {old} to size {new}")
    if old == new:
        # As the reference verifier does: the roots are compared, whatever their form
        # (a checkpoint's root is checked to be 32 bytes when the checkpoint is parsed).
        if proof:
            raise ProofError("equal sizes need an empty proof")
        if old_root != new_root:
            raise ProofError("equal sizes but different roots")
        return
    if not proof:
        raise ProofError("empty consistency proof")
    _check_hashes(old_root, new_root, *proof)
    path = list(proof)
    if old & (old - 1) == 0:  # an exact power of two: the old root is a node of the new tree
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof is too short")
    if fr != old_root:
        raise ProofError("consistency proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("consistency proof does not lead to the new root")


class RootAccumulator:
    """Roots of a growing tree in O(log n) memory: the complete subtrees on its right edge."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (level, hash), largest first

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash."""
        level, value = 0, leaf
        while self._stack and self._stack[-1][0] == level:
            value = node_hash(self._stack.pop()[1], value)
            level += 1
        self._stack.append((level, value))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        value = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            value = node_hash(left, value)
        return value
