"""Compiled plans answer exactly as Strawberry does, refusals included.

Every query of every e2e test is answered twice (``conftest.compiled_shadow``): by its
compiled plan and by Strawberry's normal execution, and the bytes compared. This module
adds the cases that matter most for a second execution path — callers who may not read
what they ask for, arguments past the input limits, missing records, partial answers —
and checks that the plan, not the fallback, answered them.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from graphql import parse
from test_graphql_support import Gql, TokenFactory, World, at, build_world

from program.api.graphql import compiled
from program.api.graphql.compiled import Compiler, Unsupported
from program.api.graphql.schema import schema

DASHBOARD = """query D($id: UUID!) { cohort(id: $id) {
  id name status format capacity startsOn venue enrolledCount waitlistCount placesLeft
  enrolled { participantId place } waitlist { participantId place }
  facilitators { facilitatorId role facilitator { id displayName email } }
  nextSession { id startsAt } sessions { id startsAt }
  attendance { rate present recorded }
  consecutiveAbsences { participantId consecutive }
  outcomes { measure baselineCount followUpCount people meanChange suppressed }
  programme { id name } } }"""


@pytest.fixture(scope="module")
def admin(http: httpx.AsyncClient, token: TokenFactory) -> Gql:
    return Gql(http, token("ADMIN", subject="admin-1"))


@pytest.fixture(scope="module")
async def worlds(admin: Gql) -> tuple[World, World]:
    a = await build_world(admin, people=6, capacity=4, name="Alpha")
    b = await build_world(admin, people=1, name="Beta")
    await admin.mutate("startCohort", {"id": a.cohort_id})
    session = (await admin.mutate("scheduleSession", {"cohortId": a.cohort_id, "startsAt": at(-1)},
                                  "sessionId"))["sessionId"]
    for pid in a.participant_ids[:4]:
        await admin.mutate("recordAttendance", {"cohortId": a.cohort_id, "sessionId": session,
                                                "participantId": pid, "status": "PRESENT"})
    for i, pid in enumerate(a.participant_ids[:3]):
        for timepoint, score in (("BASELINE", 20 + i), ("FOLLOW_UP", 30)):
            last = await admin.mutate("recordOutcome", {
                "participantId": pid, "cohortId": a.cohort_id, "measure": "HHI",
                "timepoint": timepoint, "score": score})
    await admin.data("query W($p: Int!) { me(consistentWith: $p) { subject } }",
                     {"p": last["position"]})
    return a, b


async def _planned(gql: Gql, query: str, variables: dict[str, object] | None = None) -> dict:
    """The answer, after checking a plan gave it and Strawberry gave the same bytes."""
    shadow = compiled.shadow
    assert shadow is not None and shadow.queries is not None and shadow.mismatches is not None
    checked, mismatched = shadow.checked, len(shadow.mismatches)
    body = await gql.post(query, variables)
    assert shadow.checked == checked + 1, "the compiled plan did not answer this query"
    assert len(shadow.mismatches) == mismatched
    return body


async def test_dashboard_for_every_role_is_answered_by_the_plan_as_strawberry_would(
    worlds: tuple[World, World], http: httpx.AsyncClient, token: TokenFactory, admin: Gql
) -> None:
    a, b = worlds
    callers = [
        admin,
        Gql(http, token("AUDITOR")),  # small cells suppressed, staff names hidden
        Gql(http, token("PROGRAMME_MANAGER", programme_ids=[a.programme_id])),
        Gql(http, token("PROGRAMME_MANAGER", programme_ids=[b.programme_id])),  # FORBIDDEN
        Gql(http, token("FACILITATOR", facilitator_id=a.facilitator_ids[0])),
        Gql(http, token("FACILITATOR", facilitator_id=b.facilitator_ids[0])),  # FORBIDDEN
        Gql(http, token("PARTNER", partner_id="p-1")),  # FORBIDDEN
        Gql(http, None),  # UNAUTHENTICATED
    ]
    codes = set()
    for caller in callers:
        body = await _planned(caller, DASHBOARD, {"id": a.cohort_id})
        codes |= {e["extensions"]["code"] for e in body.get("errors", ())}
    assert {"FORBIDDEN", "UNAUTHENTICATED"} <= codes


@pytest.mark.parametrize(("query", "variables", "code"), [
    # input limits (CheckedArguments on every root field), before any read
    ("query Q($a: String) { programmes(after: $a) { edges { cursor } } }", {"a": "x\u0000"},
     "BAD_USER_INPUT"),
    ("query Q($a: String) { cohorts(after: $a) { edges { cursor } } }", {"a": "c" * 5000},
     "BAD_USER_INPUT"),
    ('{ auditTrail(filter: {actor: "' + "a" * 300 + '"}) { edges { cursor } } }', None,
     "BAD_USER_INPUT"),
    ("{ programmes(first: 500) { edges { cursor } } }", None, "BAD_USER_INPUT"),
    ("{ cohorts(after: \"not a cursor\") { edges { cursor } } }", None, "BAD_USER_INPUT"),
    ("{ me(consistentWith: -1) { subject } }", None, "BAD_USER_INPUT"),
    ("{ me(consistentWith: 999999999) { subject } }", None, "BAD_USER_INPUT"),
    # records that are not there
    ("query Q($id: UUID!) { cohort(id: $id) { id } }", {"id": str(uuid.uuid4())}, "NOT_FOUND"),
    ("query Q($id: UUID!) { participant(id: $id) { id } }", {"id": str(uuid.uuid4())},
     "NOT_FOUND"),
])
async def test_refused_arguments_are_refused_alike(
    worlds: tuple[World, World], admin: Gql, query: str, variables: dict | None, code: str
) -> None:
    body = await _planned(admin, query, variables)
    assert body["errors"][0]["extensions"]["code"] == code


async def test_a_partial_answer_nulls_and_locates_alike(
    worlds: tuple[World, World], http: httpx.AsyncClient, token: TokenFactory
) -> None:
    """A forbidden nested field is null where it stands; a forbidden non-null root field
    nulls the whole answer; aliases, fragments and ``__typename`` alike."""
    a, _ = worlds
    manager = Gql(http, token("PROGRAMME_MANAGER", programme_ids=[a.programme_id]))
    query = """
        query Q($c: UUID!) {
          mine: cohort(id: $c) { ...Head enrolled { place participant { id personalDataVisible } } }
          who: me { subject role __typename }
        }
        fragment Head on Cohort { id name __typename attendance { ... on Attendance { rate } } }
    """
    body = await _planned(manager, query, {"c": a.cohort_id})
    assert body["data"]["mine"]["name"] and "errors" not in body
    facilitator = Gql(http, token("FACILITATOR", facilitator_id=a.facilitator_ids[0]))
    body = await _planned(facilitator, query, {"c": a.cohort_id})
    assert body["data"]["mine"]["enrolled"][0]["participant"] is None
    assert body["errors"][0]["path"] == ["mine", "enrolled", 0, "participant"]
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await _planned(manager, query.replace("who:", "trail: auditTrail(first: 1) "
                                                        "{ edges { cursor } } who:"), {"c": a.cohort_id})
    assert body["data"] is None
    assert [e["path"] for e in body["errors"]] == [["trail"]]


def test_what_the_compiler_leaves_to_strawberry() -> None:
    """Mutations, directives, introspection, abstract fragments: no plan, the fallback answers."""
    gql_schema = schema._schema
    for text in (
        'mutation { activateProgramme(input: {id: "00000000-0000-0000-0000-000000000000"}) { position } }',
        "query Q($s: Boolean!) { me @include(if: $s) { subject } }",
        "{ __schema { queryType { name } } }",
        "query A { me { subject } } query B { me { role } }",
    ):
        with pytest.raises(Unsupported):
            Compiler(gql_schema, parse(text), None).plan()
    assert Compiler(gql_schema, parse("query A { me { subject } } query B { me { role } }"),
                    "B").plan().fields[0].key == "me"


async def test_enum_fields_and_enum_arguments_are_answered_by_the_plan_as_strawberry_would(
    worlds: tuple[World, World], admin: Gql
) -> None:
    """Closed sets travel as enum names: outputs (a list of them, nullable ones, nested
    ones) and arguments (a literal, a variable, inside an input object)."""
    a, _ = worlds
    person = a.participant_ids[0]
    given = await admin.mutate("giveConsent", {
        "participantId": person, "purpose": "research", "noticeId": "n-r", "noticeVersion": "1",
        "lawfulBasis": "EXPLICIT_CONSENT", "method": "IN_PERSON"})
    await admin.data("query W($p: Int!) { me(consistentWith: $p) { subject } }",
                     {"p": given["position"]})
    body = await _planned(admin, """query E($id: UUID!, $p: UUID!, $f: AuditTrailFilter) {
        programme(id: $p) { status cohortsByStatus { status count } }
        cohorts(status: RUNNING) { nodes { status format facilitators { role } } }
        participant(id: $id) { consents { state lawfulBasis } cohorts { status } }
        consentHistory(participantId: $id) { changes { state lawfulBasis method } }
        literal: auditTrail(filter: {eventType: CONSENT_GIVEN}, first: 100) {
          nodes { eventType role } }
        variable: auditTrail(filter: $f, first: 100) { nodes { aggregateType role } }
        me { role } }""", {"id": person, "p": a.programme_id,
                           "f": {"eventType": "COHORT_SESSION_SCHEDULED"}})
    data = body["data"]
    assert "errors" not in body
    assert data["programme"]["cohortsByStatus"] == [{"status": "RUNNING", "count": 1}]
    assert {"state": "GIVEN", "lawfulBasis": "EXPLICIT_CONSENT", "method": "IN_PERSON"} in (
        data["consentHistory"]["changes"])
    assert {n["role"] for n in data["literal"]["nodes"]} == {"ADMIN"}
    assert {n["aggregateType"] for n in data["variable"]["nodes"]} == {"Cohort"}
