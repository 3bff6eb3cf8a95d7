"""Soak: mixed reads and writes into cohorts that keep filling, round after round.

``--clients`` keep-alive HTTP clients (default 200) against the API in its own process
(``bench/_bench_server.py``, as ``program serve`` runs it, on an embedded PostgreSQL in
a temporary folder). Each request is a cohort-dashboard read (GraphQL over HTTP) or,
with probability ``--write-share`` (default 0.3), the client's next write: register a
person, record their consent, enrol them into one of ``--cohorts`` cohorts of 12 places.
The cohorts fill in the first seconds; after that every enrolment lengthens a waitlist,
so a cost that grows with the size of a cohort shows as falling throughput.

After ``--warmup`` seconds, the load runs without pause for ``--rounds`` rounds of ``--seconds`` each (default
5 x 30 s). After each round: requests per second, read and write p99, and the server
process's resident memory. The last line on stdout is one JSON object:

- ``rounds``: per round ``rps``, ``read_p99_ms``, ``write_p99_ms``, ``rss_mb``, ``writes``,
  and the work each request cost in CPU time, which other load on the machine does not
  inflate as it does wall-clock figures: ``api_cpu_ms`` (the server process) and
  ``db_cpu_ms`` (PostgreSQL's processes) per request;
- ``rps_last_over_first``: the last round's throughput over the first's (target >= 0.9);
- ``rss_growth_mb``: the server's RSS after the last round minus after the first (target <= 20);
- ``errors``: non-200 answers or GraphQL errors (target 0);
- ``enrolled``, ``waitlisted``: the cohorts' sizes at the end, to show how far they grew.

Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402
import psutil  # noqa: E402
from _common import Server, say  # noqa: E402
from _http_read import SECRET, free_port  # noqa: E402
from _load import build_request, graphql_body  # noqa: E402

from program.api.auth import mint_token  # noqa: E402
from program.store.database import create_pool  # noqa: E402
from program.store.schema import migrate  # noqa: E402

HERE = Path(__file__).resolve().parent
PURPOSE = "programme-participation"

# What a manager's dashboard shows: occupancy, the head of the waitlist, facilitators,
# the next session, attendance, absences and outcomes.
DASHBOARD = """
query Dashboard($id: UUID!) {
  cohort(id: $id) {
    id name status capacity enrolledCount waitlistCount placesLeft
    waitlist(first: 10) { participantId place }
    facilitators { facilitatorId role }
    nextSession { id startsAt }
    attendance { rate present recorded }
    consecutiveAbsences { participantId consecutive }
    outcomes { measure baselineCount followUpCount people meanChange suppressed }
  }
}
"""
REGISTER = """
mutation Register($input: RegisterParticipantInput!) {
  registerParticipant(input: $input) { participantId position }
}
"""
CONSENT = """
mutation Consent($input: GiveConsentInput!) { giveConsent(input: $input) { consentId position } }
"""
ENROL = """
mutation Enrol($input: EnrolParticipantInput!) { enrolParticipant(input: $input) { status position } }
"""


def register_input(n: int, programme_id: str) -> dict[str, Any]:
    """The person to register (``programme_id`` is the programme they join)."""
    return {"name": f"Person {n}", "email": f"person{n}@example.org", "programmeId": programme_id}


def consent_input(participant_id: str) -> dict[str, Any]:
    valid_until = (datetime.now(UTC).date() + timedelta(days=365)).isoformat()
    return {"participantId": participant_id, "purpose": PURPOSE, "noticeId": "notice-1",
            "noticeVersion": "v1", "lawfulBasis": "CONSENT", "method": "WEB_FORM",
            "recipients": [], "validUntil": valid_until}


# -- HTTP ------------------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection sending one request at a time."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port, self.headers = host, port, headers
        self.url = f"http://{host}:{port}/graphql"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(build_request(self.url, "POST", self.headers, body))
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


# -- load ------------------------------------------------------------------------------


@dataclass
class Round:
    reads: list[float] = field(default_factory=list)
    writes: list[float] = field(default_factory=list)
    health: list[float] = field(default_factory=list)


@dataclass
class Load:
    programme_id: str
    cohorts: list[str]
    write_share: float
    current: Round = field(default_factory=Round)
    errors: int = 0
    first_errors: list[str] = field(default_factory=list)
    people: int = 0
    stop: bool = False

    def error(self, what: str, status: int, payload: bytes) -> None:
        self.errors += 1
        if len(self.first_errors) < 5:
            self.first_errors.append(f"{what}: {status} {payload[:300]!r}")


async def client(load: Load, conn: Connection, rng: random.Random) -> None:
    """Reads a dashboard, or takes the next step of registering and enrolling a person."""
    person: str | None = None
    consented = False
    try:
        while not load.stop:
            started = time.perf_counter()
            if rng.random() >= load.write_share:
                body = graphql_body(DASHBOARD, {"id": rng.choice(load.cohorts)})
                status, payload = await conn.post(body)
                if status != 200 or b'"errors"' in payload:
                    load.error("dashboard", status, payload)
                load.current.reads.append((time.perf_counter() - started) * 1000)
                continue
            if person is None:
                load.people += 1
                variables = {"input": register_input(load.people, load.programme_id)}
                what, body = "register", graphql_body(REGISTER, variables)
            elif not consented:
                what, body = "consent", graphql_body(CONSENT, {"input": consent_input(person)})
            else:
                variables = {"input": {"cohortId": rng.choice(load.cohorts), "participantId": person}}
                what, body = "enrol", graphql_body(ENROL, variables)
            status, payload = await conn.post(body)
            load.current.writes.append((time.perf_counter() - started) * 1000)
            if status != 200 or b'"errors"' in payload:
                load.error(what, status, payload)
                person, consented = None, False
            elif what == "register":
                person = json.loads(payload)["data"]["registerParticipant"]["participantId"]
            elif what == "consent":
                consented = True
            else:
                person, consented = None, False
    finally:
        conn.close()


async def health_probe(load: Load, base: str) -> None:
    """GET /health ten times a second on its own connection: how long a liveness probe
    waits behind the load (the loop is shared; nothing may hold it)."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        while not load.stop:
            started = time.perf_counter()
            response = await http.get("/health")
            if response.status_code != 200:
                load.error("health", response.status_code, response.content)
            load.current.health.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.1)


def p99(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


# -- setup -----------------------------------------------------------------------------


async def graphql(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    answer = (await http.post("/graphql", json={"query": query, "variables": variables})).json()
    if answer.get("errors"):
        raise RuntimeError(f"setup failed: {answer['errors']}")
    return answer["data"]  # type: ignore[no-any-return]


async def seed(http: httpx.AsyncClient, cohorts: int) -> tuple[str, list[str]]:
    """An active programme with open ENROLLED cohorts of 12 places."""
    data = await graphql(http, "mutation($i: CreateProgrammeInput!) { createProgramme(input: $i) "
                         "{ programmeId } }", {"i": {"name": "Soak", "outcomeMeasures": ["HHI"]}})
    programme_id = data["createProgramme"]["programmeId"]
    await graphql(http, "mutation($i: ProgrammeIdInput!) { activateProgramme(input: $i) "
                  "{ position } }", {"i": {"id": programme_id}})
    ids = []
    for n in range(cohorts):
        plan = {"programmeId": programme_id, "name": f"Group {n}", "format": "ENROLLED",
                "capacity": 12, "startsOn": datetime.now(UTC).date().isoformat(), "venue": "Hall"}
        data = await graphql(http, "mutation($i: PlanCohortInput!) { planCohort(input: $i) "
                             "{ cohortId } }", {"i": plan})
        cohort_id = data["planCohort"]["cohortId"]
        await graphql(http, "mutation($i: CohortIdInput!) { openCohortEnrolment(input: $i) "
                      "{ position } }", {"i": {"id": cohort_id}})
        ids.append(cohort_id)
    return programme_id, ids


async def sizes(http: httpx.AsyncClient, cohorts: list[str]) -> tuple[int, int]:
    enrolled = waitlisted = 0
    for cohort_id in cohorts:
        data = await graphql(http, "query($id: UUID!) { cohort(id: $id) "
                             "{ enrolledCount waitlistCount } }", {"id": cohort_id})
        enrolled += data["cohort"]["enrolledCount"]
        waitlisted += data["cohort"]["waitlistCount"]
    return enrolled, waitlisted


async def wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError("bench server exited during start-up")
            try:
                if (await http.get(f"{base}/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("bench server did not become ready")


# -- main ------------------------------------------------------------------------------


class CpuClock:
    """CPU seconds used so far by the API server and by PostgreSQL's processes."""

    def __init__(self, api: psutil.Process, postmaster_pid: int | None) -> None:
        self.api = api
        self.postmaster = psutil.Process(postmaster_pid) if postmaster_pid else None
        self._db_seen: dict[int, float] = {}

    @staticmethod
    def _used(process: psutil.Process) -> float:
        times = process.cpu_times()
        return times.user + times.system

    def api_seconds(self) -> float:
        return self._used(self.api)

    def db_seconds(self) -> float:
        """Summed over the postmaster and its backends (ones that exited keep their last figure)."""
        if self.postmaster is None:
            return 0.0
        for process in [self.postmaster, *self.postmaster.children(recursive=True)]:
            try:
                self._db_seen[process.pid] = self._used(process)
            except psutil.Error:
                pass
        return sum(self._db_seen.values())


def postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


async def soak(url: str, pgdata: Path, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "PROGRAM_DATABASE_URL": url, "PROGRAM_JWT_SECRET": SECRET,
           "PROGRAM_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen([sys.executable, str(HERE / "_bench_server.py"), str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {mint_token(SECRET, role='ADMIN', subject='soak')}",
               "Content-Type": "application/json"}
    try:
        await wait_ready(base, server)
        process = psutil.Process(server.pid)
        cpu = CpuClock(process, postmaster_pid(pgdata))
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
            programme_id, cohorts = await seed(http, args.cohorts)
            say(f"{args.cohorts} cohorts of 12 places; {args.clients} clients, "
                f"{args.write_share:.0%} writes, {args.rounds} rounds of {args.seconds:.0f} s")
            load = Load(programme_id, cohorts, args.write_share)
            rng = random.Random(args.seed)
            tasks = [
                asyncio.create_task(client(load, Connection("127.0.0.1", port, headers),
                                           random.Random(rng.random())))
                for _ in range(args.clients)
            ]
            tasks.append(asyncio.create_task(health_probe(load, base)))
            rounds = await _rounds(load, process, cpu, args)
            load.stop = True
            await asyncio.gather(*tasks)
            enrolled, waitlisted = await sizes(http, cohorts)
    finally:
        server.terminate()
        server.wait(30)
    for message in load.first_errors:
        say(f"  error: {message}")
    first, last = rounds[0], rounds[-1]
    return {
        "clients": args.clients, "seconds": args.seconds, "write_share": args.write_share,
        "rounds": rounds,
        "rps_last_over_first": round(last["rps"] / first["rps"], 3),
        "rss_growth_mb": round(last["rss_mb"] - first["rss_mb"], 1),
        "errors": load.errors, "enrolled": enrolled, "waitlisted": waitlisted,
    }


async def _rounds(
    load: Load, process: psutil.Process, cpu: CpuClock, args: argparse.Namespace
) -> list[dict[str, Any]]:
    if args.warmup > 0:
        await asyncio.sleep(args.warmup)
    rounds = []
    for n in range(1, args.rounds + 1):
        load.current = Round()
        started = time.perf_counter()
        api_before, db_before = cpu.api_seconds(), cpu.db_seconds()
        await asyncio.sleep(args.seconds)
        done, elapsed = load.current, time.perf_counter() - started
        requests = max(len(done.reads) + len(done.writes), 1)
        figures = {
            "rps": round(requests / elapsed, 1),
            "read_p99_ms": round(p99(done.reads), 1),
            "write_p99_ms": round(p99(done.writes), 1),
            "health_p99_ms": round(p99(done.health), 1),
            "rss_mb": round(process.memory_info().rss / 2**20, 1),
            "writes": len(done.writes),
            "api_cpu_ms": round((cpu.api_seconds() - api_before) * 1000 / requests, 2),
            "db_cpu_ms": round((cpu.db_seconds() - db_before) * 1000 / requests, 2),
        }
        rounds.append(figures)
        say(f"  round {n}: {figures['rps']:.0f} req/s, read p99 {figures['read_p99_ms']:.0f} ms, "
            f"write p99 {figures['write_p99_ms']:.0f} ms, /health p99 {figures['health_p99_ms']:.0f} ms, server RSS {figures['rss_mb']:.0f} MB, "
            f"CPU/request {figures['api_cpu_ms']:.2f} ms API + {figures['db_cpu_ms']:.2f} ms DB, "
            f"{load.people} people so far, {load.errors} errors")
    return rounds


async def main(args: argparse.Namespace) -> dict[str, Any]:
    server = Server()
    try:
        url = await server.database("soak")
        pool = await create_pool(url, min_size=1, max_size=2)
        async with pool.acquire() as conn:
            await migrate(conn)
        await pool.close()
        return await soak(url, server.embedded.pgdata, args)
    finally:
        server.close()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of load (default 5)")
    parser.add_argument("--seconds", type=float, default=30, help="seconds per round (default 30)")
    parser.add_argument("--clients", type=int, default=200, help="concurrent clients (default 200)")
    parser.add_argument("--cohorts", type=int, default=4, help="cohorts written into (default 4)")
    parser.add_argument("--write-share", type=float, default=0.3,
                        help="share of requests that are writes (default 0.3)")
    parser.add_argument("--warmup", type=float, default=10,
                        help="seconds of load before the first round counts, while the "
                        "clients settle into their mix of reads and queued writes (default 10)")
    parser.add_argument("--seed", type=int, default=6, help="random seed (default 6)")
    args = parser.parse_args()
    if args.rounds < 1 or args.seconds <= 0 or args.clients < 1 or args.cohorts < 1:
        parser.error("--rounds, --seconds, --clients and --cohorts must be positive")
    if not 0 <= args.write_share <= 1:
        parser.error("--write-share is a fraction between 0 and 1")
    return args


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse_args()))), flush=True)
