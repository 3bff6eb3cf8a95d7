"""The transparency log over real HTTP: who may read it, the standard formats, and a
monitor that follows it and refuses a log that was rewritten."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from program.application.context import Actor, CommandContext
from program.bootstrap import Services
from program.store import tree
from program.transparency.checkpoint import Checkpoint, InclusionProof
from program.transparency.merkle import verify_consistency
from program.transparency.note import Verifier, b64decode


async def _grow(services: Services, n: int = 2) -> None:
    ctx = CommandContext(Actor.system("ledger-e2e"))
    for i in range(n):
        await services.application.create_programme(ctx, name=f"Ledger programme {i}")


@pytest.mark.parametrize("path", ["/ledger/checkpoint", "/ledger/key", "/ledger/proof/1", "/ledger/consistency?from=1&to=1"])
@pytest.mark.parametrize(("role", "status"), [
    (None, 401), ("PROGRAMME_MANAGER", 403), ("FACILITATOR", 403), ("PARTNER", 403),
    ("AUDITOR", 200), ("ADMIN", 200),
])
async def test_ledger_routes_when_role_is_not_auditor_or_admin_are_refused(
    http: httpx.AsyncClient, services: Services, token: Callable[..., str],
    path: str, role: str | None, status: int,
) -> None:
    await _grow(services, 1)
    headers = {"Authorization": f"Bearer {token(role)}"} if role else {}
    response = await http.get(path, headers=headers)
    assert response.status_code == status, response.text


async def test_proof_and_consistency_over_http_verify_with_the_published_key(
    http: httpx.AsyncClient, services: Services, token: Callable[..., str]
) -> None:
    auth = {"Authorization": f"Bearer {token('AUDITOR')}"}
    await _grow(services)
    verifier = Verifier.parse((await http.get("/ledger/key", headers=auth)).text)
    await services.ledger.issue()
    old = Checkpoint.open((await http.get("/ledger/checkpoint", headers=auth)).text, verifier)
    proof_text = (await http.get(f"/ledger/proof/{old.size}", headers=auth)).text
    proof = InclusionProof.parse(proof_text)
    async with services.pool.acquire() as conn:
        leaf = bytes(await conn.fetchval("SELECT hash FROM stored_events WHERE notification_id = $1", old.size))
    assert proof.verify(verifier, leaf).size == old.size
    await _grow(services)
    await services.ledger.issue()
    new = Checkpoint.open((await http.get("/ledger/checkpoint", headers=auth)).text, verifier)
    lines = (await http.get("/ledger/consistency", params={"from": old.size, "to": new.size}, headers=auth)).text
    verify_consistency(old.size, new.size, [b64decode(x, "h") for x in lines.split()], old.root, new.root)
    kept = await http.get("/ledger/checkpoint", params={"size": old.size}, headers=auth)
    assert Checkpoint.open(kept.text, verifier) == old
    old_proof = await http.get(f"/ledger/proof/{old.size}", params={"size": old.size}, headers=auth)
    assert InclusionProof.parse(old_proof.text).verify(verifier, leaf).size == old.size


@pytest.mark.parametrize("path", [
    "/ledger/checkpoint?size=999999", "/ledger/proof/999999", "/ledger/proof/0",
    "/ledger/consistency?from=0&to=1", "/ledger/consistency?from=1&to=999999",
])
async def test_ledger_routes_when_asked_beyond_the_log_answer_404(
    http: httpx.AsyncClient, services: Services, token: Callable[..., str], path: str
) -> None:
    await services.ledger.issue()
    response = await http.get(path, headers={"Authorization": f"Bearer {token('ADMIN')}"})
    assert response.status_code in (400, 404), response.text


async def test_monitor_follows_the_log_and_refuses_a_rewritten_one(
    base_url: str, http: httpx.AsyncClient, services: Services, token: Callable[..., str], tmp_path: Path
) -> None:
    auth = token("AUDITOR")
    key = (await http.get("/ledger/key", headers={"Authorization": f"Bearer {auth}"})).text.strip()
    state = tmp_path / "monitor-state"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PROGRAM_")}

    async def monitor() -> subprocess.CompletedProcess[str]:
        # Not subprocess.run: the server under test shares this event loop.
        args = ["audit", "monitor", "--url", base_url, "--token", auth, "--key", key,
                "--state", str(state), "--once"]
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "program", *args, env=clean, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        return subprocess.CompletedProcess(args, proc.returncode or 0, out.decode(), err.decode())

    await _grow(services)
    await services.ledger.issue()
    first = await monitor()
    assert first.returncode == 0 and "trusting first" in first.stdout, first.stderr
    await _grow(services)
    await services.ledger.issue()
    second = await monitor()
    assert second.returncode == 0 and "verified" in second.stdout, second.stderr
    good = state.read_text()
    # A log that rewrote its past: same size as before, another root, validly signed.
    async with services.pool.acquire() as conn:
        await conn.execute("DELETE FROM ledger_checkpoints")
        await conn.execute("DELETE FROM ledger_nodes")
        await conn.execute("UPDATE ledger_state SET size = 0")
        await conn.execute(
            "UPDATE stored_events SET hash = set_byte(hash, 0, get_byte(hash, 0) # 1) "
            "WHERE notification_id = 1"
        )
        await tree.catch_up(conn)
    services.store._frontier.forget()  # a rewrite behind the process's back, as a restart would see it
    await _grow(services)
    await services.ledger.issue()
    third = await monitor()
    assert third.returncode == 1 and "failed a check" in third.stderr
    assert state.read_text() == good


async def test_audit_trail_hash_is_the_leaf_its_proof_verifies(
    http: httpx.AsyncClient, services: Services, token: Callable[..., str]
) -> None:
    auth = {"Authorization": f"Bearer {token('AUDITOR')}"}
    await _grow(services, 1)
    head = await services.store.max_position()
    query = ("query($p: Int!) { auditTrail(first: 100, consistentWith: $p) "
             "{ edges { node { position hash } } } }")
    answer = (await http.post("/graphql", json={"query": query, "variables": {"p": head}}, headers=auth)).json()
    nodes = [e["node"] for e in answer["data"]["auditTrail"]["edges"]]
    assert nodes and all(n["hash"] for n in nodes)
    verifier = Verifier.parse((await http.get("/ledger/key", headers=auth)).text)
    await services.ledger.issue()
    entry = nodes[-1]
    proof = InclusionProof.parse((await http.get(f"/ledger/proof/{entry['position']}", headers=auth)).text)
    proof.verify(verifier, b64decode(entry["hash"], "hash"))
