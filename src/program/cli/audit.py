"""``program audit verify``: check the hash chain over every stored event."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from program.cli.main import connected, load_settings


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
        "--no-progress", action="store_true", help="no progress bar (it is hidden anyway when stderr is not a terminal)"
    )
    verify.set_defaults(handler=verify_command)


async def verify_command(args: argparse.Namespace) -> int:
    from program.store.ledger import ChainReport, verify_chain
    from program.store.schema import EVENTS_TABLE

    async with connected(load_settings()) as (where, conn):
        if not await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", EVENTS_TABLE):
            report = ChainReport(ok=True, checked=0, last_position=0)
        else:
            total = int(await conn.fetchval(f"SELECT count(*) FROM {EVENTS_TABLE}"))
            with _progress(total, enabled=not args.no_progress) as advance:
                report = await verify_chain(conn, progress=advance)
    if args.json:
        print(json.dumps({"database": where, **_as_dict(report)}))
    elif report.ok:
        print(f"chain intact: {report.checked} events verified, head at position {report.last_position}")
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
    }


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
