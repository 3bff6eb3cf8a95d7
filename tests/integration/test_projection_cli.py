"""``program projections run | status | rebuild`` against the real database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from program.bootstrap import Services, open_services
from program.cli.common import CliError
from program.cli.main import build_parser
from program.projections.registry import names
from program.settings import Settings
from program.store.database import Database
from test_projection_support import admin


def factory(db_url: str, opened: list[Services]) -> Any:
    """An ``open_services_cm`` for the test database that remembers what it opened."""

    @asynccontextmanager
    async def open_services_cm(settings: Settings | None = None, *, run_projections: bool = False
                               ) -> AsyncIterator[Services]:
        services = await open_services(settings or Settings(), database=Database(url=db_url),
                                       run_projections=run_projections)
        opened.append(services)
        try:
            yield services
        finally:
            await services.close()

    return open_services_cm


def parse(*argv: str) -> Any:
    return build_parser().parse_args(["projections", *argv])


async def some_history(services: Services) -> int:
    result = await services.application.create_programme(admin(), "CLI group", "", None, [], 2)
    await services.application.activate_programme(admin(), result["programme_id"])
    return await services.store.max_position()


async def test_run_projects_until_told_to_stop(db_url: str) -> None:
    from program.cli.projections import run_command

    opened: list[Services] = []
    stop = asyncio.Event()
    args = parse("run", "audit_trail", "cohort_dashboard")
    task = asyncio.create_task(run_command(args, factory(db_url, opened), stop))
    while not opened or opened[0].projections is None:
        await asyncio.sleep(0)
    services = opened[0]
    head = await some_history(services)
    runner = services.projections
    assert runner.running == ["audit_trail", "cohort_dashboard"]
    assert await runner.wait_for(head, timeout=10, names=runner.running)
    stop.set()
    assert await task == 0


async def test_status_prints_every_read_model(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from program.cli.projections import status_command

    opened: list[Services] = []
    assert await status_command(parse("status", "--json"), factory(db_url, opened)) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == sorted(names())
    assert all(set(r) == {"name", "position", "head", "lag_events", "lag_seconds", "error",
                          "failure"} and r["failure"] is None
               for r in rows)
    assert await status_command(parse("status"), factory(db_url, opened)) == 0
    table = capsys.readouterr().out
    assert all(name in table for name in names()) and "lag seconds" in table


async def test_rebuild_reports_what_it_rebuilt(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from program.cli.projections import rebuild_command

    opened: list[Services] = []
    open_cm = factory(db_url, opened)
    async with open_cm() as services:
        head = await some_history(services)
    assert await rebuild_command(parse("rebuild", "programme_overview", "--no-progress"),
                                 open_cm) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"rebuilt programme_overview from {head:,} events")
    with pytest.raises(CliError, match="unknown read model nope"):
        await rebuild_command(parse("rebuild", "nope"), open_cm)


def test_each_subcommand_has_a_handler_and_help() -> None:
    for argv in (["run"], ["status"], ["rebuild", "audit_trail"],
                 ["skip", "audit_trail", "--reason", "r"], ["retry", "audit_trail", "--reason", "r"]):
        assert callable(parse(*argv).handler)
    with pytest.raises(SystemExit):
        parse("unknown")
