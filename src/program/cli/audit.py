"""``program audit …``: the auditors' checks of the event log and its signed checkpoints.

``verify`` and ``checkpoint`` reach the database; the offline verifiers
(``verify-proof``, ``verify-consistency``, ``verify-checkpoint``, ``monitor``) live in
``program.cli.ledger_verify`` and need nothing but files and a public key.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from program.cli.common import connected, load_settings


def add_commands(subparsers: Any, open_services_cm: Any) -> None:
    parser = subparsers.add_parser(
        "audit", help="auditors' checks on the event log", description="Auditors' checks on the event log."
    )
    audit_sub = parser.add_subparsers(dest="audit_command", metavar="AUDIT_COMMAND", required=True)
    verify = audit_sub.add_parser(
        "verify",
        help="recompute the hash chain over every event; exit 1 where it breaks",
        description="Recompute every stored event's hash from its stored bytes and the hash "
        "before it, in log order. Exits 0 when the whole chain is intact and 1 with the "
        "position of the first row that was altered, removed or reordered.",
    )
    verify.add_argument("--json", action="store_true", help="print the report as one JSON line")
    verify.add_argument(
        "--key", help="the log's verifier key (or a file holding it) to check checkpoint "
        "signatures with; default: the key in the data folder, if there is one",
    )
    verify.add_argument(
        "--no-progress", action="store_true", help="no progress bar (it is hidden anyway when stderr is not a terminal)"
    )
    verify.set_defaults(handler=verify_command)
    checkpoint = audit_sub.add_parser(
        "checkpoint",
        help="sign a checkpoint of the log's head now and print it",
        description="Sign a C2SP checkpoint of the log's current head (unless the latest "
        "kept one already covers it), keep it, and print it as a signed note. The log "
        "refuses to sign when it no longer extends the last checkpoint it signed.",
    )
    checkpoint.add_argument("--key", action="store_true", help="print the verifier key instead")
    checkpoint.set_defaults(handler=checkpoint_command)
    from program.cli import exports, ledger_verify, receipt_verify

    ledger_verify.add_commands(audit_sub)
    receipt_verify.add_commands(audit_sub)
    exports.add_audit_commands(audit_sub, open_services_cm)


async def verify_command(args: argparse.Namespace) -> int:
    from program.store.checkpoints import load_signer
    from program.store.ledger import ChainReport, Signed, verify_log
    from program.store.schema import EVENTS_TABLE

    settings = load_settings()
    if args.key:
        from program.cli.ledger_verify import parse_key

        verifier = parse_key(args.key)
    else:
        signer = load_signer(settings.ledger_origin, settings.data_dir, settings.ledger_key, create=False)
        verifier = signer.verifier if signer is not None else None
    async with connected(settings) as (where, conn):
        if not await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", EVENTS_TABLE):
            report = ChainReport(ok=True, checked=0, last_position=0)
        else:
            kept = [Signed(r[0], bytes(r[1]), r[2]) for r in await conn.fetch(
                "SELECT size, root, note FROM ledger_checkpoints ORDER BY size")]
            total = int(await conn.fetchval(f"SELECT count(*) FROM {EVENTS_TABLE}"))
            with _progress(total, enabled=not args.no_progress) as advance:
                report = await verify_log(conn, kept, verifier, progress=advance)
    if args.json:
        print(json.dumps({"database": where, **_as_dict(report)}))
    elif report.ok:
        print(f"chain intact: {report.checked} events verified, head at position "
              f"{report.last_position}; {report.checkpoints} signed checkpoints match")
    else:
        print(
            f"chain BROKEN at position {report.broken_at}: {report.reason} "
            f"({report.checked} events before it verified)"
        )
    return 0 if report.ok else 1


def _as_dict(report: Any) -> dict[str, Any]:
    return {
        "ok": report.ok, "checked": report.checked, "last_position": report.last_position,
        "broken_at": report.broken_at, "reason": report.reason,
        "checkpoints": report.checkpoints,
    }


async def checkpoint_command(args: argparse.Namespace) -> int:
    from program.cli.common import CliError, open_services_cm
    from program.store.checkpoints import LedgerError, LedgerInconsistent

    async with open_services_cm() as services:
        if args.key:
            print(services.ledger.verifier)
            return 0
        try:
            kept = await services.ledger.issue()
        except LedgerError as exc:
            raise CliError(str(exc), 1) from None
        except LedgerInconsistent as exc:
            raise CliError(f"NOT SIGNED: {exc}", 1) from None
    sys.stdout.write(kept.note)
    return 0


class _progress:
    """A rich progress bar on stderr, fed with the count of rows checked so far."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        console = Console(file=sys.stderr)
        self.bar = Progress(
            TextColumn("verifying chain"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=console, transient=True, disable=not (enabled and console.is_terminal),
        )
        self.task = self.bar.add_task("verify", total=total)

    def __enter__(self) -> Any:
        self.bar.start()
        return lambda checked: self.bar.update(self.task, completed=checked)

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()
