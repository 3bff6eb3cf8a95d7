"""The transparency log from the command line: sign, verify the whole log against its
checkpoints, and verify proofs offline in a process with no database settings at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from program.application.context import Actor, CommandContext
from program.bootstrap import Services, open_services
from program.settings import Settings
from program.store.database import Database
from program.transparency.note import b64


def program(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PROGRAM_")}
    return subprocess.run([sys.executable, "-m", "program", *args], env={**clean, **(env or {})},
                          cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest_asyncio.fixture(scope="module")
async def services(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Services]:
    settings = Settings(database_url=db_url, data_dir=tmp_path_factory.mktemp("data"), jwt_secret="x" * 40)
    s = await open_services(settings, database=Database(url=db_url), run_projections=False)
    yield s
    await s.close()


@pytest.fixture(scope="module")
def env(services: Services, db_url: str) -> dict[str, str]:
    return {"PROGRAM_DATABASE_URL": db_url, "PROGRAM_DATA_DIR": str(services.settings.data_dir)}


async def _history(services: Services, n: int = 3) -> int:
    ctx = CommandContext(Actor.system("ledger-test"))
    for i in range(n):
        created = await services.application.create_programme(ctx, name=f"Programme {i}")
        await services.application.activate_programme(ctx, created["programme_id"])
    return await services.store.max_position()


async def test_checkpoint_then_verify_checks_chain_and_every_checkpoint(
    services: Services, env: dict[str, str]
) -> None:
    head = await _history(services)
    signed = program("audit", "checkpoint", env=env)
    assert signed.returncode == 0, signed.stderr
    assert signed.stdout.splitlines()[:2] == [services.settings.ledger_origin, str(head)]
    result = program("audit", "verify", "--json", env=env)
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report["ok"] and report["checkpoints"] == 1


async def test_proofs_verify_offline_without_any_database_setting(
    services: Services, env: dict[str, str], tmp_path: Path
) -> None:
    await _history(services)
    old = await services.ledger.issue()
    proof, leaf = await services.ledger.inclusion_proof(2)
    await _history(services, 2)
    new = await services.ledger.issue()
    key = program("audit", "checkpoint", "--key", env=env).stdout.strip()
    files = {
        "proof": proof.format(), "old": old.note, "new": new.note, "key": key,
        "consistency": "".join(f"{b64(h)}\n" for h in await services.ledger.consistency_proof(old.size, new.size)),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    offline = {"HOME": str(tmp_path)}  # no PROGRAM_* at all, and nothing to find in cwd

    ok = program("audit", "verify-proof", "proof", "--key", "key", "--leaf", leaf.hex(), env=offline, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["position"] == 2
    assert not (tmp_path / ".program").exists()
    wrong_leaf = program("audit", "verify-proof", "proof", "--key", key, "--leaf", "00" * 32, env=offline, cwd=tmp_path)
    assert wrong_leaf.returncode == 1 and "FAILED" in wrong_leaf.stderr
    consistent = program("audit", "verify-consistency", "old", "new", "--proof", "consistency",
                         "--key", key, env=offline, cwd=tmp_path)
    assert consistent.returncode == 0, consistent.stderr
    backwards = program("audit", "verify-consistency", "new", "old", "--proof", "consistency",
                        "--key", key, env=offline, cwd=tmp_path)
    assert backwards.returncode == 1
    other_key = program("audit", "verify-checkpoint", "new", "--key",
                        key.replace(key.split("+")[1], "00000000"), env=offline, cwd=tmp_path)
    assert other_key.returncode == 2  # a malformed key is bad input, not a failed proof


async def test_verify_when_the_last_event_was_deleted_fails(services: Services, env: dict[str, str]) -> None:
    await _history(services)
    kept = await services.ledger.issue()
    async with services.pool.acquire() as conn:
        await conn.execute("DELETE FROM stored_events WHERE notification_id = $1", kept.size)
    result = program("audit", "verify", "--json", env=env)
    report = json.loads(result.stdout)
    assert result.returncode == 1 and report["ok"] is False
    assert "removed" in report["reason"]
