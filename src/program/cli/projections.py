"""``program projections run | status | rebuild | skip | retry``: the projector and its operations.

Contract with ``program.cli.main``: ``add_commands(subparsers, open_services_cm)`` adds
the ``projections`` command and its subcommands. ``open_services_cm`` is the
async context-manager factory ``open_services_cm(settings=None, *, run_projections=False)``
yielding ``Services``. Each subcommand sets ``handler`` to an ``async def (args) -> int``
(the exit code) that opens the services itself through that factory; unknown read-model
names and a rebuild already under way raise ``CliError``.

- ``run [NAME …]``: apply the read models (default all) until Ctrl-C or SIGTERM. Any
  number of projectors may run: each read model is applied by one at a time (an
  advisory lock), and a waiting projector takes over when the holder stops or dies.
- ``status``: each read model's position against the head, lag in events and seconds.
- ``rebuild [NAME …]``: rebuild from the first event with a progress bar; readers keep
  the old tables until the new ones are swapped in, all at once.
- ``skip NAME [--position N] --reason TEXT`` and ``retry NAME --reason TEXT``: an
  operator's decision about a read model stuck on an event it cannot apply (see
  ``program.cli.maintenance``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Callable
from typing import Any

from program.cli.common import CliError


def add_commands(subparsers: Any, open_services_cm: Callable[..., Any]) -> None:
    from program.projections.rebuild import BATCH
    from program.projections.registry import names

    known = ", ".join(names())
    parser = subparsers.add_parser(
        "projections", help="run, inspect and rebuild the read models",
        description="Run, inspect and rebuild the read models (projections of the event log). "
        f"Read models: {known}.",
    )
    sub = parser.add_subparsers(dest="projections_command", metavar="PROJECTIONS_COMMAND",
                                required=True)

    run = sub.add_parser(
        "run", help="apply the read models until stopped (Ctrl-C or SIGTERM)",
        description="Catch the read models up with the event log, then follow it live, until "
        "Ctrl-C or SIGTERM. Several projectors may run at once: each read model is applied by "
        "one of them at a time, and another takes over when it stops.",
    )
    run.add_argument("names", nargs="*", metavar="NAME",
                     help=f"read models to run (default all: {known})")
    run.set_defaults(handler=lambda args: run_command(args, open_services_cm))

    status = sub.add_parser(
        "status", help="show each read model's position, lag and any event it is stuck on",
        description="Show each read model's position, the head of the log, the lag in "
        "events and in seconds (how long the oldest unapplied event has waited), and, for a "
        "read model that cannot apply an event, that event's position and type, the error, "
        "since when and how many attempts.",
    )
    status.add_argument("--json", action="store_true", help="print one JSON line instead of a table")
    status.set_defaults(handler=lambda args: status_command(args, open_services_cm))

    rebuild = sub.add_parser(
        "rebuild", help="rebuild read models from the first event, with a progress bar",
        description="Rebuild read models from the first event into fresh tables, then swap them "
        "in at once: readers see the old read model until then, never a half-built one. "
        "A projector running elsewhere carries on from the rebuilt position. Events an "
        "operator skipped (`program projections skip`) are skipped again; an event a read "
        "model cannot apply stops the rebuild (exit 1) naming its position and type, and "
        "the live read models stay as they were.",
    )
    rebuild.add_argument("names", nargs="*", metavar="NAME",
                         help=f"read models to rebuild (default all: {known})")
    rebuild.add_argument("--batch-size", type=int, default=BATCH,
                         help=f"events read and applied per batch (default {BATCH})")
    rebuild.add_argument("--no-progress", action="store_true",
                         help="no progress bar (it is hidden anyway when stderr is not a terminal)")
    rebuild.set_defaults(handler=lambda args: rebuild_command(args, open_services_cm))

    from program.cli.maintenance import add_maintenance_commands

    add_maintenance_commands(sub, open_services_cm, known)


def _check_names(wanted: list[str]) -> list[str] | None:
    from program.projections.registry import names

    unknown = [n for n in wanted if n not in names()]
    if unknown:
        raise CliError(f"unknown read model {', '.join(unknown)} (known: {', '.join(names())})")
    return wanted or None


async def run_command(
    args: argparse.Namespace, open_services_cm: Callable[..., Any],
    stop: asyncio.Event | None = None,
) -> int:
    """Run the projections until a signal (or ``stop``, for tests) says to stop."""
    from program.projections.runner import runner_for

    wanted = _check_names(list(args.names))
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    try:
        async with open_services_cm(run_projections=False) as services:
            runner = runner_for(services, run=wanted)
            if services.projections is not None:  # the watcher open_services started
                await services.projections.stop()
            services.projections = runner  # so closing the services stops it too
            await runner.start()
            print(f"projecting {', '.join(runner.running)}; Ctrl-C to stop", file=sys.stderr)
            await stop.wait()
            print("stopping", file=sys.stderr)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
    return 0


async def status_command(args: argparse.Namespace, open_services_cm: Callable[..., Any]) -> int:
    from program.projections import projection_status

    async with open_services_cm(run_projections=False) as services:
        rows = await projection_status(services.pool)
    if args.json:
        print(json.dumps([
            {"name": r.name, "position": r.position, "head": r.head, "lag_events": r.lag_events,
             "lag_seconds": round(r.lag_seconds, 3), "error": r.error,
             "failure": r.failure.as_dict() if r.failure else None} for r in rows
        ]))
        return 0
    from rich.console import Console
    from rich.table import Table

    stuck = any(r.failure for r in rows)  # the failure columns only when there is one
    table = Table(title="read models")
    columns = ["name", "position", "head", "lag events", "lag seconds"]
    columns += ["stuck on", "attempts", "error"] if stuck else ["error"]
    for column in columns:
        table.add_column(column, justify="left" if column in ("name", "stuck on", "error")
                         else "right")
    for r in rows:
        f = r.failure
        cells = [r.name, f"{r.position:,}", f"{r.head:,}", f"{r.lag_events:,}",
                 f"{r.lag_seconds:.3f}"]
        if stuck:
            cells += [f"{f.position:,} {f.event_type or ''} since "
                      f"{f.first_failed_at:%Y-%m-%d %H:%M:%S}" if f else "",
                      str(f.attempts) if f else ""]
        table.add_row(*cells, r.error or "")
    Console().print(table)
    if stuck:
        print("a stuck read model keeps serving what it has and retries with backoff; "
              "`program projections retry NAME` or `skip NAME` decide now")
    return 0


async def rebuild_command(args: argparse.Namespace, open_services_cm: Callable[..., Any]) -> int:
    from program.projections.failures import EventFailed
    from program.projections.rebuild import RebuildBusy, rebuild

    wanted = _check_names(list(args.names))
    if args.batch_size < 1:
        raise CliError("--batch-size must be at least 1")
    async with open_services_cm(run_projections=False) as services:
        with _RebuildBar(enabled=not args.no_progress) as bar:
            try:
                result = await rebuild(services.pool, services.store, services.repository,
                                       wanted, bar.update, batch_size=args.batch_size)
            except RebuildBusy as exc:
                raise CliError(f"read model {exc} is being rebuilt by another process", 1) from None
            except EventFailed as exc:
                raise CliError(
                    f"{exc}; the live read models are unchanged. Fix the cause and rebuild "
                    f"again, or go on without that event: program projections skip "
                    f"{exc.projection} --position {exc.position} --reason '…'", 1) from None
    print(f"rebuilt {', '.join(result.names)} from {result.events:,} events in "
          f"{result.seconds:.1f}s ({result.events_per_second:,.0f} events/s)")
    return 0


class _RebuildBar:
    """A rich progress bar on stderr: events applied, rate, time left, and the phase."""

    def __init__(self, *, enabled: bool) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        console = Console(file=sys.stderr)
        self.bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TaskProgressColumn(), TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
            TimeRemainingColumn(), console=console, transient=False,
            disable=not (enabled and console.is_terminal),
        )
        self.task = self.bar.add_task("rebuilding", total=None, rate="")

    def __enter__(self) -> _RebuildBar:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def update(self, p: Any) -> None:
        """Fed with ``RebuildProgress`` reports."""
        description = {"build": "rebuilding", "index": "indexing", "swap": f"swapping {p.name}",
                       "done": "done"}.get(p.phase, p.phase)
        speed = self.bar.tasks[0].speed if self.bar.tasks else None
        self.bar.update(self.task, completed=p.done, total=p.total or 1, description=description,
                        rate=f"{speed:,.0f} events/s" if speed else "")
