"""The ``program`` command line, run as a real process: token, audit verify, db, migrate."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import pytest
import pytest_asyncio

from program.api.auth import decode_token, resolve_secret
from program.application.context import Actor, CommandContext, Role
from program.bootstrap import Services, open_services
from program.cli.main import build_parser
from program.settings import Settings
from program.store.database import Database, create_database, drop_database


def program(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m program ARGS`` with only the PROGRAM_* variables given here."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PROGRAM_")}
    return subprocess.run(
        [sys.executable, "-m", "program", *args],
        env={**clean, **(env or {})}, cwd=cwd, capture_output=True, text=True, timeout=120,
    )


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0, result
    assert result.stdout == ""
    assert lines and "error" in lines[-1], result.stderr
    return lines[-1]


# -- help and entry points ----------------------------------------------------------


def _all_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action.choices.values():
                found.extend(_all_parsers(choice))
    return found


def test_every_command_and_option_has_help() -> None:
    for parser in _all_parsers(build_parser()):
        assert parser.description or parser.prog == "program", parser.prog
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                assert all(choice.help for choice in action._choices_actions), parser.prog
            else:
                assert action.help, f"{parser.prog} {action.option_strings or action.dest}"


def test_console_script_and_module_both_run() -> None:
    script = Path(sys.executable).parent / "program"
    assert script.exists(), "pip install -e . should have installed the console script"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "serve" in result.stdout and "token" in result.stdout
    assert program("audit", "verify", "--help").returncode == 0


def test_unknown_command_is_a_usage_error() -> None:
    result = program("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


# -- token ---------------------------------------------------------------------------


def test_token_round_trips_through_decode_token_with_the_configured_secret(tmp_path: Path) -> None:
    secret = "cli-test-secret-" + "q" * 40
    programmes = [uuid4(), uuid4()]
    facilitator = uuid4()
    result = program(
        "token", "--role", "programme_manager",
        "--programme", str(programmes[0]), "--programme", str(programmes[1]),
        "--facilitator", str(facilitator), "--subject", "pm-7", "--ttl-hours", "2",
        env={"PROGRAM_JWT_SECRET": secret, "PROGRAM_DATA_DIR": str(tmp_path / "data")},
    )
    assert result.returncode == 0, result.stderr
    actor = decode_token(result.stdout.strip(), secret)
    assert actor.subject == "pm-7"
    assert actor.role is Role.PROGRAMME_MANAGER
    assert actor.programme_ids == frozenset(programmes)
    assert actor.facilitator_id == facilitator
    assert not (tmp_path / "data" / "jwt-secret").exists()  # the configured secret wins


def test_token_without_a_configured_secret_uses_the_one_the_server_keeps(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = program("token", "--role", "AUDITOR", env={"PROGRAM_DATA_DIR": str(data)})
    assert result.returncode == 0, result.stderr
    server_secret = resolve_secret(Settings(data_dir=data))  # what `program serve` would use
    actor = decode_token(result.stdout.strip(), server_secret)
    assert actor.role is Role.AUDITOR and actor.subject == "local-auditor"
    again = program("token", "--role", "ADMIN", env={"PROGRAM_DATA_DIR": str(data)})
    assert decode_token(again.stdout.strip(), server_secret).role is Role.ADMIN


def test_token_relative_data_dir_is_relative_to_the_working_directory(tmp_path: Path) -> None:
    result = program("token", "--role", "ADMIN", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    secret = (tmp_path / ".program" / "jwt-secret").read_text().strip()
    assert decode_token(result.stdout.strip(), secret).role is Role.ADMIN


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "SUPERUSER"], "unknown role"),
        ([], "--role"),
        (["--role", "PROGRAMME_MANAGER", "--programme", "programme-one"], "not a programme id"),
        (["--role", "FACILITATOR", "--facilitator", "12"], "not a facilitator id"),
        (["--role", "ADMIN", "--ttl-hours", "-1"], "--ttl-hours"),
        (["--role", "ADMIN", "--ttl-hours", "soon"], "not a number"),
        (["--role", "ADMIN", "--subject", "  "], "--subject"),
        (["--role", "ADMIN", "--subject", "a\tb"], "--subject"),
        (["--role", "ADMIN", "--subject", "s" * 201], "--subject"),
    ],
)
def test_token_when_input_is_bad_one_line_error_and_nothing_written(
    tmp_path: Path, args: list[str], message: str
) -> None:
    data = tmp_path / "data"
    result = program("token", *args, env={"PROGRAM_DATA_DIR": str(data)})
    assert message in _one_line_error(result)
    assert not data.exists()


def test_token_for_a_scoped_role_without_its_scope_says_so(tmp_path: Path) -> None:
    result = program("token", "--role", "FACILITATOR", env={"PROGRAM_JWT_SECRET": "s" * 40})
    assert result.returncode == 0
    assert "--facilitator" in result.stderr
    assert decode_token(result.stdout.strip(), "s" * 40).role is Role.FACILITATOR


# -- audit verify ----------------------------------------------------------------------


@pytest_asyncio.fixture(scope="module")
async def services(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Services]:
    settings = Settings(database_url=db_url, data_dir=tmp_path_factory.mktemp("data"), jwt_secret="x" * 40)
    s = await open_services(settings, database=Database(url=db_url), run_projections=False)
    yield s
    await s.close()


async def _some_history(services: Services) -> int:
    ctx = CommandContext(Actor.system("cli-test"))
    app = services.application
    for n in range(3):
        created = await app.create_programme(ctx, name=f"Programme {n}", description="cli test")
        await app.activate_programme(ctx, created["programme_id"])
    return await services.store.max_position()


async def test_audit_verify_exit_0_when_the_chain_is_intact(services: Services, db_url: str) -> None:
    head = await _some_history(services)
    result = program("audit", "verify", env={"PROGRAM_DATABASE_URL": db_url})
    assert result.returncode == 0, result.stderr
    assert f"{head} events verified" in result.stdout
    report = json.loads(program("audit", "verify", "--json", env={"PROGRAM_DATABASE_URL": db_url}).stdout)
    assert report["ok"] is True and report["checked"] == head and report["last_position"] == head


async def test_audit_verify_exit_1_naming_the_position_when_one_byte_changed(
    services: Services, db_url: str
) -> None:
    head = await _some_history(services)
    victim = head - 2
    flip = "UPDATE stored_events SET state = set_byte(state, 0, get_byte(state, 0) # 1) WHERE notification_id = $1"
    async with services.pool.acquire() as conn:
        await conn.execute(flip, victim)
    try:
        result = program("audit", "verify", env={"PROGRAM_DATABASE_URL": db_url})
        assert result.returncode == 1
        assert f"position {victim}" in result.stdout
        report = json.loads(
            program("audit", "verify", "--json", env={"PROGRAM_DATABASE_URL": db_url}).stdout
        )
        assert report["ok"] is False and report["broken_at"] == victim
        assert report["checked"] == victim - 1
    finally:
        async with services.pool.acquire() as conn:
            await conn.execute(flip, victim)  # the same flip again restores the byte
    assert program("audit", "verify", env={"PROGRAM_DATABASE_URL": db_url}).returncode == 0


# -- db status / migrate ------------------------------------------------------------------


async def test_db_status_and_migrate_on_a_fresh_database(server_url: str, db_url: str) -> None:
    fresh = await create_database(server_url, f"t{os.getpid()}_cli_fresh")
    try:
        _status_and_migrate({"PROGRAM_DATABASE_URL": fresh})
    finally:
        await drop_database(server_url, f"t{os.getpid()}_cli_fresh")


def _status_and_migrate(env: dict[str, str]) -> None:
    behind = program("db", "status", env=env)
    assert behind.returncode == 1
    assert "behind" in behind.stdout and "not created yet" in behind.stdout
    migrated = program("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert "schema version 0 ->" in migrated.stdout
    assert "already at version" in program("migrate", env=env).stdout
    current = program("db", "status", env=env)
    assert current.returncode == 0 and "(current)" in current.stdout
    assert program("audit", "verify", env=env).returncode == 0


def test_db_status_reports_an_unreachable_database_in_one_line() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = program("db", "status", env={"PROGRAM_DATABASE_URL": f"postgresql://u:hunter2@127.0.0.1:{port}/x"})
    line = _one_line_error(result)
    assert result.returncode == 1
    assert "cannot reach the database" in line
    assert "hunter2" not in result.stderr


def test_a_malformed_setting_is_a_one_line_error() -> None:
    result = program("serve", env={"PROGRAM_PORT": "eighty"})
    assert "PROGRAM_" in _one_line_error(result)
    result = program("serve", "--port", "99999")
    assert "port" in _one_line_error(result)
