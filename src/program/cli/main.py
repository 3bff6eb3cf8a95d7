"""The ``program`` command line: serve, token, audit, db, migrate and projections.

Every command reads its settings from ``PROGRAM_*`` environment variables
(``program.settings.Settings.from_env``). Command modules add their subparsers with
``add_commands(subparsers, open_services_cm)`` and set ``handler`` on them:
``handler(args)`` returns an exit code, or an awaitable of one (run with
``asyncio.run``). A handler reports bad input by raising ``CliError``; ``main`` prints
it as one line on stderr and exits non-zero. What the commands share lives in
``program.cli.common``, so no command module imports this one.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import asyncpg

from program.cli import audit, exports, feeds, projections, serve, token
from program.cli.common import CliError, connected, load_settings, open_services_cm

__all__ = ["CliError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="program",
        description="Event-sourced backend for peer support programmes. "
        "Settings come from PROGRAM_* environment variables (see README).",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true",
        help="log at INFO (commands other than serve log warnings only)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve.add_commands(subparsers, open_services_cm)
    token.add_commands(subparsers, open_services_cm)
    audit.add_commands(subparsers, open_services_cm)
    feeds.add_commands(subparsers, open_services_cm)
    exports.add_subject_commands(subparsers, open_services_cm)
    projections.add_commands(subparsers, open_services_cm)
    _add_db_commands(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``program`` console script."""
    # platformdirs warns on every start when XDG_RUNTIME_DIR is unset (containers, CI);
    # pgserver then falls back to a temporary folder, which is fine.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command != "serve":
            from program.api.observability import configure_logging

            configure_logging(load_settings(), level="INFO" if args.verbose else "WARNING")
        outcome: Any = args.handler(args)
        if inspect.isawaitable(outcome):
            outcome = asyncio.run(_await(outcome))
        return int(outcome or 0)
    except CliError as exc:
        print(f"program {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"program {args.command}: interrupted", file=sys.stderr)
        return 130
    except (OSError, asyncio.TimeoutError) as exc:
        print(f"program {args.command}: error: cannot reach the database: {exc or type(exc).__name__}",
              file=sys.stderr)
        return 1
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        print(f"program {args.command}: error: database: {exc}", file=sys.stderr)
        return 1


async def _await(awaitable: Any) -> Any:
    return await awaitable


# -- db status / migrate -----------------------------------------------------------


def _add_db_commands(subparsers: Any) -> None:
    db = subparsers.add_parser("db", help="inspect the database", description="Inspect the database.")
    db_sub = db.add_subparsers(dest="db_command", metavar="DB_COMMAND", required=True)
    status = db_sub.add_parser(
        "status",
        help="show where the database is, its schema version and the log head",
        description="Show where the database is, its schema version and the log head. "
        "Exits 0 when the schema is current, 1 otherwise.",
    )
    status.set_defaults(handler=_db_status)
    migrate = subparsers.add_parser(
        "migrate",
        help="bring the schema to the current version (idempotent)",
        description="Bring the schema to the current version. Safe to run many times and "
        "from many processes; serve and projections run it too.",
    )
    migrate.set_defaults(handler=_migrate)


async def _db_status(args: argparse.Namespace) -> int:
    from program.store.schema import EVENTS_TABLE, SCHEMA_VERSION, current_version

    settings = load_settings()
    async with connected(settings) as (where, conn):
        version = await current_version(conn)
        server = await conn.fetchval("SHOW server_version")
        head = last = None
        if await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", EVENTS_TABLE):
            row = await conn.fetchrow(
                f"SELECT notification_id, recorded_at FROM {EVENTS_TABLE} "
                "ORDER BY notification_id DESC LIMIT 1"
            )
            head, last = (row[0], row[1]) if row else (0, None)
    state = "current" if version == SCHEMA_VERSION else (
        "behind: run `program migrate`" if version < SCHEMA_VERSION else "ahead of this program"
    )
    print(f"database:   {where} (PostgreSQL {server})")
    print(f"schema:     version {version} of {SCHEMA_VERSION} ({state})")
    if head is None:
        print("event log:  not created yet")
    else:
        print(f"event log:  {head} events" + (f", last at {last.isoformat()}" if last else ""))
    return 0 if version == SCHEMA_VERSION else 1


async def _migrate(args: argparse.Namespace) -> int:
    from program.store.schema import current_version, migrate

    async with connected(load_settings()) as (where, conn):
        before = await current_version(conn)
        after = await migrate(conn)
    print(f"{where}: schema version {before} -> {after}" if after != before
          else f"{where}: schema already at version {after}")
    return 0
