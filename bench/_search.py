"""A manager's name search over HTTP: 20,000 people registered into one programme (with
real per-person keys and ciphertext, through the application), then 16 clients searching
fragments of their names through GraphQL, with the result cache off."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time

import httpx
from _common import say
from _http_read import HERE, SECRET, _wait_ready, free_port
from _load import graphql_body, run_load

from program.api.auth import mint_token
from program.application.context import Actor, CommandContext

FIRST = ["Amara", "Ben", "Chloé", "Dmitri", "Eilidh", "Farah", "Gareth", "Hana", "Idris",
         "Joanna", "Kwame", "Lena", "Mateusz", "Niamh", "Oluwaseun", "Priya", "Quentin",
         "Rhiannon", "Siobhán", "Tomasz", "Uma", "Viktor", "Wen", "Yusuf", "Zoë"]
LAST = ["Ahmed", "Brennan", "Castillo", "Davies", "Eriksson", "Fitzgerald", "González",
        "Hughes", "Ivanova", "Jones", "Kowalczyk", "Lindqvist", "Mbeki", "Nowak", "O'Brien",
        "Patel", "Quinn", "Rossi", "Smith", "Thompson", "Ueda", "Vargas", "Williams", "Xu",
        "Yamamoto", "Zielińska"]
QUERY = """query Find($p: UUID!, $q: String!) {
  participants(programmeId: $p, search: $q, first: 20) {
    edges { node { id name email } } pageInfo { hasNextPage } } }"""


async def seed(url: str, people: int) -> tuple[str, list[str]]:
    from program.bootstrap import open_services
    from program.settings import Settings
    from program.store.database import Database

    services = await open_services(Settings(), database=Database(url=url), run_projections=True)
    rng = random.Random(11)
    names = []
    try:
        app = services.application
        ctx = CommandContext(Actor.system("bench"))
        pid = (await app.create_programme(ctx, "Search", "", None, None, 2))["programme_id"]
        await app.activate_programme(ctx, pid)
        queue = list(range(people))

        async def worker() -> None:
            while queue:
                i = queue.pop()
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}-{i:05d}"
                names.append(name)
                await app.register_participant(ctx, name, f"person{i}@example.org",
                                               programme_id=pid)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(64)))
        say(f"  registered {people:,} people in {time.perf_counter() - started:.1f}s")
        assert await services.projections.wait_for(await services.store.max_position(), 600)
        # What autovacuum would soon do after 20,000 registrations; the run should not
        # measure the minute before it does.
        for table in ("tokens", "programmes", "cohorts"):
            await services.pool.execute(f"VACUUM ANALYZE rm_participant_search.{table}")
    finally:
        await services.close()
    return pid, names


def fragments(names: list[str], rng: random.Random) -> list[str]:
    """What managers type: part of a first name, of a surname, or a few digits."""
    out = []
    for name in rng.sample(names, 2000):
        first, last = name.split(" ", 1)
        choice = rng.random()
        if choice < 0.4:
            out.append(first[: rng.randint(3, len(first))].lower())
        elif choice < 0.8:
            out.append(last[1:6])
        else:
            out.append(f"{first[:3]} {last.split('-')[1][1:]}")
    return out


async def measure(url: str, seconds: float, people: int = 20_000, clients: int = 16
                  ) -> dict[str, float]:
    pid, names = await seed(url, people)
    queries = fragments(names, random.Random(5))
    port = free_port()
    env = {**os.environ, "PROGRAM_DATABASE_URL": url, "PROGRAM_JWT_SECRET": SECRET,
           "PROGRAM_LOG_LEVEL": "WARNING", "PROGRAM_GRAPHQL_CACHE": "0",
           "PROGRAM_RUN_PROJECTIONS": "0", "PROGRAM_POOL_MAX_SIZE": str(clients)}
    server = subprocess.Popen([sys.executable, str(HERE / "_bench_server.py"), str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    token = mint_token(SECRET, role="PROGRAMME_MANAGER", subject="bench-pm", programme_ids=[pid])
    try:
        await _wait_ready(base)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        async with httpx.AsyncClient(base_url=base, headers=headers) as http:
            answer = (await http.post("/graphql", json={"query": QUERY, "variables": {
                "p": pid, "q": names[0].split()[1][:5]}})).json()
        if answer.get("errors") or not answer["data"]["participants"]["edges"]:
            raise RuntimeError(f"search failed: {answer}")
        # The same lean keep-alive clients as the dashboard's load, so the load generator
        # takes as little as it can of the two cores it shares with the server.
        bodies = [graphql_body(QUERY, {"p": pid, "q": q}) for q in queries]
        endpoint = f"{base}/graphql"
        await run_load(endpoint, connections=clients, seconds=1, method="POST", headers=headers,
                       bodies=bodies, check_graphql=True)  # warm-up
        load = await run_load(endpoint, connections=clients, seconds=seconds, method="POST",
                              headers=headers, bodies=bodies, check_graphql=True)
    finally:
        server.terminate()
        server.wait(10)
    if load.errors:
        raise RuntimeError(f"{load.errors} searches failed under load")
    say(f"  {load.requests:,} searches: p50 {load.percentile(50):.1f} ms, "
        f"p99 {load.percentile(99):.1f} ms")
    return {"search_people": people, "search_p50_ms": load.percentile(50),
            "search_p99_ms": load.percentile(99), "search_rps": load.rps}
