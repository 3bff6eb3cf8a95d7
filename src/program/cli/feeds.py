"""``program feeds run | status``: the feed builder and webhook dispatcher as their own
process, and where every webhook endpoint stands."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
from collections.abc import Callable
from typing import Any


def add_commands(subparsers: Any, open_services_cm: Callable[..., Any]) -> None:
    parser = subparsers.add_parser(
        "feeds", help="run the partner feeds, or show their delivery status",
        description="Partner feeds: build each partner's feed from the event log and deliver "
        "its webhooks (run), or show every endpoint's position, lag, state and last error "
        "(status).")
    sub = parser.add_subparsers(dest="feeds_command", metavar="FEEDS_COMMAND", required=True)
    run = sub.add_parser(
        "run", help="build feeds and deliver webhooks until Ctrl-C or SIGTERM",
        description="Build the partner feeds and deliver webhooks until Ctrl-C or SIGTERM. Any "
        "number may run, here or beside `program serve`: one builds at a time, and each "
        "endpoint is delivered by one at a time; a stopped or killed one is taken over.")
    run.set_defaults(handler=lambda args: _run(args, open_services_cm))
    status = sub.add_parser(
        "status", help="show each webhook endpoint's position, lag, state and last error",
        description="Show each webhook endpoint's position (last acknowledged sequence), lag "
        "behind its partner's feed, state (ENABLED, FAILING, DISABLED, REMOVED), next attempt "
        "and last error, and how far the feed builder has read the log.")
    status.add_argument("--json", action="store_true", help="print one JSON line instead of a table")
    status.set_defaults(handler=lambda args: _status(args, open_services_cm))


async def _run(args: argparse.Namespace, open_services_cm: Callable[..., Any]) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with open_services_cm(run_feeds=True):
        print("feeds: building and delivering (Ctrl-C to stop)", flush=True)
        await stop.wait()
    return 0


async def _status(args: argparse.Namespace, open_services_cm: Callable[..., Any]) -> int:
    from program.feeds import queries

    async with open_services_cm() as services:
        built = await queries.built_position(services.pool)
        head = await services.store.max_position()
        rows = await queries.endpoints(services.pool)
    if args.json:
        print(json.dumps({"builder": {"position": built, "log_head": head},
                          "endpoints": rows}, default=str))
        return 0
    print(f"feed builder: position {built} of {head} (lag {head - built} events)")
    if not rows:
        print("no webhook endpoints")
        return 0
    print(f"{'endpoint':36}  {'state':8}  {'position':>8}  {'lag':>6}  last error")
    for r in rows:
        error = r["last_error"] or r["disabled_reason"] or ""
        print(f"{r['endpoint_id']!s:36}  {r['state']:8}  {r['delivered']:>8}  {r['lag']:>6}  "
              f"{error}")
    return 0
