"""What every ``program`` command shares: its error, its settings, and the ways it
reaches the database (all services, or one plain connection)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import asyncpg

from program.settings import Settings

if TYPE_CHECKING:
    from program.bootstrap import Services

__all__ = ["CliError", "connected", "load_settings", "open_services_cm"]


class CliError(Exception):
    """Bad input or an impossible request: printed as one line, exit non-zero."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def load_settings() -> Settings:
    """The settings from the environment; a malformed value is bad input."""
    try:
        return Settings.from_env()
    except ValueError as exc:
        raise CliError(str(exc)) from None


@asynccontextmanager
async def open_services_cm(
    settings: Settings | None = None, *, run_projections: bool = False, run_feeds: bool = False
) -> AsyncIterator[Services]:
    """Open every service (starting the embedded database if none is configured), close on exit.

    Projections and feeds do not run unless asked: a CLI command runs them when it means to.
    """
    from program.bootstrap import open_services

    services = await open_services(settings or load_settings(), run_projections=run_projections,
                                   run_feeds=run_feeds)
    try:
        yield services
    finally:
        await services.close()


@asynccontextmanager
async def connected(settings: Settings) -> AsyncIterator[tuple[str, asyncpg.Connection]]:
    """One plain connection (no services) and a printable name of where it goes.

    Starts the embedded server when no URL is configured; if a ``serve`` already runs
    on the same data folder the two share it, and it stops only when the last exits.
    """
    from program.store.database import Database, connect

    try:
        database = Database.open(settings.database_url, settings.pgdata)
    except FileNotFoundError as exc:
        raise CliError(f"cannot use data folder {settings.data_dir}: {exc}", 1) from None
    where = (f"embedded PostgreSQL in {settings.pgdata.resolve()}" if database.embedded
             else _redact(database.url))
    try:
        conn = await asyncio.wait_for(connect(database.url), 15)
        try:
            yield where, conn
        finally:
            await conn.close()
    finally:
        database.close()


def _redact(url: str) -> str:
    """The URL without its password, fit to print."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
