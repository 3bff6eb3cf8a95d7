"""A schema people can discover, over real HTTP: closed sets travel as enum names both
ways, an unknown one is BAD_USER_INPUT listing the valid ones, and every error's
extensions (``details`` included) are spelled in camelCase as the schema is.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from program.domain.event_types import EVENT_TYPES
from test_graphql_support import (
    Gql,
    TokenFactory,
    World,
    build_world,
    consenting_person,
    days,
    mutation,
)

AUDIT = """query($f: AuditTrailFilter, $first: Int!, $p: Int) {
  auditTrail(filter: $f, first: $first, consistentWith: $p) {
    edges { node { position aggregateType eventType role actor } } } }"""
CAMEL = re.compile(r"^[a-z][A-Za-z0-9]*$")


@pytest.fixture(scope="module")
def admin(http: httpx.AsyncClient, token: TokenFactory) -> Gql:
    return Gql(http, token("ADMIN", subject="admin-discover"))


@pytest.fixture(scope="module")
async def world(admin: Gql) -> World:
    return await build_world(admin, people=2, capacity=2, name="Discover")


def _enum_name(event_type: str) -> str:
    aggregate, _, name = event_type.partition(".")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", f"{aggregate}{name}").upper()


ALL_EVENT_ENUM_NAMES = sorted(_enum_name(t) for t in EVENT_TYPES)


# -- audit event types -------------------------------------------------------------------


async def test_audit_trail_when_filtered_by_an_event_type_enum_answers_those_events(
    admin: Gql, world: World
) -> None:
    data = await admin.data(AUDIT, {"f": {"eventType": "COHORT_PARTICIPANT_ENROLLED"},
                                    "first": 100, "p": world.position})
    nodes = [e["node"] for e in data["auditTrail"]["edges"]]
    assert len(nodes) >= 2
    assert {(n["aggregateType"], n["eventType"]) for n in nodes} == {
        ("Cohort", "ParticipantEnrolled")}
    literal = await admin.data(
        "{ auditTrail(filter: {eventType: PARTICIPANT_REGISTERED}, first: 100) "
        "{ edges { node { aggregateType eventType } } } }")
    assert {(e["node"]["aggregateType"], e["node"]["eventType"])
            for e in literal["auditTrail"]["edges"]} == {("Participant", "Registered")}


async def test_audit_trail_entries_when_read_are_all_of_a_listed_event_type(
    admin: Gql, world: World
) -> None:
    data = await admin.data(AUDIT, {"f": None, "first": 100, "p": world.position})
    seen = {f"{e['node']['aggregateType']}.{e['node']['eventType']}"
            for e in data["auditTrail"]["edges"]}
    assert seen and seen <= set(EVENT_TYPES), seen - set(EVENT_TYPES)
    assert {e["node"]["role"] for e in data["auditTrail"]["edges"]} == {"ADMIN"}


@pytest.mark.parametrize(("query", "variables"), [
    ("{ auditTrail(filter: {eventType: NO_SUCH_EVENT}) { edges { cursor } } }", None),
    ('{ auditTrail(filter: {eventType: "Cohort.ParticipantEnrolled"}) { edges { cursor } } }',
     None),
    (AUDIT, {"f": {"eventType": "ParticipantEnrolled"}, "first": 1}),
    (AUDIT, {"f": {"eventType": "Cohort.ParticipantEnrolled"}, "first": 1}),
], ids=["unknown-literal", "string-literal", "unknown-variable", "dotted-variable"])
async def test_audit_trail_when_filtered_by_an_unknown_event_type_lists_the_valid_ones(
    admin: Gql, query: str, variables: dict[str, Any] | None
) -> None:
    error = await admin.error(query, variables)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "AuditEventType" in error["message"]
    assert "COHORT_PARTICIPANT_ENROLLED" in error["message"]
    assert "PROJECTION_MAINTENANCE_EVENT_SKIPPED" in error["message"]
    assert error["extensions"]["details"]["enum"] == "AuditEventType"
    assert sorted(error["extensions"]["details"]["validValues"]) == ALL_EVENT_ENUM_NAMES


async def test_audit_export_when_filtered_by_an_unknown_event_type_lists_the_valid_ones(
    http: httpx.AsyncClient, token: TokenFactory
) -> None:
    headers = {"Authorization": f"Bearer {token('AUDITOR')}"}
    response = await http.get("/exports/audit-trail",
                              params={"format": "jsonl", "eventType": "ParticipantEnroled"},
                              headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "BAD_USER_INPUT"
    assert "Cohort.ParticipantEnrolled" in response.json()["message"]
    for spelling in ("Cohort.ParticipantEnrolled", "COHORT_PARTICIPANT_ENROLLED"):
        ok = await http.get("/exports/audit-trail",
                            params={"format": "jsonl", "eventType": spelling}, headers=headers)
        assert ok.status_code == 200, ok.text


# -- closed sets both ways -----------------------------------------------------------------


async def test_consent_when_given_with_enum_names_reads_back_as_enum_names(
    admin: Gql, world: World
) -> None:
    pid = world.participant_ids[0]
    await admin.mutate("giveConsent", {
        "participantId": pid, "purpose": "research", "noticeId": "n-2", "noticeVersion": "2",
        "lawfulBasis": "EXPLICIT_CONSENT", "method": "WEB_FORM", "recipients": ["uni"]})
    position = (await admin.mutate("withdrawConsent", {
        "participantId": pid, "purpose": "research", "method": "PHONE"}))["position"]
    data = await admin.data(
        "query($id: UUID!, $p: Int!) { consentHistory(participantId: $id, purpose: \"research\", "
        "consistentWith: $p) { changes { state lawfulBasis method } } "
        "participant(id: $id) { consents { purpose lawfulBasis } } }",
        {"id": pid, "p": position})
    assert data["consentHistory"]["changes"] == [
        {"state": "GIVEN", "lawfulBasis": "EXPLICIT_CONSENT", "method": "WEB_FORM"},
        {"state": "WITHDRAWN", "lawfulBasis": "EXPLICIT_CONSENT", "method": "PHONE"}]
    assert {"purpose": "programme-participation", "lawfulBasis": "CONSENT"} in (
        data["participant"]["consents"])


async def test_consent_when_given_with_an_unknown_method_lists_the_valid_ones(
    admin: Gql, world: World
) -> None:
    error = await admin.mutate_error("giveConsent", {
        "participantId": world.participant_ids[1], "purpose": "research", "noticeId": "n",
        "noticeVersion": "1", "lawfulBasis": "CONSENT", "method": "paper-form"})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["details"]["validValues"] == [
        "PAPER_FORM", "WEB_FORM", "EMAIL", "PHONE", "IN_PERSON"]


async def test_programme_when_read_counts_its_cohorts_by_status_enum(
    admin: Gql, world: World
) -> None:
    data = await admin.data(
        "query($id: UUID!, $p: Int!) { programme(id: $id, consistentWith: $p) "
        "{ cohortsByStatus { status count } } }",
        {"id": world.programme_id, "p": world.position})
    assert data["programme"]["cohortsByStatus"] == [{"status": "OPEN", "count": 1}]


async def test_partner_when_registered_with_event_type_enums_reads_them_back(
    admin: Gql, world: World
) -> None:
    registered = (await admin.data(
        "mutation M($i: RegisterPartnerInput!) { registerPartner(input: $i) "
        "{ partnerId position } }",
        {"i": {"name": "Evaluator", "purposes": ["research"], "programmeIds": [world.programme_id],
               "eventTypes": ["PARTICIPANT_ENROLLED_V1", "COHORT_STARTED_V1"]}}))["registerPartner"]
    data = await admin.data(
        "query($id: UUID!, $p: Int!) { partner(id: $id, consistentWith: $p) "
        "{ status eventTypes } }", {"id": registered["partnerId"], "p": registered["position"]})
    assert data["partner"] == {"status": "ACTIVE",
                               "eventTypes": ["COHORT_STARTED_V1", "PARTICIPANT_ENROLLED_V1"]}


# -- error extensions in camelCase ---------------------------------------------------------


def _keys(value: Any, path: str = "extensions") -> list[tuple[str, str]]:
    """Every key of every object in ``value``, with where it is."""
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.append((f"{path}.{key}", key))
            found += _keys(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _keys(item, f"{path}[{i}]")
    return found


async def test_error_extensions_when_any_error_path_answers_are_camel_case(
    admin: Gql, world: World, http: httpx.AsyncClient, token: TokenFactory
) -> None:
    stranger = (await admin.mutate("registerParticipant", {
        "programmeId": world.programme_id, "name": "Stranger"}, "participantId"))["participantId"]
    person, _ = await consenting_person(admin, "Scored", world.programme_id)
    auditor = Gql(http, token("AUDITOR"))
    nobody = Gql(http, None)
    deep: dict[str, Any] = {}
    nested = deep
    for _ in range(20):
        nested["x"] = {}
        nested = nested["x"]
    requests: list[tuple[Gql, str, dict[str, Any] | None]] = [
        # the domain's own rules, with details of several words
        (admin, mutation("activateProgramme"), {"input": {"id": world.programme_id}}),
        (admin, mutation("enrolParticipant"),
         {"input": {"cohortId": world.cohort_id, "participantId": stranger}}),
        (admin, mutation("enrolParticipant"),
         {"input": {"cohortId": world.cohort_id, "participantId": world.participant_ids[0]}}),
        (admin, mutation("changeCohortCapacity"), {"input": {"id": world.cohort_id, "capacity": 1}}),
        (admin, mutation("recordOutcome"), {"input": {
            "participantId": person, "cohortId": world.cohort_id, "measure": "HHI",
            "timepoint": "BASELINE", "score": 99}}),
        (admin, mutation("giveConsent"), {"input": {
            "participantId": person, "purpose": "programme-participation", "noticeId": "n",
            "noticeVersion": "1", "lawfulBasis": "CONSENT", "method": "PHONE",
            "validUntil": days(-30)}}),
        # the boundary's input limits, and the variables' shape
        (admin, mutation("createProgramme"), {"input": {"name": "x" * 201}}),
        (admin, mutation("createProgramme"), {"input": {"name": "P", "unknownField": deep}}),
        # unknown enum values, by variable and by literal
        (admin, mutation("planCohort"), {"input": {
            "programmeId": world.programme_id, "name": "C", "format": "WEEKLY",
            "startsOn": days(3)}}),
        (admin, "{ cohorts(status: SOMETIME) { edges { cursor } } }", None),
        # refusals, unknown records, bad arguments, no token
        (auditor, mutation("createProgramme"), {"input": {"name": "P"}}),
        (admin, "query($id: UUID!) { cohort(id: $id) { id } }",
         {"id": "00000000-0000-4000-8000-000000000000"}),
        (admin, "{ cohorts(first: 1000) { edges { cursor } } }", None),
        (nobody, "{ me { subject } }", None),
    ]
    with_details = 0
    for caller, query, variables in requests:
        body = await caller.post(query, variables)
        assert body.get("errors"), (query, body)
        for error in body["errors"]:
            extensions = error["extensions"]
            assert "code" in extensions
            bad = [where for where, key in _keys(extensions) if not CAMEL.match(key)]
            assert bad == [], (query, extensions)
            with_details += "details" in extensions
    assert with_details >= 10


async def test_a_refused_field_when_named_in_an_error_is_named_as_the_client_sent_it(
    admin: Gql, world: World
) -> None:
    error = await admin.mutate_error("giveConsent", {
        "participantId": world.participant_ids[1], "purpose": "research", "noticeId": "n",
        "noticeVersion": "1", "lawfulBasis": "CONSENT", "method": "PAPER_FORM",
        "validUntil": days(-30)})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["details"]["field"] == "validUntil"
    assert "validUntil" in error["message"] and "valid_until" not in error["message"]
