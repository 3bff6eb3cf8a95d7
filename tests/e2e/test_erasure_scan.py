"""Erasure leaves nothing behind (issue 9, item 8).

A participant and a facilitator are put through everything the program does (events,
read models, snapshots, idempotency results, the result cache, a subject-access export,
receipts and auditors' exports), then erased. Every table of every schema the program
writes is scanned, text and bytes alike, for their name, email and phone: none may
remain. The chain, every kept checkpoint and the proofs taken before still verify, and
both aggregates still load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from program.api.graphql import cache
from program.bootstrap import Services
from program.domain.facilitator import Facilitator
from program.domain.participant import Participant
from program.store.ledger import Signed, verify_log
from program.transparency.checkpoint import Checkpoint, InclusionProof
from program.transparency.merkle import verify_consistency
from program.transparency.note import b64decode
from test_graphql_support import KINDS, PURPOSE, Gql, TokenFactory, at, build_world, consent_input, days

PERSON = {"name": "Zephyrine Quillfeather", "email": "zq.unique.4821@example.org",
          "phone": "+44 7700 900482"}
STAFF = {"displayName": "Oberon Marchbanks", "email": "om.unique.7713@example.org",
         "phone": "+44 7700 900913"}
NEEDLES = [*PERSON.values(), *STAFF.values()]


async def _tables(conn: asyncpg.Connection) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Every table the program writes: each schema but PostgreSQL's own."""
    rows = await conn.fetch(
        "SELECT c.table_schema, c.table_name, c.column_name, c.data_type "
        "FROM information_schema.columns c JOIN information_schema.tables t "
        "USING (table_schema, table_name) WHERE t.table_type = 'BASE TABLE' "
        "AND c.table_schema NOT IN ('pg_catalog', 'information_schema') "
        "AND c.table_schema NOT LIKE 'pg_toast%' ORDER BY 1, 2, c.ordinal_position")
    tables: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for r in rows:
        tables.setdefault((r[0], r[1]), []).append((r[2], r[3]))
    return [(s, t, cols) for (s, t), cols in tables.items()]


async def scan(conn: asyncpg.Connection, needles: list[str]) -> list[str]:
    """Where any needle is found: 'schema.table.column: needle', text and bytes alike."""
    found = []
    for schema, table, columns in await _tables(conn):
        for column, data_type in columns:
            name = f'"{schema}"."{table}"."{column}"'
            for needle in needles:
                if data_type == "bytea":
                    sql = (f'SELECT count(*) FROM "{schema}"."{table}" '
                           f'WHERE position($1::bytea IN "{column}") > 0')
                    hits = await conn.fetchval(sql, needle.encode())
                else:
                    sql = (f'SELECT count(*) FROM "{schema}"."{table}" '
                           f'WHERE strpos(lower("{column}"::text), lower($1)) > 0')
                    hits = await conn.fetchval(sql, needle)
                if hits:
                    found.append(f"{name}: {needle}")
    return found


def _in_memory(services: Services, needles: list[str]) -> list[str]:
    """The caches a process keeps: the GraphQL result cache and the aggregate cache."""
    found = []
    for key, entry in cache.results._entries.items():
        found += [f"result cache: {n}" for n in needles if n.encode() in entry.body]
    for aggregate in services.repository._cache.values():
        text = repr(vars(aggregate))
        found += [f"aggregate cache: {n}" for n in needles if n in text]
    return found


def _files(root: Path, needles: list[str]) -> list[str]:
    """Files the program keeps in its data folder (not the database's own files)."""
    found = []
    for path in root.rglob("*"):
        if path.is_file() and "pgdata" not in path.parts:
            data = path.read_bytes()
            found += [f"{path}: {n}" for n in needles if n.encode() in data]
    return found


@pytest.fixture(scope="module")
def admin(http: httpx.AsyncClient, token: TokenFactory) -> Gql:
    return Gql(http, token("ADMIN", subject="admin-erasure"))


async def _everything_about_them(admin: Gql, http: httpx.AsyncClient, token: TokenFactory,
                                 services: Services) -> dict[str, Any]:
    services.repository.snapshot_every = 2  # so both streams get snapshots
    world = await build_world(admin, people=1, name="Erasure")
    fid = (await admin.mutate("registerFacilitator", {
        **STAFF, "maxCohorts": 3, "idempotencyKey": "staff-1"}, "facilitatorId"))["facilitatorId"]
    for kind in KINDS:
        await admin.mutate("recordFacilitatorCredential",
                           {"facilitatorId": fid, "kind": kind, "validUntil": days(300)})
    await admin.mutate("activateFacilitator", {"id": fid})
    await admin.mutate("assignFacilitator", {"cohortId": world.cohort_id, "facilitatorId": fid,
                                             "role": "CO"})
    pid = (await admin.mutate("registerParticipant", {
        "programmeId": world.programme_id, **PERSON, "referralSource": "GP",
        "idempotencyKey": "person-1"}, "participantId"))["participantId"]
    await admin.mutate("giveConsent", {**consent_input(pid), "idempotencyKey": "consent-1"})
    await admin.mutate("enrolParticipant", {"cohortId": world.cohort_id, "participantId": pid})
    await admin.mutate("startCohort", {"id": world.cohort_id})
    session = (await admin.mutate("scheduleSession", {"cohortId": world.cohort_id,
                                                      "startsAt": at(-1)}, "sessionId"))["sessionId"]
    await admin.mutate("recordAttendance", {"cohortId": world.cohort_id, "sessionId": session,
                                            "participantId": pid, "status": "PRESENT"})
    head = (await admin.mutate("recordOutcome", {
        "participantId": pid, "cohortId": world.cohort_id, "measure": "HHI",
        "timepoint": "BASELINE", "score": 30}))["position"]
    # Reads that fill the result cache and the aggregate cache with what they show.
    seen = await admin.data(
        "query($p: UUID!, $f: UUID!, $at: Int!) { participant(id: $p, consistentWith: $at) "
        "{ name email phone } facilitator(id: $f) { displayName email phone } }",
        {"p": pid, "f": fid, "at": head})
    assert seen["participant"]["name"] == PERSON["name"]
    assert seen["facilitator"]["displayName"] == STAFF["displayName"]
    export = await admin.data("mutation($i: ParticipantIdInput!) { exportSubjectData(input: $i) "
                              "{ document } }", {"i": {"id": pid, "idempotencyKey": "sar-1"}})
    assert export["exportSubjectData"]["document"]["person"]["personalData"]["name"] == PERSON["name"]
    auditor = {"Authorization": f"Bearer {token('AUDITOR')}"}
    for dataset in ("consent-changes", "audit-trail"):
        assert (await http.get(f"/exports/{dataset}", headers=auditor)).status_code == 200
    await admin.data("query($p: UUID!) { consentReceipt(participantId: $p, purpose: "
                     f'"{PURPOSE}") {{ receiptId }} }}', {"p": pid})
    return {"pid": pid, "fid": fid, "head": head}


async def test_erasing_a_person_and_a_facilitator_leaves_no_plaintext_anywhere(
    admin: Gql, http: httpx.AsyncClient, token: TokenFactory, services: Services
) -> None:
    ids = await _everything_about_them(admin, http, token, services)
    async with services.pool.acquire() as conn:
        before = await scan(conn, NEEDLES)
        snapshots = await conn.fetchval(
            "SELECT count(*) FROM snapshots WHERE originator_id = ANY($1::uuid[])",
            [UUID(ids["pid"]), UUID(ids["fid"])])
        leaf = bytes(await conn.fetchval(
            "SELECT hash FROM stored_events WHERE notification_id = $1", ids["head"]))
    assert before == [], "plaintext was stored before any erasure"
    assert snapshots >= 2
    old = await services.ledger.issue()
    old_proof, _ = await services.ledger.inclusion_proof(ids["head"], old.size)

    await admin.mutate("eraseParticipant", {"id": ids["pid"]})
    last = (await admin.mutate("eraseFacilitator", {"id": ids["fid"]}))["position"]
    after = await admin.data(
        "query($p: UUID!, $f: UUID!, $at: Int!) { participant(id: $p, consistentWith: $at) "
        "{ erased name email phone } facilitator(id: $f, consistentWith: $at) "
        "{ erased displayName email phone } }",
        {"p": ids["pid"], "f": ids["fid"], "at": last})

    assert after["participant"] == {"erased": True, "name": None, "email": None, "phone": None}
    assert after["facilitator"] == {"erased": True, "displayName": None, "email": None,
                                    "phone": None}
    async with services.pool.acquire() as conn:
        assert await scan(conn, NEEDLES) == []
        keys = await conn.fetch("SELECT key FROM personal_data_keys WHERE subject_id = "
                                "ANY($1::uuid[])", [UUID(ids["pid"]), UUID(ids["fid"])])
        assert [k["key"] for k in keys] == [None, None]
    assert _in_memory(services, NEEDLES) == []
    assert _files(services.settings.data_dir, NEEDLES) == []
    export = await http.get(f"/subjects/{ids['pid']}/export",
                            headers={"Authorization": f"Bearer {token('ADMIN')}"})
    assert export.status_code == 200 and export.json()["person"]["personalData"] is None
    assert not any(n in export.text for n in NEEDLES)

    # The chain, every kept checkpoint and the proofs taken before still verify.
    new = await services.ledger.issue()
    async with services.pool.acquire() as conn:
        kept = [Signed(r[0], bytes(r[1]), r[2]) for r in await conn.fetch(
            "SELECT size, root, note FROM ledger_checkpoints ORDER BY size")]
        report = await verify_log(conn, kept, services.ledger.verifier)
    assert report.ok, report
    verifier = services.ledger.verifier
    assert InclusionProof.parse(old_proof.format()).verify(verifier, leaf).size == old.size
    consistency = await services.ledger.consistency_proof(old.size, new.size)
    verify_consistency(old.size, new.size, consistency, old.root, new.root)
    Checkpoint.open(new.note, verifier)
    # The aggregates still load (from their snapshots and the events after them).
    services.repository._cache.clear()
    person = await services.repository.get(UUID(ids["pid"]), Participant)
    staff = await services.repository.get(UUID(ids["fid"]), Facilitator)
    assert person.erased and staff.erased


async def test_scan_finds_plaintext_where_it_is_stored(services: Services) -> None:
    """The scan itself works: text columns and bytes (the event's JSON state) alike."""
    async with services.pool.acquire() as conn:
        await conn.execute("CREATE TABLE IF NOT EXISTS public.scan_probe (t text, b bytea)")
        await conn.execute("INSERT INTO public.scan_probe VALUES ($1, $2)", "x Probe-Text y",
                           json.dumps({"name": "Probe-Bytes"}).encode())
        try:
            found = await scan(conn, ["probe-text", "Probe-Bytes"])
        finally:
            await conn.execute("DROP TABLE public.scan_probe")
    assert found == ['"public"."scan_probe"."t": probe-text', '"public"."scan_probe"."b": Probe-Bytes']


async def test_a_facilitator_registered_before_encryption_loads_and_erasure_clears_the_read_models(
    admin: Gql, services: Services
) -> None:
    """Old Registered events hold the name and email in plaintext: they still load (upcast),
    show as before, and erasure clears every read model and cache; the event row itself
    keeps them, since rewriting it would break the chain (README "Erasure")."""
    from uuid import uuid4

    from program.store.records import NewEvent

    mapper = services.repository.mapper
    fid = uuid4()
    current = mapper.to_stored_event(
        Facilitator.register(fid, "aesgcm1:eA==", 2).collect_events()[0])
    state = mapper.transcoder.decode(current.state)
    del state["personal_data"], state["class_version"]
    state.update(display_name="Legacy Lindqvist", email="legacy.lindqvist@example.org")
    appended = await services.store.append([NewEvent(
        fid, 1, current.topic, mapper.transcoder.encode(state),
        {"actor": "before-encryption", "role": "ADMIN"})])
    query = ("query($f: UUID!, $at: Int!) { facilitator(id: $f, consistentWith: $at) "
             "{ erased displayName email } }")

    shown = await admin.data(query, {"f": str(fid), "at": appended.position})
    assert shown["facilitator"] == {"erased": False, "displayName": "Legacy Lindqvist",
                                    "email": "legacy.lindqvist@example.org"}
    last = (await admin.mutate("eraseFacilitator", {"id": str(fid)}))["position"]
    erased = await admin.data(query, {"f": str(fid), "at": last})

    assert erased["facilitator"] == {"erased": True, "displayName": None, "email": None}
    async with services.pool.acquire() as conn:
        assert await scan(conn, ["Legacy Lindqvist", "legacy.lindqvist@example.org"]) == [
            '"public"."stored_events"."state": Legacy Lindqvist',
            '"public"."stored_events"."state": legacy.lindqvist@example.org']
    services.repository._cache.clear()
    assert (await services.repository.get(fid, Facilitator)).erased
