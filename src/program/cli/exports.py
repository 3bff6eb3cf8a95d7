"""``program subject export`` and ``program audit export``: the exports from the command line.

``subject export`` runs as an administrator (``--actor``, default ``operator:<login>``)
and is recorded in the audit trail like the HTTP and GraphQL routes. ``audit export``
streams a dataset to a file (or stdout) with a progress bar on a terminal.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from program.cli.common import CliError


def add_subject_commands(subparsers: Any, open_services_cm: Any) -> None:
    parser = subparsers.add_parser(
        "subject", help="a person's own records (subject access)",
        description="A person's own records (GDPR Art. 15).")
    sub = parser.add_subparsers(dest="subject_command", metavar="SUBJECT_COMMAND", required=True)
    export = sub.add_parser(
        "export", help="export everything held about one person (JSON or HTML)",
        description="Export everything held about one person: personal data (decrypted), "
        "programmes, enrolments and waitlist history, attendance, outcomes, every consent "
        "change with its signed receipt, disclosures, purposes, recipients, retention and "
        "sources. The export is recorded in the audit trail first (Participant.DataExported, "
        "with --actor as who). Runs the projections until the consent history has caught up. "
        "Nothing of it is kept by the program: mind where --output puts it.",
    )
    export.add_argument("participant_id", help="the person's pseudonymous id")
    export.add_argument("--format", choices=("json", "html"), default="json",
                        help="json (default) or a readable html page")
    export.add_argument("--output", "-o", type=Path,
                        help="file to write (mode 600); default: standard output")
    export.add_argument("--actor", default=None, help="who exports, as the audit trail records "
                        "it (default: operator:<login name>)")
    export.set_defaults(handler=lambda args: subject_export_command(args, open_services_cm))


def add_audit_commands(audit_sub: Any, open_services_cm: Any) -> None:
    export = audit_sub.add_parser(
        "export", help="export consent histories, the audit trail or the disclosure log (CSV, JSON Lines)",
        description="Export a dataset as CSV or JSON Lines, filtered like its GraphQL query, "
        "in log order, read through a server-side cursor (constant memory at any size). "
        "consent-changes: every consent change (--participant, --purpose, --since/--until on "
        "when it took effect); audit-trail: every event (--aggregate, --actor, --event-type, "
        "--since/--until on when it was recorded); disclosures: every event disclosed to or "
        "withheld from a partner, with the consent that authorised it (--participant, "
        "--partner, --since/--until). Only what auditors may read: pseudonymous ids, codes, "
        "states, times, hashes; never names, contact details or free text.",
    )
    export.add_argument("dataset", choices=("consent-changes", "audit-trail", "disclosures"),
                        help="consent-changes, audit-trail or disclosures")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv",
                        help="csv (default, with a header row) or jsonl (one JSON object a line)")
    export.add_argument("--output", "-o", type=Path, help="file to write; default: standard output")
    export.add_argument("--participant", help="consent-changes, disclosures: one person's id")
    export.add_argument("--partner", help="disclosures: one partner's id")
    export.add_argument("--purpose", help="consent-changes: one purpose")
    export.add_argument("--aggregate", help="audit-trail: one aggregate's id")
    export.add_argument("--actor", help="audit-trail: one actor (token subject)")
    export.add_argument("--event-type", help="audit-trail: ParticipantEnrolled or Cohort.ParticipantEnrolled")
    export.add_argument("--since", help="ISO 8601 date-time with a time zone (inclusive)")
    export.add_argument("--until", help="ISO 8601 date-time with a time zone (exclusive)")
    export.add_argument("--no-progress", action="store_true", help="no progress bar")
    export.set_defaults(handler=lambda args: audit_export_command(args, open_services_cm))


def _uuid(value: str | None, option: str) -> UUID | None:
    try:
        return None if value is None else UUID(value)
    except ValueError:
        raise CliError(f"{option} must be an id (UUID)") from None


def _moment(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise CliError(f"{option} must be an ISO 8601 date-time") from None
    if at.utcoffset() is None:
        raise CliError(f"{option} must include a time zone")
    return at


def _open(path: Path | None, *, private: bool, binary: bool = False) -> Any:
    if path is None:
        return nullcontext(sys.stdout.buffer if binary else sys.stdout)
    import os

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    return open(fd, "wb" if binary else "w", encoding=None if binary else "utf-8")


async def subject_export_command(args: argparse.Namespace, open_services_cm: Any) -> int:
    from program.cli.maintenance import _context
    from program.exports.subject import ReadModelsBehind, export_subject
    from program.exports.subject_html import render
    from program.store.errors import AggregateNotFound

    pid = _uuid(args.participant_id, "PARTICIPANT_ID")
    async with open_services_cm(run_projections=True) as services:
        try:
            exported = await export_subject(services, _context(args), pid, args.format)
        except AggregateNotFound:
            raise CliError(f"no participant with id {pid}", 1) from None
        except ReadModelsBehind as exc:
            raise CliError(str(exc), 1) from None
    text = (render(exported.document) if args.format == "html"
            else json.dumps(exported.document, indent=2, ensure_ascii=False) + "\n")
    with _open(args.output, private=True) as out:
        out.write(text)
    if args.output is not None:
        print(f"wrote {args.output} (recorded at position {exported.recorded.position})",
              file=sys.stderr)
    return 0


async def audit_export_command(args: argparse.Namespace, open_services_cm: Any) -> int:
    from program.domain.errors import InvalidInput
    from program.domain.values import check_text
    from program.domain import limits
    from program.exports import records

    try:
        f = records.ExportFilter(
            participant_id=_uuid(args.participant, "--participant"),
            purpose=args.purpose and check_text(args.purpose, "--purpose", limits.CODE),
            aggregate_id=_uuid(args.aggregate, "--aggregate"),
            actor=args.actor and check_text(args.actor, "--actor", limits.IDENTITY),
            event_type=args.event_type and check_text(args.event_type, "--event-type",
                                                      limits.CODE),
            since=_moment(args.since, "--since"), until=_moment(args.until, "--until"),
            partner_id=_uuid(args.partner, "--partner"))
    except InvalidInput as exc:
        raise CliError(exc.message) from None
    dataset = records.DATASETS[args.dataset]
    async with open_services_cm(run_projections=False) as services:
        total = await records.count(services.pool, dataset, f)
        with _open(args.output, private=False, binary=True) as out, \
                _Progress(total, args.dataset, enabled=not args.no_progress) as advance:
            async for chunk in records.encoded(services.pool, dataset, f, args.format, advance):
                out.write(chunk)
    if args.output is not None:
        print(f"wrote {total} rows to {args.output}", file=sys.stderr)
    return 0


class _Progress:
    """A rich progress bar on stderr (hidden when stderr is not a terminal)."""

    def __init__(self, total: int, what: str, *, enabled: bool) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        console = Console(file=sys.stderr)
        self.bar = Progress(TextColumn(f"exporting {what}"), BarColumn(), MofNCompleteColumn(),
                            TimeRemainingColumn(), console=console, transient=True,
                            disable=not (enabled and console.is_terminal))
        self.task = self.bar.add_task(what, total=total)

    def __enter__(self) -> Any:
        self.bar.start()
        return lambda done: self.bar.update(self.task, completed=done)

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

