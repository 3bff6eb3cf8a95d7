"""Consent receipts and the transparency log through GraphQL: receipts verify offline with
the log's key (in a process without any database setting), and a changed field fails."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from program.bootstrap import Services
from program.transparency import receipt as receipts
from program.transparency.checkpoint import Checkpoint, InclusionProof
from program.transparency.merkle import verify_consistency
from program.transparency.note import Verifier, b64decode
from program.transparency.receipt import ReceiptError
from test_graphql_support import PURPOSE, Gql, TokenFactory, build_world, consent_input

NOTICE_TEXT = "We keep your name and contact details to run the group. You may withdraw."
NOTICE_SHA256 = hashlib.sha256(NOTICE_TEXT.encode()).hexdigest()
RECEIPT = """query R($p: UUID!, $purpose: String!, $at: Int) {
  consentReceipt(participantId: $p, purpose: $purpose, position: $at) {
    receiptId position state jws receipt document } }"""


@pytest.fixture(scope="module")
def admin(http: httpx.AsyncClient, token: TokenFactory) -> Gql:
    return Gql(http, token("ADMIN", subject="admin-receipts"))


@pytest.fixture(scope="module")
async def person(admin: Gql) -> dict[str, Any]:
    """A person who consented (with the notice's digest), then withdrew."""
    world = await build_world(admin, people=0, name="Receipts")
    pid = (await admin.mutate("registerParticipant", {
        "programmeId": world.programme_id, "name": "Robin", "email": "robin@example.org"},
        "participantId"))["participantId"]
    given = (await admin.mutate("giveConsent", {
        **consent_input(pid), "noticeHash": NOTICE_SHA256.upper()}))["position"]
    withdrawn = (await admin.mutate("withdrawConsent", {
        "participantId": pid, "purpose": PURPOSE, "method": "PHONE"}))["position"]
    return {"pid": pid, "programme": world.programme_id, "given": given, "withdrawn": withdrawn}


async def _key(admin: Gql) -> Verifier:
    return Verifier.parse((await admin.data("{ ledgerKey }"))["ledgerKey"])


async def test_consent_receipt_when_given_verifies_with_the_logs_key(
    admin: Gql, person: dict[str, Any]
) -> None:
    answer = (await admin.data(RECEIPT, {"p": person["pid"], "purpose": PURPOSE,
                                         "at": person["given"]}))["consentReceipt"]

    receipt = receipts.verify(answer["document"], await _key(admin))
    assert answer["state"] == "GIVEN" and answer["position"] == person["given"]
    assert receipt["piiPrincipalId"] == person["pid"]
    assert receipt["notice"] == {"id": "notice-1", "version": "v1", "language": "en",
                                 "hash": {"alg": "sha-256", "value": NOTICE_SHA256}}
    assert receipt["purposes"] == [PURPOSE] and receipt["lawfulBasis"] == "consent"
    assert receipt["recipients"] == ["evaluator-a"] and receipt["state"] == "GIVEN"
    assert receipt["event"]["position"] == person["given"]
    for field in ("consentReceiptID", "schemaVersion", "issuedAt", "piiControllers",
                  "dataCategories", "retention", "withdrawal", "stateAt", "tlogProof"):
        assert receipt[field], field
    assert "Robin" not in answer["document"] and "robin@" not in answer["document"]


async def test_consent_receipt_when_withdrawn_carries_the_notice_it_ended(
    admin: Gql, person: dict[str, Any]
) -> None:
    answer = (await admin.data(RECEIPT, {"p": person["pid"], "purpose": PURPOSE,
                                         "at": None}))["consentReceipt"]

    receipt = receipts.verify(answer["document"], await _key(admin))
    assert (answer["state"], answer["position"]) == ("WITHDRAWN", person["withdrawn"])
    assert receipt["notice"]["hash"]["value"] == NOTICE_SHA256
    assert receipt["collectionMethod"] == "phone"


async def test_consent_receipt_when_issued_twice_keeps_its_id(
    admin: Gql, person: dict[str, Any]
) -> None:
    variables = {"p": person["pid"], "purpose": PURPOSE, "at": person["given"]}
    first = (await admin.data(RECEIPT, variables))["consentReceipt"]
    second = (await admin.data(RECEIPT, variables))["consentReceipt"]
    assert first["receiptId"] == second["receiptId"]


@pytest.mark.parametrize(("path", "value"), [
    (("state",), "REFUSED"), (("purposes",), ["research"]), (("recipients",), []),
    (("notice", "version"), "v2"), (("piiPrincipalId",), "00000000-0000-0000-0000-000000000000"),
    (("event", "position"), 1), (("lawfulBasis",), "legitimate-interest"),
])
async def test_consent_receipt_when_a_field_is_changed_fails_to_verify(
    admin: Gql, person: dict[str, Any], path: tuple[str, ...], value: Any
) -> None:
    answer = (await admin.data(RECEIPT, {"p": person["pid"], "purpose": PURPOSE,
                                         "at": person["given"]}))["consentReceipt"]
    document = json.loads(answer["document"])
    holder = document["receipt"]
    for part in path[:-1]:
        holder = holder[part]
    holder[path[-1]] = value

    with pytest.raises(ReceiptError):
        receipts.verify(json.dumps(document), await _key(admin))


async def test_consent_receipt_when_signed_by_another_key_fails(
    admin: Gql, person: dict[str, Any]
) -> None:
    from program.transparency.note import Signer

    answer = (await admin.data(RECEIPT, {"p": person["pid"], "purpose": PURPOSE,
                                         "at": person["given"]}))["consentReceipt"]
    other = Signer.generate((await _key(admin)).name)

    with pytest.raises(ReceiptError):
        receipts.verify(answer["document"], other.verifier)


async def test_consent_receipt_when_position_is_not_a_change_of_that_consent_is_not_found(
    admin: Gql, person: dict[str, Any]
) -> None:
    error = await admin.error(RECEIPT, {"p": person["pid"], "purpose": PURPOSE, "at": 1})
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_consent_receipt_when_manager_of_another_programme_is_forbidden(
    http: httpx.AsyncClient, token: TokenFactory, person: dict[str, Any]
) -> None:
    outsider = Gql(http, token("PROGRAMME_MANAGER", programme_ids=[]))
    code = await outsider.code(RECEIPT, {"p": person["pid"], "purpose": PURPOSE, "at": None})
    assert code == "FORBIDDEN"


async def test_verify_receipt_cli_works_offline_and_fails_a_changed_receipt(
    admin: Gql, person: dict[str, Any], tmp_path: Path
) -> None:
    answer = (await admin.data(RECEIPT, {"p": person["pid"], "purpose": PURPOSE,
                                         "at": person["given"]}))["consentReceipt"]
    key = str(await _key(admin))
    good = tmp_path / "receipt.json"
    good.write_text(answer["document"])
    bad = tmp_path / "changed.json"
    bad.write_text(answer["document"].replace('"GIVEN"', '"REFUSED"'))
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PROGRAM_")}

    async def verify(path: Path) -> subprocess.CompletedProcess[str]:
        args = ["audit", "verify-receipt", str(path), "--key", key]
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "program", *args, env=clean, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        return subprocess.CompletedProcess(args, proc.returncode or 0, out.decode(), err.decode())

    ok, changed = await verify(good), await verify(bad)
    assert ok.returncode == 0 and json.loads(ok.stdout)["state"] == "GIVEN", ok.stderr
    assert changed.returncode == 1 and "signature" in changed.stderr
    assert not (tmp_path / ".program").exists()  # nothing started, nothing written


async def test_ledger_fields_answer_the_texts_of_the_http_routes(
    admin: Gql, http: httpx.AsyncClient, token: TokenFactory, services: Services,
    person: dict[str, Any]
) -> None:
    verifier = await _key(admin)
    issued = (await admin.data("mutation { issueCheckpoint(input: {}) { position "
                               "checkpoint { size note rootHash } } }"))["issueCheckpoint"]
    old = Checkpoint.open(issued["checkpoint"]["note"], verifier)
    assert old.size == issued["position"] == issued["checkpoint"]["size"]
    auth = {"Authorization": f"Bearer {token('AUDITOR')}"}
    assert (await http.get("/ledger/checkpoint", params={"size": old.size},
                           headers=auth)).text == issued["checkpoint"]["note"]

    auditor = Gql(http, token("AUDITOR"))
    proof = (await auditor.data("query($p: Int!) { ledgerInclusionProof(position: $p) "
                                "{ index leaf proof checkpointSize } }",
                                {"p": person["given"]}))["ledgerInclusionProof"]
    assert proof["index"] == person["given"] - 1
    InclusionProof.parse(proof["proof"]).verify(verifier, b64decode(proof["leaf"], "leaf"))

    await admin.mutate("createProgramme", {"name": "Later"})
    new = Checkpoint.open((await admin.data("mutation { issueCheckpoint(input: {}) "
                                            "{ checkpoint { note } } }"))
                          ["issueCheckpoint"]["checkpoint"]["note"], verifier)
    consistency = (await auditor.data(
        "query($a: Int!, $b: Int!) { ledgerConsistencyProof(fromSize: $a, toSize: $b) "
        "{ hashes text } }", {"a": old.size, "b": new.size}))["ledgerConsistencyProof"]
    verify_consistency(old.size, new.size, [b64decode(h, "h") for h in consistency["hashes"]],
                       old.root, new.root)
    latest = (await auditor.data("{ ledgerCheckpoint { size note } }"))["ledgerCheckpoint"]
    assert latest["size"] == new.size
