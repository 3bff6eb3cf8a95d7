"""Subject-access export and auditors' exports over real HTTP and GraphQL."""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from uuid import uuid4

import httpx
import pytest

from program.bootstrap import Services
from program.transparency import receipt as receipts
from program.transparency.note import Verifier
from test_graphql_support import PURPOSE, Gql, TokenFactory, at, build_world

SUBJECT = """mutation E($input: ParticipantIdInput!) {
  exportSubjectData(input: $input) { position participantId document } }"""


@pytest.fixture(scope="module")
def admin(http: httpx.AsyncClient, token: TokenFactory) -> Gql:
    return Gql(http, token("ADMIN", subject="admin-exports"))


@pytest.fixture(scope="module")
async def story(admin: Gql) -> dict[str, Any]:
    """A person enrolled in a running cohort, marked present, with a baseline score, who
    gave a second consent and withdrew it; a second person on the waitlist."""
    world = await build_world(admin, people=1, capacity=1, name="Exports")
    pid = world.participant_ids[0]
    await admin.mutate("startCohort", {"id": world.cohort_id})
    session = (await admin.mutate("scheduleSession", {"cohortId": world.cohort_id,
                                                      "startsAt": at(-1)}, "sessionId"))["sessionId"]
    await admin.mutate("recordAttendance", {"cohortId": world.cohort_id, "sessionId": session,
                                            "participantId": pid, "status": "PRESENT"})
    await admin.mutate("recordOutcome", {"participantId": pid, "cohortId": world.cohort_id,
                                         "measure": "HHI", "timepoint": "BASELINE", "score": 31})
    await admin.mutate("giveConsent", {
        "participantId": pid, "purpose": "research", "noticeId": "research-notice",
        "noticeVersion": "2", "lawfulBasis": "EXPLICIT_CONSENT", "method": "WEB_FORM",
        "recipients": ["uni-evaluator"]})
    last = (await admin.mutate("withdrawConsent", {"participantId": pid, "purpose": "research",
                                                   "method": "EMAIL",
                                                   "reason": "=cmd|' /C calc'!A0"}))["position"]
    return {"world": world, "pid": pid, "session": session, "last": last}


async def test_subject_export_holds_enrolments_attendance_outcomes_and_consents(
    admin: Gql, story: dict[str, Any], services: Services
) -> None:
    answer = (await admin.data(SUBJECT, {"input": {"id": story["pid"]}}))["exportSubjectData"]
    doc = answer["document"]

    assert doc["person"]["personalData"]["name"] == "Person0"
    assert doc["person"]["personalData"]["email"] == "person0@example.org"
    assert [p["name"] for p in doc["programmes"]] == ["Exports"]
    assert [e["change"] for e in doc["enrolments"]] == ["ENROLLED"]
    assert [(a["sessionId"], a["status"]) for a in doc["attendance"]] == [
        (story["session"], "PRESENT")]
    assert [(o["measure"], o["timepoint"], o["score"]) for o in doc["outcomes"]] == [
        ("HHI", "BASELINE", 31.0)]
    assert [(c["purpose"], c["state"]) for c in doc["consents"]] == [
        (PURPOSE, "GIVEN"), ("research", "GIVEN"), ("research", "WITHDRAWN")]
    key = Verifier.parse(str(services.ledger.verifier))
    for change in doc["consents"]:
        assert receipts.verify(json.dumps(change["receipt"]), key)["state"] == change["state"]
    assert doc["disclosures"] == [] and doc["disclosuresNote"]
    assert {"research", PURPOSE} <= {p["purpose"] for p in doc["purposes"]}
    assert doc["recipients"] == ["evaluator-a", "uni-evaluator"]
    assert doc["retention"] and doc["sources"] and doc["dataCategories"]


async def test_subject_export_is_recorded_in_the_audit_trail_with_the_admin_as_actor(
    admin: Gql, story: dict[str, Any]
) -> None:
    position = (await admin.data(SUBJECT, {"input": {"id": story["pid"]}}))[
        "exportSubjectData"]["position"]
    trail = await admin.data(
        "query($id: UUID!, $p: Int!) { auditTrail(filter: {aggregateId: $id, eventType: "
        "PARTICIPANT_DATA_EXPORTED}, consistentWith: $p) { edges { node { position actor "
        "detail } } } }", {"id": story["pid"], "p": position})
    nodes = [e["node"] for e in trail["auditTrail"]["edges"]]
    assert nodes[-1] == {"position": position, "actor": "admin-exports",
                         "detail": "subject-access export (json)"}


@pytest.mark.parametrize("role", ["PROGRAMME_MANAGER", "FACILITATOR", "AUDITOR", "PARTNER"])
async def test_subject_export_by_another_role_than_admin_is_refused(
    http: httpx.AsyncClient, token: TokenFactory, services: Services,
    story: dict[str, Any], role: str
) -> None:
    world = story["world"]
    claims = {"PROGRAMME_MANAGER": {"programme_ids": [world.programme_id]},
              "FACILITATOR": {"facilitator_id": world.facilitator_ids[0]},
              "PARTNER": {"partner_id": "evaluator-a"}}.get(role, {})
    caller = token(role, **claims)
    before = await services.store.max_position()

    code = await Gql(http, caller).code(SUBJECT, {"input": {"id": story["pid"]}})
    response = await http.get(f"/subjects/{story['pid']}/export",
                              headers={"Authorization": f"Bearer {caller}"})

    assert code == "FORBIDDEN" and response.status_code == 403
    assert await services.store.max_position() == before


async def test_subject_export_over_http_as_html_is_a_readable_escaped_page(
    http: httpx.AsyncClient, token: TokenFactory, story: dict[str, Any]
) -> None:
    response = await http.get(f"/subjects/{story['pid']}/export", params={"format": "html"},
                              headers={"Authorization": f"Bearer {token('ADMIN')}"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "Person0" in page and "Your consents" in page and "research-notice" in page
    assert "<script" not in page.lower()


async def test_subject_export_of_an_unknown_person_is_not_found(
    http: httpx.AsyncClient, token: TokenFactory
) -> None:
    response = await http.get("/subjects/00000000-0000-4000-8000-000000000000/export",
                              headers={"Authorization": f"Bearer {token('ADMIN')}"})
    assert response.status_code == 404


async def test_audit_export_of_consent_changes_as_csv_has_no_free_text(
    http: httpx.AsyncClient, token: TokenFactory, story: dict[str, Any]
) -> None:
    response = await http.get("/exports/consent-changes",
                              params={"format": "csv", "participantId": story["pid"]},
                              headers={"Authorization": f"Bearer {token('AUDITOR')}"})
    assert response.status_code == 200, response.text
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["purpose"], r["state"]) for r in table] == [
        (PURPOSE, "GIVEN"), ("research", "GIVEN"), ("research", "WITHDRAWN")]
    assert "reason" not in table[0] and "calc" not in response.text
    assert "Person0" not in response.text and "@example.org" not in response.text


async def test_audit_export_of_the_audit_trail_as_json_lines_is_filtered_like_the_query(
    http: httpx.AsyncClient, token: TokenFactory, story: dict[str, Any]
) -> None:
    response = await http.get("/exports/audit-trail", params={
        "format": "jsonl", "aggregateId": story["world"].cohort_id,
        "eventType": "Cohort.AttendanceRecorded"},
        headers={"Authorization": f"Bearer {token('ADMIN')}"})
    assert response.status_code == 200, response.text
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [r["event_type"] for r in lines] == ["AttendanceRecorded"]
    assert lines[0]["aggregate_id"] == story["world"].cohort_id and lines[0]["hash"]


async def test_audit_export_of_the_disclosure_log_is_filtered_by_person_and_partner(
    http: httpx.AsyncClient, token: TokenFactory, services: Any
) -> None:
    person, partner, other = uuid4(), uuid4(), uuid4()
    async with services.pool.acquire() as conn:
        await conn.executemany(
            "INSERT INTO feed_disclosure_sets (at, partner_id, channel, sequences, event_ids, "
            "types, participant_ids, consent_ids, consent_versions, outcomes, reasons) "
            "VALUES (now(), $1, 'webhook', ARRAY[$2::bigint], ARRAY[$3::uuid], "
            "ARRAY['participant.enrolled.v1'], ARRAY[$4::uuid], ARRAY[$5::uuid], ARRAY[1::bigint], "
            "ARRAY[$6::text], ARRAY[$7::text])",
            [(partner, 1, uuid4(), person, uuid4(), "disclosed", None),
             (partner, None, uuid4(), person, None, "withheld", "no consent naming this partner"),
             (other, 1, uuid4(), person, uuid4(), "disclosed", None)])
    response = await http.get("/exports/disclosures", params={
        "format": "jsonl", "participantId": str(person), "partnerId": str(partner)},
        headers={"Authorization": f"Bearer {token('AUDITOR')}"})
    assert response.status_code == 200, response.text
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [(r["outcome"], r["partner_id"]) for r in lines] == [
        ("disclosed", str(partner)), ("withheld", str(partner))]
    assert lines[0]["consent_id"] and lines[0]["consent_version"] == 1
    manager = await http.get("/exports/disclosures",
                             headers={"Authorization": f"Bearer {token('PROGRAMME_MANAGER')}"})
    assert manager.status_code == 403


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("PROGRAMME_MANAGER", 403),
                                              ("FACILITATOR", 403), ("PARTNER", 403)])
async def test_audit_export_by_another_role_than_auditor_or_admin_is_refused(
    http: httpx.AsyncClient, token: TokenFactory, role: str | None, status: int
) -> None:
    headers = {"Authorization": f"Bearer {token(role)}"} if role else {}
    response = await http.get("/exports/audit-trail", headers=headers)
    assert response.status_code == status


@pytest.mark.parametrize("params", [{"format": "xml"}, {"since": "2025-01-01T00:00:00"},
                                    {"actor": "a\x00b"}, {"participantId": "nope"},
                                    {"since": "0001-01-01T00:30:00+14:00"}])
async def test_audit_export_with_bad_parameters_is_bad_input(
    http: httpx.AsyncClient, token: TokenFactory, params: dict[str, str]
) -> None:
    response = await http.get("/exports/consent-changes", params=params,
                              headers={"Authorization": f"Bearer {token('AUDITOR')}"})
    assert response.status_code == 400 and response.json()["code"] == "BAD_USER_INPUT"
