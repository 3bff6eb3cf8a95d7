"""Offline verifiers of the transparency log: files and a public key, no database.

``verify-proof``, ``verify-consistency`` and ``verify-checkpoint`` check what a log
handed out; ``monitor`` follows a running log over HTTP and refuses to move on from
the last checkpoint it verified without a valid consistency proof.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from program.transparency.checkpoint import Checkpoint, InclusionProof
from program.transparency.merkle import ProofError, verify_consistency
from program.transparency.note import NoteError, Verifier, b64, b64decode

_KEY_HELP = "the log's verifier key (name+id+key, as GET /ledger/key prints), or a file holding it"


def add_commands(audit_sub: Any) -> None:
    proof = audit_sub.add_parser(
        "verify-proof",
        help="check a c2sp.org/tlog-proof@v1 file offline",
        description="Check that an event is in the log: the proof file's checkpoint is "
        "signed by KEY and its inclusion proof leads from the event's leaf to the "
        "checkpoint's root. Give the event's chain hash (the auditTrail's `hash`) with "
        "--leaf; without it the proof's own, untrusted `extra` line is used and printed "
        "for you to compare. Exit 0 when it holds, 1 with the reason when not.",
    )
    proof.add_argument("file", type=Path, help="the proof file (GET /ledger/proof/POSITION)")
    proof.add_argument("--key", required=True, help=_KEY_HELP)
    proof.add_argument("--leaf", help="the event's chain hash, base64 or hex (32 bytes)")
    proof.add_argument("--origin", help="the log origin to expect (default: the key's name)")
    proof.set_defaults(handler=verify_proof_command)

    consistency = audit_sub.add_parser(
        "verify-consistency",
        help="check offline that one checkpoint extends another",
        description="Check that the log of checkpoint NEW only grew from checkpoint OLD: "
        "both are signed by KEY and the consistency proof (GET /ledger/consistency?"
        "from=M&to=N) links their roots. Exit 0 when it holds, 1 with the reason when not.",
    )
    consistency.add_argument("old", type=Path, help="the older signed checkpoint file")
    consistency.add_argument("new", type=Path, help="the newer signed checkpoint file")
    consistency.add_argument("--proof", type=Path, required=True,
                             help="the consistency proof file, one base64 hash a line")
    consistency.add_argument("--key", required=True, help=_KEY_HELP)
    consistency.set_defaults(handler=verify_consistency_command)

    checkpoint = audit_sub.add_parser(
        "verify-checkpoint",
        help="check a signed checkpoint offline and print its size and root",
        description="Check a checkpoint's signature against KEY and print its size and root.",
    )
    checkpoint.add_argument("file", type=Path, help="the signed checkpoint file")
    checkpoint.add_argument("--key", required=True, help=_KEY_HELP)
    checkpoint.set_defaults(handler=verify_checkpoint_command)

    monitor = audit_sub.add_parser(
        "monitor",
        help="follow a running log and refuse any checkpoint that does not extend the last one",
        description="Fetch the log's latest checkpoint over HTTP, verify its signature and "
        "a consistency proof from the last checkpoint this monitor verified (kept in "
        "--state), and only then remember it. Exit 1 the moment the log fails a check; "
        "the state keeps the last good checkpoint.",
    )
    monitor.add_argument("--url", required=True, help="the program's base URL, e.g. http://127.0.0.1:8000")
    monitor.add_argument("--token", required=True, help="an AUDITOR or ADMIN bearer token")
    monitor.add_argument("--key", required=True, help=_KEY_HELP)
    monitor.add_argument("--state", type=Path, required=True, help="file keeping the last verified checkpoint")
    monitor.add_argument("--interval", type=float, default=60.0, help="seconds between checks (default 60)")
    monitor.add_argument("--once", action="store_true", help="check once and exit")
    monitor.set_defaults(handler=monitor_command)


def _fail(message: str) -> int:
    print(f"FAILED: {message}", file=sys.stderr)
    return 1


def parse_key(value: str) -> Verifier:
    from program.cli.common import CliError

    path = Path(value)
    text = path.read_text().strip() if path.is_file() else value
    try:
        return Verifier.parse(text)
    except NoteError as exc:
        raise CliError(f"--key: {exc}") from None


def _read(path: Path) -> str:
    from program.cli.common import CliError

    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {path}: {exc}") from None


def _leaf(value: str) -> bytes:
    from program.cli.common import CliError

    try:
        raw = bytes.fromhex(value) if len(value) == 64 else b64decode(value, "--leaf")
    except (ValueError, NoteError):
        raise CliError("--leaf must be a 32-byte hash in hex or base64") from None
    if len(raw) != 32:
        raise CliError("--leaf must be a 32-byte hash in hex or base64")
    return raw


def verify_proof_command(args: argparse.Namespace) -> int:
    verifier = parse_key(args.key)
    try:
        proof = InclusionProof.parse(_read(args.file))
        leaf = _leaf(args.leaf) if args.leaf else proof.extra
        if leaf is None:
            return _fail("the proof has no extra line: give the event's hash with --leaf")
        checkpoint = proof.verify(verifier, leaf, args.origin)
    except NoteError as exc:
        return _fail(str(exc))
    print(json.dumps({
        "ok": True, "position": proof.index + 1, "index": proof.index, "leaf": b64(leaf),
        "leaf_from": "--leaf" if args.leaf else "extra line (compare it with the event's hash)",
        "checkpoint": {"origin": checkpoint.origin, "size": checkpoint.size, "root": b64(checkpoint.root)},
    }))
    return 0


def _proof_lines(text: str) -> list[bytes]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [b64decode(line, "a proof hash") for line in lines]


def verify_consistency_command(args: argparse.Namespace) -> int:
    verifier = parse_key(args.key)
    try:
        old = Checkpoint.open(_read(args.old), verifier)
        new = Checkpoint.open(_read(args.new), verifier)
        verify_consistency(old.size, new.size, _proof_lines(_read(args.proof)), old.root, new.root)
    except (NoteError, ProofError) as exc:
        return _fail(str(exc))
    print(json.dumps({"ok": True, "old_size": old.size, "new_size": new.size}))
    return 0


def verify_checkpoint_command(args: argparse.Namespace) -> int:
    try:
        checkpoint = Checkpoint.open(_read(args.file), parse_key(args.key))
    except NoteError as exc:
        return _fail(str(exc))
    print(json.dumps({"ok": True, "origin": checkpoint.origin, "size": checkpoint.size,
                      "root": b64(checkpoint.root)}))
    return 0


def monitor_command(args: argparse.Namespace) -> int:
    import httpx

    verifier = parse_key(args.key)
    headers = {"Authorization": f"Bearer {args.token}"}
    with httpx.Client(base_url=args.url, headers=headers, timeout=30, follow_redirects=False) as http:
        while True:
            try:
                message = _monitor_once(http, verifier, args.state)
            except (NoteError, ProofError) as exc:
                return _fail(f"the log failed a check; {args.state} keeps the last good checkpoint: {exc}")
            except httpx.HTTPError as exc:
                print(f"monitor: cannot reach the log: {exc}", file=sys.stderr)
                message = None
                if args.once:
                    return 2
            if message:
                print(message, flush=True)
            if args.once:
                return 0
            time.sleep(args.interval)


def _get(http: Any, path: str, **params: Any) -> str:
    response = http.get(path, params=params)
    if response.status_code != 200:
        raise NoteError(f"GET {path} answered {response.status_code}: {response.text[:200]}")
    return str(response.text)


def _monitor_once(http: Any, verifier: Verifier, state: Path) -> str:
    note = _get(http, "/ledger/checkpoint")
    new = Checkpoint.open(note, verifier)
    if not state.exists():
        _save(state, note)
        return f"trusting first checkpoint: size {new.size}"
    old = Checkpoint.open(state.read_text(), verifier)
    if new.size < old.size:
        raise ProofError(f"the log shrank from {old.size} to {new.size}")
    if new.size == old.size:
        if new.root != old.root:
            raise ProofError(f"two roots signed for size {new.size}")
        return ""
    proof = _proof_lines(_get(http, "/ledger/consistency", **{"from": old.size, "to": new.size}))
    verify_consistency(old.size, new.size, proof, old.root, new.root)
    _save(state, note)
    return f"verified: {old.size} -> {new.size}"


def _save(state: Path, note: str) -> None:
    tmp = state.with_suffix(state.suffix + ".tmp")
    tmp.write_text(note)
    tmp.replace(state)


__all__ = ["add_commands", "parse_key"]
