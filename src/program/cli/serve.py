"""``program serve``: the API over HTTP, on the embedded database unless one is configured."""

from __future__ import annotations

import argparse
import logging
import signal
import socket
from typing import Any

from program.cli.common import CliError, load_settings


def add_commands(subparsers: Any, open_services_cm: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the API (starts the embedded database when none is configured)",
        description="Serve the API over HTTP: /graphql, /health, /ready, /metrics. With "
        "PROGRAM_DATABASE_URL unset it starts a private PostgreSQL in PROGRAM_DATA_DIR and "
        "stops it on exit. Projections run in this process unless PROGRAM_RUN_PROJECTIONS=0. "
        "Stops cleanly on Ctrl-C or SIGTERM.",
    )
    parser.add_argument("--host", help="address to listen on (default: PROGRAM_HOST or 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, help="TCP port to listen on (default: PROGRAM_PORT or 8000)"
    )
    parser.set_defaults(handler=run)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0-65535)")
    return port


def _listen(host: str, port: int) -> socket.socket:
    """Bind before anything starts, so a busy port fails fast and says so."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except (OSError, UnicodeError) as exc:
        raise CliError(f"cannot listen on {host}:{port}: {exc}", 1) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", 1) from None
    sock.set_inheritable(True)
    return sock


class _Stopped(Exception):
    """A stop signal arrived after the server had already shut down gracefully."""


def _stopped(_sig: int, _frame: Any) -> None:
    raise _Stopped


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C or SIGTERM; the lifespan closes services and the embedded server."""
    import uvicorn

    from program.api.app import create_app

    settings = load_settings()
    changes: dict[str, Any] = {}
    if args.host:
        changes["host"] = args.host
    if args.port is not None:
        changes["port"] = args.port
    settings = settings.with_(**changes) if changes else settings
    sock = _listen(settings.host, settings.port)
    try:
        app = create_app(settings)
    except (OSError, ValueError) as exc:  # an unwritable data folder, a bad log level
        raise CliError(f"cannot start: {exc}", 1) from None
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            lifespan="on",
            log_config=None,  # keep the structured logging create_app set up
            access_log=False,  # our middleware logs each request with its id
            proxy_headers=True,
            server_header=False,
            timeout_graceful_shutdown=10,
        )
    )
    # uvicorn re-raises the stop signal once it has shut down; these handlers turn
    # that into a normal return instead of a death by signal.
    previous = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    scheme_host = f"[{settings.host}]" if ":" in settings.host else settings.host
    logging.getLogger("program.serve").info(
        "listening on http://%s:%d (Ctrl-C to stop)", scheme_host, sock.getsockname()[1]
    )
    stopped = False
    try:
        server.run(sockets=[sock])
    except _Stopped:
        stopped = True
    except SystemExit as exc:  # uvicorn exits when start-up fails (bind, lifespan)
        raise CliError("could not start; see the log above", int(exc.code or 1)) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
    if not server.started and not stopped:
        raise CliError("could not start; see the log above", 1)
    return 0
