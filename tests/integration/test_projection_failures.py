"""A projection that cannot apply an event never stops silently, and an operator decides.

The failure is injected: a programme overview that raises on programmes named BOOM.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from uuid import UUID

import asyncpg
import httpx
import pytest
from test_projection_cli import factory, parse

from program.api.app import create_app
from program.bootstrap import Services
from program.cli.common import CliError
from program.projections import failures, registry
from program.projections.base import Envelope
from program.projections.audit_trail import audit_trail
from program.projections.programme_overview import get_programmes
from program.projections.programme_overview.projection import ProgrammeOverviewProjection
from program.projections.registry import all_projections
from program.settings import Settings
from test_projection_support import (  # noqa: F401  (fixtures)
    admin,
    app,
    caught_up,
    clock,
    repository,
    running,
)

NAME = "programme_overview"


class FlakyOverview(ProgrammeOverviewProjection):
    """Fails on a programme whose name starts with ``prefix`` while ``broken``."""

    def __init__(self, prefix: str = "BOOM") -> None:
        self.prefix = prefix
        self.broken = True

    async def apply(self, conn: asyncpg.Connection, schema: str, batch: Sequence[Envelope]) -> None:
        for e in batch:
            if self.broken and e.kind == "Programme.Created" and e.event.name.startswith(self.prefix):
                # A message quoting the data, as PostgreSQL's often do.
                raise RuntimeError(f"cannot store '{e.event.name}'")
        await super().apply(conn, schema, batch)


def others() -> list:
    return [p for p in all_projections() if p.name != NAME]


async def programme(app, name: str) -> tuple[UUID, int]:  # noqa: F811
    r = await app.create_programme(admin(), name, "", None, [], 2)
    return UUID(r["programme_id"]), r.position


async def stuck_on(runner, position: int) -> failures.Failure:
    """Wait until the flaky read model has applied everything before ``position`` and
    recorded that it cannot apply ``position``."""
    assert await runner.wait_for(position - 1, timeout=10, names=[NAME])
    assert await runner.wait_until(lambda: NAME in runner.failures, timeout=10)
    return runner.failures[NAME]


async def test_a_failing_event_is_isolated_recorded_shown_backed_off_and_skipped(
    pool, store, repository, db_url, app, caplog  # noqa: F811
):
    before, _ = await programme(app, "Before")
    boom, at = await programme(app, "BOOM Alex Smith")
    after, _ = await programme(app, "After")
    flaky = FlakyOverview()
    caplog.set_level(logging.DEBUG, "program.projections.runner")
    async with running(pool, store, repository, db_url, projections=[*others(), flaky],
                       first_backoff=0.2, max_backoff=30) as runner:
        head = await caught_up(runner, store, names=[p.name for p in others()])  # never blocked
        failure = await stuck_on(runner, at)
        assert (failure.position, failure.event_type) == (at, "Programme.Created")
        assert failure.error_class == "RuntimeError" and "Alex" not in failure.message
        served = await get_programmes(pool, [before, boom, after])
        assert set(served) == {before}  # keeps serving what it has

        attempts = (await failures.read(pool, NAME)).attempts
        await asyncio.sleep(2.5)  # backoff 0.2, 0.4, 0.8, 1.6 s: a handful, not a busy loop
        recorded = await failures.read(pool, NAME)
        assert 2 <= recorded.attempts - attempts <= 5
        assert recorded.first_failed_at == failure.first_failed_at
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1 and "Alex" not in caplog.text  # once per change, no data

        opened: list[Services] = []
        with pytest.raises(CliError, match="not stuck"):
            await _cli(db_url, opened, "skip", "audit_trail", "--reason", "none")
        assert await _cli(db_url, opened, "skip", NAME, "--reason", "bug 412: fixed in 1.3",
                          "--actor", "ops-alice") == 0
        assert await runner.wait_for(head, timeout=5, names=[NAME])  # woken, not backed off
        assert await runner.wait_until(lambda: NAME not in runner.failures, timeout=5)
        assert await failures.read(pool, NAME) is None
        assert set(await get_programmes(pool, [before, boom, after])) == {before, after}

    entries = (await audit_trail(pool, event_type="EventSkipped")).items
    assert [(e.aggregate_type, e.actor) for e in entries] == [("ProjectionMaintenance", "ops-alice")]
    assert entries[0].detail == (f"{NAME} skips position {at} (Programme.Created): "
                                 "bug 412: fixed in 1.3")
    async with running(pool, store, repository, db_url, projections=[*others(), FlakyOverview()]
                       ) as restarted:
        await caught_up(restarted, store)  # the skip holds after a restart, still broken
        assert not restarted.failures


async def test_retry_applies_the_event_once_the_cause_is_fixed(
    pool, store, repository, db_url, app, capsys  # noqa: F811
):
    boom, at = await programme(app, "BOOM again")
    flaky = FlakyOverview()
    opened: list[Services] = []
    async with running(pool, store, repository, db_url, projections=[*others(), flaky],
                       first_backoff=60) as runner:
        await stuck_on(runner, at)
        assert await _cli(db_url, opened, "status", "--json") == 0
        rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
        assert rows[NAME]["failure"]["position"] == at
        assert rows[NAME]["failure"]["event_type"] == "Programme.Created"
        assert rows["audit_trail"]["failure"] is None

        flaky.broken = False  # the fix is deployed
        assert await _cli(db_url, opened, "retry", NAME, "--reason", "fix deployed") == 0
        assert await runner.wait_for(at, timeout=5, names=[NAME])  # long before 60 s
        assert boom in await get_programmes(pool, [boom])
        with pytest.raises(CliError, match="not stuck"):
            await _cli(db_url, opened, "retry", NAME, "--reason", "again")
    entries = (await audit_trail(pool, event_type="RetryRequested")).items
    assert [e.aggregate_type for e in entries] == ["ProjectionMaintenance"]


async def test_ready_and_metrics_show_a_stuck_projection(
    pool, store, repository, db_url, app  # noqa: F811
):
    _, at = await programme(app, "BOOM for ready")
    opened: list[Services] = []
    async with running(pool, store, repository, db_url, projections=[*others(), FlakyOverview()],
                       first_backoff=60) as runner:
        await stuck_on(runner, at)
        async with factory(db_url, opened)() as services:
            api = create_app(Settings(), services)
            api.state.services = services  # what its lifespan does, in this event loop
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api),
                                         base_url="http://api") as client:
                ready = await client.get("/ready")
                metrics = (await client.get("/metrics")).text
    assert ready.status_code == 200, ready.text  # it keeps serving: reported, not taken out of service
    (stuck,) = ready.json()["stuck_projections"]
    assert (stuck["projection"], stuck["position"], stuck["error_class"]) == (NAME, at, "RuntimeError")
    assert f'program_projection_stuck{{projection="{NAME}"}} 1.0' in metrics
    assert 'program_projection_stuck{projection="audit_trail"} 0.0' in metrics
    assert f'program_projection_failure_attempts{{projection="{NAME}"}} 1.0' in metrics


async def test_rebuild_names_the_failing_event_and_honours_a_skip(
    pool, store, repository, db_url, app, monkeypatch, capsys  # noqa: F811
):
    _, at = await programme(app, "BOOM for rebuild")
    monkeypatch.setattr(registry, "all_projections",
                        lambda: [*others(), FlakyOverview("BOOM for rebuild")])
    opened: list[Services] = []
    with pytest.raises(CliError, match=f"cannot apply position {at} \\(Programme.Created\\)") as e:
        await _cli(db_url, opened, "rebuild", NAME, "--no-progress")
    assert e.value.exit_code == 1 and f"skip {NAME} --position {at}" in str(e.value)
    assert await _cli(db_url, opened, "skip", NAME, "--position", str(at), "--reason", "bad") == 0
    assert await _cli(db_url, opened, "rebuild", NAME, "--no-progress") == 0
    assert "rebuilt programme_overview" in capsys.readouterr().out
    with pytest.raises(CliError, match="already applied"):
        await _cli(db_url, opened, "skip", NAME, "--position", str(at), "--reason", "twice")


async def _cli(db_url: str, opened: list[Services], *argv: str) -> int:
    """``program projections …`` as the command line runs it, on the test database."""
    from program.cli import maintenance, projections

    args = parse(*argv)
    handlers = {"skip": maintenance.skip_command, "retry": maintenance.retry_command,
                "status": projections.status_command, "rebuild": projections.rebuild_command}
    return await handlers[args.projections_command](args, factory(db_url, opened))
