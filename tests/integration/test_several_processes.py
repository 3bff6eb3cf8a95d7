"""Several processes on one database, as ``deploy/compose.yaml`` runs them: two
``program serve`` with ``PROGRAM_RUN_PROJECTIONS=0`` and one ``program projections run``.

Both APIs are driven at once: enrolments race from both sides into one small cohort,
writes on one are read through ``consistentWith`` on the other, and cached answers on
either never outlive the change they depend on. Then the log itself: gap-free, each
command's events once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from program.api.auth import mint_token

SECRET = "several-processes-" + "s" * 40
STARTUP_TIMEOUT = 60
PURPOSE = "programme-participation"
DASHBOARD = """query D($id: UUID!, $p: Int) { cohort(id: $id, consistentWith: $p) {
  id capacity enrolledCount waitlistCount placesLeft enrolled { participantId } } }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(db_url: str, data_dir: Path, **program: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PROGRAM_")}
    return {**clean, "PROGRAM_DATABASE_URL": db_url, "PROGRAM_JWT_SECRET": SECRET,
            "PROGRAM_DATA_DIR": str(data_dir), "PROGRAM_LOG_LEVEL": "WARNING",
            **{f"PROGRAM_{k.upper()}": v for k, v in program.items()}}


@contextmanager
def _process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[str]]:
    with log.open("w") as out:  # a file, not a pipe nobody drains
        process = subprocess.Popen([sys.executable, "-m", "program", *args], env=env,
                                   stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()


def _wait_ready(url: str, process: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited early:\n{log.read_text()}")
        try:
            if httpx.get(url + "/ready", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"not ready:\n{log.read_text()}")


class Api:
    """One API process, as an admin."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self.client = client
        self.url = url
        self.headers = {"authorization": f"Bearer {mint_token(SECRET, role='ADMIN', subject='admin')}"}

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.client.post(self.url + "/graphql", headers=self.headers,
                                          json={"query": query, "variables": variables or {}})
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = await self.post(query, variables)
        assert not body.get("errors"), body
        return body["data"]  # type: ignore[no-any-return]

    async def mutate(self, name: str, type_: str, input: dict[str, Any],
                     fields: str = "position") -> dict[str, Any]:
        """Run a mutation; a CONFLICT (someone else changed the cohort at the same time,
        past the service's own retries) is tried again, as a client would."""
        query = f"mutation M($input: {type_}!) {{ {name}(input: $input) {{ {fields} }} }}"
        for _ in range(20):
            body = await self.post(query, {"input": input})
            errors = body.get("errors") or []
            if errors and errors[0]["extensions"]["code"] == "CONFLICT":
                continue
            assert not errors, body
            return body["data"][name]  # type: ignore[no-any-return]
        raise AssertionError(f"{name} kept conflicting")

    async def dashboard(self, cohort_id: str, position: int | None = None) -> dict[str, Any]:
        return (await self.data(DASHBOARD, {"id": cohort_id, "p": position}))["cohort"]  # type: ignore[no-any-return]

    async def caught_up(self, position: int) -> None:
        """Until this API's watcher has heard the projector apply ``position``."""
        await self.data("query W($p: Int!) { me(consistentWith: $p) { subject } }", {"p": position})


async def _setup(a: Api, b: Api) -> tuple[str, list[str], int]:
    """A cohort of capacity 5, open, and 12 consenting people registered through both APIs."""
    pid = (await a.mutate("createProgramme", "CreateProgrammeInput",
                          {"name": "Shared", "outcomeMeasures": ["HHI"],
                           "minFacilitatorsPerCohort": 2}, "programmeId"))["programmeId"]
    await a.mutate("activateProgramme", "ProgrammeIdInput", {"id": pid})
    cid = (await b.mutate("planCohort", "PlanCohortInput",
                          {"programmeId": pid, "name": "Small", "format": "ENROLLED",
                           "capacity": 5, "startsOn": "2030-01-07", "venue": "Hall"},
                          "cohortId"))["cohortId"]
    position = (await a.mutate("openCohortEnrolment", "CohortIdInput", {"id": cid}))["position"]

    async def person(api: Api, n: int) -> str:
        who = (await api.mutate("registerParticipant", "RegisterParticipantInput",
                                {"programmeId": pid, "name": f"Person {n}"},
                                "participantId"))["participantId"]
        await api.mutate("giveConsent", "GiveConsentInput", {
            "participantId": who, "purpose": PURPOSE, "noticeId": "n-1", "noticeVersion": "v1",
            "lawfulBasis": "CONSENT", "method": "PAPER_FORM", "recipients": [],
            "validUntil": "2031-01-01"})
        return str(who)

    people = await asyncio.gather(*(person(a if n % 2 else b, n) for n in range(12)))
    return cid, list(people), position


async def _drive(a: Api, b: Api, db_url: str) -> None:
    cid, people, _ = await _setup(a, b)
    # Both APIs cached the empty cohort.
    for api in (a, b):
        await api.dashboard(cid)
        await api.dashboard(cid)

    # Twelve enrolments race into five places from both processes at once.
    results = await asyncio.gather(*(
        (a if n % 2 else b).mutate("enrolParticipant", "EnrolParticipantInput",
                                   {"cohortId": cid, "participantId": p})
        for n, p in enumerate(people)))
    last = max(r["position"] for r in results)
    for api in (a, b):
        seen = await api.dashboard(cid, last)  # read-your-writes on either side
        assert (seen["enrolledCount"], seen["waitlistCount"], seen["placesLeft"]) == (5, 7, 0)
        assert len({m["participantId"] for m in seen["enrolled"]}) == 5
        assert await api.dashboard(cid) == seen  # no stale cached answer, either side

    # A write on one API, read on the other: with consistentWith at once, and without it
    # once the watcher heard of it (the cached answer from before must not be served).
    for writer, reader in ((a, b), (b, a)):
        before = await reader.dashboard(cid)
        assert await reader.dashboard(cid) == before  # cached
        capacity = before["capacity"] + 1
        position = (await writer.mutate("changeCohortCapacity", "ChangeCohortCapacityInput",
                                        {"id": cid, "capacity": capacity}))["position"]
        seen = await reader.dashboard(cid, position)
        assert seen["capacity"] == capacity and seen["enrolledCount"] == before["enrolledCount"] + 1
        await writer.caught_up(position)
        await reader.caught_up(position)
        assert (await reader.dashboard(cid))["capacity"] == capacity
        assert (await writer.dashboard(cid))["capacity"] == capacity

    conn = await asyncpg.connect(db_url)
    try:
        head, count, distinct = await conn.fetchrow(
            "SELECT max(notification_id), count(*), count(DISTINCT (originator_id, originator_version))"
            " FROM stored_events")
        assert head == count == distinct  # gap-free from 1, nothing twice
        kinds = await conn.fetch(
            "SELECT topic, count(*) FROM stored_events WHERE originator_id = $1 GROUP BY topic",
            cid)
        by_kind = {r["topic"].rsplit(".", 1)[-1]: r["count"] for r in kinds}
        # Each person's enrolment recorded once, as enrolled or waitlisted (promotions on top).
        assert by_kind.get("ParticipantEnrolled", 0) + by_kind.get("ParticipantWaitlisted", 0) == 12
        assert by_kind.get("ParticipantEnrolled", 0) == 5
    finally:
        await conn.close()


def test_two_apis_and_a_projector_on_one_database(tmp_path: Path, db_url: str) -> None:
    with ExitStack() as stack:
        projector_log = tmp_path / "projector.log"
        projector = stack.enter_context(_process(
            ["projections", "run"], _env(db_url, tmp_path / "p"), projector_log))
        apis = []
        for name in ("a", "b"):
            port, log = _free_port(), tmp_path / f"serve-{name}.log"
            process = stack.enter_context(_process(
                ["serve", "--port", str(port)],
                _env(db_url, tmp_path / name, run_projections="0"), log))
            apis.append((f"http://127.0.0.1:{port}", process, log))
        for url, process, log in apis:
            _wait_ready(url, process, log)
        assert projector.poll() is None, projector_log.read_text()

        async def main() -> None:
            async with httpx.AsyncClient(timeout=30) as client:
                await _drive(Api(client, apis[0][0]), Api(client, apis[1][0]), db_url)

        asyncio.run(main())


async def test_an_aggregate_cached_in_one_process_catches_up_with_another(store: Any) -> None:
    """A command decides on the latest state, whichever process appended it."""
    from program.domain.programme import Programme
    from program.store.mapping import create_mapper
    from program.store.repository import Repository

    here, there = Repository(store, create_mapper()), Repository(store, create_mapper())
    programme = Programme.create("Cached here", "", None, ["HHI"], 2)
    await here.save(programme, metadata={"actor": "test"})  # cached here, as DRAFT
    elsewhere = await there.get(programme.id, Programme)
    elsewhere.activate()
    await there.save(elsewhere, metadata={"actor": "test"})
    assert (await here.get(programme.id, Programme)).status == "ACTIVE"
