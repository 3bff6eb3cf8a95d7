"""``program subject export`` and ``program audit export`` against the embedded PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import stat
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


async def program(*args: str, env: dict[str, str] | None = None
                  ) -> subprocess.CompletedProcess[str]:
    """Not subprocess.run: this process's projector shares the event loop and must go on."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PROGRAM_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "program", *args, env={**clean, **(env or {})},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return subprocess.CompletedProcess(args, proc.returncode or 0, out.decode(), err.decode())


@pytest_asyncio.fixture(scope="module")
async def services(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Services]:
    settings = Settings(database_url=db_url, data_dir=tmp_path_factory.mktemp("data"),
                        jwt_secret="x" * 40)
    s = await open_services(settings, database=Database(url=db_url), run_projections=True)
    yield s
    await s.close()


@pytest.fixture(scope="module")
def env(services: Services, db_url: str) -> dict[str, str]:
    return {"PROGRAM_DATABASE_URL": db_url, "PROGRAM_DATA_DIR": str(services.settings.data_dir)}


@pytest_asyncio.fixture(scope="module")
async def person(services: Services) -> str:
    app, ctx = services.application, CommandContext(Actor.system("cli-exports"))
    programme = (await app.create_programme(ctx, name="CLI exports"))["programme_id"]
    await app.activate_programme(ctx, programme)
    pid = (await app.register_participant(ctx, "Ada Export", "ada@example.org",
                                          programme_id=programme))["participant_id"]
    given = await app.give_consent(ctx, pid, "programme-participation", "n-1", "v1", "consent",
                                   "paper-form", ["evaluator-a"])
    assert await services.projections.wait_for(given.position, 10)
    return str(pid)


@pytest.mark.parametrize("command", [["subject", "export"], ["audit", "export"],
                                     ["audit", "verify-receipt"]])
async def test_export_commands_explain_themselves(command: list[str]) -> None:
    result = await program(*command, "--help")
    assert result.returncode == 0 and "usage: program" in result.stdout


async def test_subject_export_writes_a_private_file_and_is_recorded(
    services: Services, env: dict[str, str], person: str, tmp_path: Path
) -> None:
    out = tmp_path / "ada.json"
    result = await program("subject", "export", person, "--output", str(out), "--actor", "dpo:kim",
                     env=env)

    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    assert document["person"]["personalData"]["name"] == "Ada Export"
    assert [c["state"] for c in document["consents"]] == ["GIVEN"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    async with services.pool.acquire() as conn:
        actor = await conn.fetchval(
            "SELECT metadata->>'actor' FROM stored_events WHERE originator_id = $1::uuid "
            "AND topic LIKE '%Participant.DataExported' ORDER BY notification_id DESC LIMIT 1",
            person)
    assert actor == "dpo:kim"


async def test_subject_export_as_html_prints_a_page(env: dict[str, str], person: str) -> None:
    result = await program("subject", "export", person, "--format", "html", env=env)
    assert result.returncode == 0 and result.stdout.startswith("<!doctype html>")
    assert "Ada Export" in result.stdout


async def test_subject_export_of_an_unknown_person_fails(env: dict[str, str]) -> None:
    result = await program("subject", "export", "00000000-0000-4000-8000-000000000000", env=env)
    assert result.returncode == 1 and "no participant" in result.stderr


async def test_audit_export_writes_csv_and_json_lines_filtered(
    env: dict[str, str], person: str, tmp_path: Path
) -> None:
    csv_file = tmp_path / "trail.csv"
    trail = await program("audit", "export", "audit-trail", "--event-type", "Participant.Registered",
                    "--aggregate", person, "--output", str(csv_file), env=env)
    changes = await program("audit", "export", "consent-changes", "--format", "jsonl",
                      "--participant", person, env=env)

    assert trail.returncode == 0, trail.stderr
    rows = list(csv.DictReader(io.StringIO(csv_file.read_text())))
    assert [(r["aggregate_id"], r["event_type"]) for r in rows] == [(person, "Registered")]
    assert changes.returncode == 0, changes.stderr
    lines = [json.loads(line) for line in changes.stdout.splitlines()]
    assert [(r["participant_id"], r["state"]) for r in lines] == [(person, "GIVEN")]
    assert "Ada" not in changes.stdout and "reason" not in lines[0]


async def test_audit_export_with_a_bad_filter_fails_plainly(env: dict[str, str]) -> None:
    result = await program("audit", "export", "audit-trail", "--since", "yesterday", env=env)
    assert result.returncode == 2 and "--since" in result.stderr


async def test_audit_export_streams_in_chunks_with_flat_memory(services: Services) -> None:
    """50,000 rows (about 8 MB of CSV) pass through a small, fixed amount of Python memory."""
    import tracemalloc

    from program.exports import records

    n = 50_000
    async with services.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO rm_audit_trail.entries (position, recorded_at, aggregate_id, "
            "aggregate_type, event_type, originator_version, actor, role, hash) "
            "SELECT 1000000000 + i, now(), gen_random_uuid(), 'Synthetic', 'Bulk', i, "
            "'bulk-actor', 'ADMIN', sha256(i::text::bytea) FROM generate_series(1, $1) i", n)
    try:
        f = records.ExportFilter(actor="bulk-actor")
        dataset = records.DATASETS["audit-trail"]
        assert await records.count(services.pool, dataset, f) == n
        size, lines, chunks = 0, 0, 0
        tracemalloc.start()
        async for chunk in records.encoded(services.pool, dataset, f, "csv"):
            size, lines, chunks = size + len(chunk), lines + chunk.count(b"\n"), chunks + 1
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        async with services.pool.acquire() as conn:
            await conn.execute("DELETE FROM rm_audit_trail.entries WHERE actor = 'bulk-actor'")
    assert lines == n + 1 and chunks == n // records.CHUNK_ROWS + 1
    assert size > 8_000_000 and peak < size / 4, (size, peak)
