"""Signed checkpoints of the event log's Merkle tree, kept for good, and proofs against them.

The log never signs a checkpoint it cannot prove consistent with the last one it
kept, and never keeps two checkpoints of one size with different roots.
"""

from __future__ import annotations

import base64
import binascii
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import asyncpg

from program.store import tree
from program.transparency.checkpoint import Checkpoint, InclusionProof
from program.transparency.merkle import ProofError, verify_consistency
from program.transparency.note import Signer, Verifier

KEY_FILE = "ledger-key"
LATEST_TTL_S = 1.0


class LedgerError(Exception):
    """The log cannot answer as asked (no such checkpoint or position)."""

    code = "NOT_FOUND"


class LedgerInconsistent(Exception):
    """The stored log no longer extends a checkpoint it signed: it was altered."""

    code = "LEDGER_INCONSISTENT"


def load_signer(
    origin: str, data_dir: Path, seed_b64: str | None = None, *, create: bool = True
) -> Signer | None:
    """The log's Ed25519 key: from a setting (base64 of a 32-byte seed), or generated
    once into the data folder (mode 600) and reused; None when it is not there and
    ``create`` is off."""
    if seed_b64:
        try:
            seed = base64.b64decode(seed_b64, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("PROGRAM_LEDGER_KEY must be base64") from None
        if len(seed) != 32:
            raise ValueError("PROGRAM_LEDGER_KEY must be the base64 of a 32-byte Ed25519 seed")
        return Signer.from_seed(origin, seed)
    path = Path(data_dir) / KEY_FILE
    if not path.exists() and not create:
        return None
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "w") as f:
                f.write(base64.b64encode(os.urandom(32)).decode())
    return Signer.from_seed(origin, base64.b64decode(path.read_text().strip()))


@dataclass(frozen=True)
class KeptCheckpoint:
    size: int
    root: bytes
    note: str
    issued_at: datetime


def _kept(row: asyncpg.Record | None) -> KeptCheckpoint | None:
    if row is None:
        return None
    return KeptCheckpoint(row["size"], bytes(row["root"]), row["note"], row["issued_at"])


_SELECT = "SELECT size, root, note, issued_at FROM ledger_checkpoints"


class CheckpointLog:
    """Issues, keeps and serves signed checkpoints, inclusion and consistency proofs."""

    def __init__(self, pool: asyncpg.Pool, signer: Signer) -> None:
        self.pool = pool
        self.signer = signer
        self._latest: tuple[KeptCheckpoint, float] | None = None

    @property
    def origin(self) -> str:
        return self.signer.name

    @property
    def verifier(self) -> Verifier:
        return self.signer.verifier

    async def latest(self) -> KeptCheckpoint | None:
        """The largest kept checkpoint, remembered for up to a second: kept checkpoints
        never change, and a proof against one a moment old is as valid."""
        remembered = self._latest
        if remembered is not None and time.monotonic() - remembered[1] < LATEST_TTL_S:
            return remembered[0]
        async with self.pool.acquire() as conn:
            kept = _kept(await conn.fetchrow(f"{_SELECT} ORDER BY size DESC LIMIT 1"))
        self._latest = None if kept is None else (kept, time.monotonic())
        return kept

    async def at(self, size: int) -> KeptCheckpoint:
        async with self.pool.acquire() as conn:
            kept = _kept(await conn.fetchrow(f"{_SELECT} WHERE size = $1", size))
        if kept is None:
            raise LedgerError(f"no checkpoint of size {size} was issued")
        return kept

    async def issue(self) -> KeptCheckpoint:
        """Sign the log's head, unless the latest kept checkpoint already covers it."""
        async with self.pool.acquire() as conn:
            head = await tree.catch_up(conn)
            previous = _kept(await conn.fetchrow(f"{_SELECT} ORDER BY size DESC LIMIT 1"))
            if previous is not None and previous.size >= head:
                return previous
            if head == 0:
                raise LedgerError("the log is empty: nothing to sign yet")
            try:
                root = await tree.root(conn, head)
            except ProofError as exc:  # a stored subtree is missing
                raise LedgerInconsistent(f"the stored tree is incomplete: {exc}") from None
            if previous is not None:
                proof = await tree.consistency_proof(conn, previous.size, head)
                try:
                    verify_consistency(previous.size, head, proof, previous.root, root)
                except ProofError as exc:
                    raise LedgerInconsistent(
                        f"the log does not extend checkpoint {previous.size}: {exc}"
                    ) from None
            note = Checkpoint(self.origin, head, root).sign(self.signer)
            row = await conn.fetchrow(
                "INSERT INTO ledger_checkpoints (size, root, note) VALUES ($1, $2, $3) "
                "ON CONFLICT (size) DO NOTHING RETURNING size, root, note, issued_at",
                head, root, note,
            )
            kept = _kept(row) or _kept(await conn.fetchrow(f"{_SELECT} WHERE size = $1", head))
        assert kept is not None
        if kept.root != root:
            raise LedgerInconsistent(f"checkpoint {head} was already signed with another root")
        self._latest = (kept, time.monotonic())
        return kept

    async def current(self, size: int | None = None) -> KeptCheckpoint:
        """The kept checkpoint of that size, or the latest (signing one if none was yet)."""
        if size is not None:
            return await self.at(size)
        kept = await self.latest()
        return kept if kept is not None else await self.issue()

    async def inclusion_proof(self, position: int, size: int | None = None) -> tuple[InclusionProof, bytes]:
        """The tlog-proof of the event at ``position`` and that event's chain hash (its leaf)."""
        checkpoint = await self.current(size)
        if not 1 <= position <= checkpoint.size:
            raise LedgerError(f"position {position} is not in checkpoint {checkpoint.size}")
        async with self.pool.acquire() as conn:
            hashes, leaf = await tree.inclusion_proof_and_leaf(conn, position, checkpoint.size)
        if leaf is None:
            raise LedgerInconsistent(f"the row at position {position} is missing")
        return InclusionProof(position - 1, hashes, checkpoint.note, extra=leaf), leaf

    async def consistency_proof(self, old: int, new: int) -> list[bytes]:
        async with self.pool.acquire() as conn:
            try:
                return await tree.consistency_proof(conn, old, new)
            except ProofError as exc:
                raise LedgerError(f"no consistency proof from size {old} to {new}: {exc}") from None
