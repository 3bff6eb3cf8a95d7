"""``program projections skip | retry``: an operator's decision about a stuck read model.

Each appends a ``ProjectionMaintenance`` event (who, when, which projection and position,
why), so it is in the audit trail and every projector honours it the same way, now,
after a restart and in a rebuild; then a NOTIFY wakes a projector waiting out its
backoff in any process (``program serve`` or ``program projections run``).
"""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Callable
from typing import Any

from program.cli.common import CliError


def add_maintenance_commands(sub: Any, open_services_cm: Callable[..., Any], known: str) -> None:
    skip = sub.add_parser(
        "skip", help="go on without the event a read model cannot apply",
        description="Record that a read model goes on without one event (by default the one "
        "it is stuck on, as `program projections status` shows). The decision is an event in "
        "the audit trail: who (--actor), when, which read model and position, and why "
        "(--reason). Every projector honours it, in this process or another, after a "
        "restart and in a rebuild. A position is skipped once; one already applied cannot be.",
    )
    skip.add_argument("name", metavar="NAME", help=f"the read model ({known})")
    skip.add_argument("--position", type=int, default=None,
                      help="the event's global position (default: where NAME is stuck)")
    _common(skip)
    skip.set_defaults(handler=lambda args: skip_command(args, open_services_cm))

    retry = sub.add_parser(
        "retry", help="try the event a read model is stuck on again, now",
        description="Ask the projector to try the event a read model is stuck on again at "
        "once, instead of at the end of its backoff (after fixing the cause: a missing "
        "extension, a full disk, a deployed fix). Recorded in the audit trail like a skip.",
    )
    retry.add_argument("name", metavar="NAME", help=f"the read model ({known})")
    _common(retry)
    retry.set_defaults(handler=lambda args: retry_command(args, open_services_cm))


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reason", required=True,
                        help="why (kept in the audit trail; no personal data)")
    parser.add_argument("--actor", default=None,
                        help="who decides, as the audit trail records it "
                        "(default: operator:<login name>)")


def _context(args: argparse.Namespace) -> Any:
    from program.application.context import Actor, CommandContext, Role

    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        login = "unknown"
    return CommandContext(Actor(args.actor or f"operator:{login}", Role.ADMIN))


def _name(args: argparse.Namespace) -> str:
    from program.projections.registry import names

    if args.name not in names():
        raise CliError(f"unknown read model {args.name} (known: {', '.join(names())})")
    if not args.reason.strip():
        raise CliError("--reason must say why")
    return str(args.name)


async def skip_command(args: argparse.Namespace, open_services_cm: Callable[..., Any]) -> int:
    """Skip one event of one read model; exit 1 when there is nothing to skip."""
    from program.domain import DomainError
    from program.projections import checkpoint, failures, skips
    from program.projections.base import kind_of
    from program.store.schema import EVENTS_TABLE

    name = _name(args)
    async with open_services_cm(run_projections=False) as services:
        pool = services.pool
        position = args.position
        if position is None:
            stuck = await failures.read(pool, name)
            if stuck is None:
                raise CliError(f"{name} is not stuck; name the event with --position N", 1)
            if stuck.event_type is None:  # e.g. the database was unreachable
                raise CliError(f"{name}'s failure ({stuck.error_class}) was not traced to one "
                               "event; retry it, or name the event with --position N", 1)
            position = stuck.position
        applied = await checkpoint.read(pool, name)
        if position <= applied:
            raise CliError(f"{name} has already applied position {position} (it is at "
                           f"{applied}); only a later event can be skipped", 1)
        topic = await pool.fetchval(
            f"SELECT topic FROM {EVENTS_TABLE} WHERE notification_id = $1", position)
        if topic is None:
            raise CliError(f"there is no event at position {position}", 1)
        try:
            result = await services.application.skip_projection_event(
                _context(args), name, position, kind_of(topic), args.reason.strip())
        except DomainError as exc:
            raise CliError(str(exc), 1) from None
        await skips.announce(pool, name)
    print(f"{name} skips position {position} ({kind_of(topic)}); "
          f"recorded at position {result.position}")
    return 0


async def retry_command(args: argparse.Namespace, open_services_cm: Callable[..., Any]) -> int:
    """Ask the projector to retry the event a read model is stuck on; exit 1 if not stuck."""
    from program.projections import failures, skips

    name = _name(args)
    async with open_services_cm(run_projections=False) as services:
        stuck = await failures.read(services.pool, name)
        if stuck is None:
            raise CliError(f"{name} is not stuck: nothing to retry", 1)
        result = await services.application.request_projection_retry(
            _context(args), name, stuck.position, args.reason.strip())
        await skips.announce(services.pool, name)
    print(f"{name} retries position {stuck.position} ({stuck.event_type or 'unknown'}) now; "
          f"recorded at position {result.position}")
    return 0
