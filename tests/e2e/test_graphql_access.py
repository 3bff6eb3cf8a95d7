"""Who reads what over GraphQL: every query's forbidden paths, per role, and what each
role sees of personal data, staff contacts and small outcome cells."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest

from test_graphql_support import (
    Gql,
    TokenFactory,
    World,
    at,
    build_world,
    consenting_person,
)


@dataclass
class Scene:
    a: World  # running cohort, people enrolled, one session with attendance
    b: World  # another programme
    loner: str  # a consenting person registered into A, in no cohort yet
    position: int


@pytest.fixture(scope="module")
def admin(http: httpx.AsyncClient, token: TokenFactory) -> Gql:
    return Gql(http, token("ADMIN", subject="admin-1"))


@pytest.fixture(scope="module")
async def scene(admin: Gql) -> Scene:
    a = await build_world(admin, people=6, capacity=10, name="Alpha")
    b = await build_world(admin, people=1, name="Beta")
    await admin.mutate("startCohort", {"id": a.cohort_id})
    session = (await admin.mutate("scheduleSession", {"cohortId": a.cohort_id, "startsAt": at(-1)},
                                  "sessionId"))["sessionId"]
    for pid in a.participant_ids:
        await admin.mutate("recordAttendance", {"cohortId": a.cohort_id, "sessionId": session,
                                                "participantId": pid, "status": "PRESENT"})
    for i, pid in enumerate(a.participant_ids):
        await admin.mutate("recordOutcome", {"participantId": pid, "cohortId": a.cohort_id,
                                             "measure": "HHI", "timepoint": "BASELINE",
                                             "score": 20 + i})
    for pid in a.participant_ids[:3]:
        await admin.mutate("recordOutcome", {"participantId": pid, "cohortId": a.cohort_id,
                                             "measure": "HHI", "timepoint": "FOLLOW_UP",
                                             "score": 30})
    loner, position = await consenting_person(admin, "Loner", a.programme_id)
    return Scene(a, b, loner, position)


def queries(s: Scene) -> dict[str, str]:
    """One query per root field, aimed at programme A (or, for facilitators, a co-facilitator)."""
    a = s.a
    return {
        "me": "{ me { subject } }",
        "programme": f'{{ programme(id: "{a.programme_id}", consistentWith: {s.position}) {{ id }} }}',
        "programmes": "{ programmes { edges { node { id } } } }",
        "cohort": f'{{ cohort(id: "{a.cohort_id}") {{ id }} }}',
        "cohorts": "{ cohorts { edges { node { id } } } }",
        "facilitator": f'{{ facilitator(id: "{a.facilitator_ids[1]}") {{ id }} }}',
        "facilitators": "{ facilitators { edges { node { id } } } }",
        "participant": f'{{ participant(id: "{a.participant_ids[0]}") {{ id }} }}',
        "consentHistory": f'{{ consentHistory(participantId: "{a.participant_ids[0]}") '
                          "{ changes { state } } }",
        "auditTrail": "{ auditTrail(first: 1) { edges { node { position } } } }",
        "projections": "{ projections { name position } }",
    }


ROOT_FIELDS = ["me", "programme", "programmes", "cohort", "cohorts", "facilitator",
               "facilitators", "participant", "consentHistory", "auditTrail", "projections"]


async def codes(gql: Gql, s: Scene, fields: list[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in fields:
        body = await gql.post(queries(s)[name])
        out[name] = body["errors"][0]["extensions"]["code"] if body.get("errors") else None
    return out


# -- who may ask at all -------------------------------------------------------------------


async def test_every_query_without_a_token_is_unauthenticated(
    http: httpx.AsyncClient, scene: Scene
) -> None:
    assert set((await codes(Gql(http, None), scene, ROOT_FIELDS)).values()) == {"UNAUTHENTICATED"}


async def test_partners_get_no_graphql_data(
    http: httpx.AsyncClient, token: TokenFactory, scene: Scene
) -> None:
    partner = Gql(http, token("PARTNER", partner_id="evaluator-a"))
    got = await codes(partner, scene, ROOT_FIELDS)
    assert got.pop("me") is None
    assert set(got.values()) == {"FORBIDDEN"}


async def test_facilitators_read_only_their_cohorts_and_themselves(
    http: httpx.AsyncClient, token: TokenFactory, scene: Scene
) -> None:
    a, b = scene.a, scene.b
    fac = Gql(http, token("FACILITATOR", subject="fac-a", facilitator_id=a.facilitator_ids[0]))
    got = await codes(fac, scene, ROOT_FIELDS)
    allowed = {"me", "cohort", "cohorts"}
    assert {k for k, v in got.items() if v is None} == allowed
    assert {v for k, v in got.items() if k not in allowed} == {"FORBIDDEN"}

    assert await fac.code(f'{{ cohort(id: "{b.cohort_id}") {{ id }} }}') == "FORBIDDEN"
    listed = await fac.data("{ cohorts(first: 100) { edges { node { id } } } }")
    assert [e["node"]["id"] for e in listed["cohorts"]["edges"]] == [a.cohort_id]
    me = await fac.data(f'{{ facilitator(id: "{a.facilitator_ids[0]}") {{ displayName email }} }}')
    assert me["facilitator"]["email"] == "fac0@example.org"

    # The dashboard of their cohort: co-facilitator's name but not contact; no people.
    body = await fac.post(f"""{{ cohort(id: "{a.cohort_id}") {{
        attendance {{ rate }}
        facilitators {{ facilitatorId facilitator {{ displayName email }} }}
        enrolled {{ participantId participant {{ id }} }} }} }}""")
    cohort = body["data"]["cohort"]
    assert cohort["attendance"]["rate"] == 1.0
    co = next(f for f in cohort["facilitators"] if f["facilitatorId"] == a.facilitator_ids[1])
    assert co["facilitator"] == {"displayName": "Fac1", "email": None}
    assert cohort["enrolled"][0]["participant"] is None
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
    assert body["errors"][0]["path"][:3] == ["cohort", "enrolled", 0]


async def test_managers_read_only_their_programmes(
    http: httpx.AsyncClient, token: TokenFactory, scene: Scene
) -> None:
    a, b = scene.a, scene.b
    pm = Gql(http, token("PROGRAMME_MANAGER", subject="pm-a", programme_ids=[a.programme_id]))
    got = await codes(pm, scene, ROOT_FIELDS)
    assert got == {**dict.fromkeys(ROOT_FIELDS), "auditTrail": "FORBIDDEN"}

    forbidden = [
        f'{{ programme(id: "{b.programme_id}") {{ id }} }}',
        f'{{ cohort(id: "{b.cohort_id}") {{ id }} }}',
        f'{{ cohorts(programmeId: "{b.programme_id}") {{ edges {{ node {{ id }} }} }} }}',
        f'{{ participant(id: "{b.participant_ids[0]}") {{ id }} }}',
        f'{{ consentHistory(participantId: "{b.participant_ids[0]}") {{ changes {{ state }} }} }}',
    ]
    for query in forbidden:
        assert await pm.code(query) == "FORBIDDEN", query

    programmes = await pm.data("{ programmes(first: 100) { edges { node { id } } } }")
    assert [e["node"]["id"] for e in programmes["programmes"]["edges"]] == [a.programme_id]
    cohorts = await pm.data("{ cohorts(first: 100) { edges { node { programmeId } } } }")
    assert {e["node"]["programmeId"] for e in cohorts["cohorts"]["edges"]} == {a.programme_id}


async def test_auditors_read_dashboards_histories_and_the_trail(
    http: httpx.AsyncClient, token: TokenFactory, scene: Scene
) -> None:
    auditor = Gql(http, token("AUDITOR", subject="auditor-1"))
    got = await codes(auditor, scene, ROOT_FIELDS)
    assert got == dict.fromkeys(ROOT_FIELDS)


async def test_unknown_ids_are_not_found_but_only_for_roles_that_may_ask(
    admin: Gql, http: httpx.AsyncClient, token: TokenFactory
) -> None:
    missing = str(uuid.uuid4())
    for field in ("programme", "cohort", "facilitator", "participant"):
        assert await admin.code(f'{{ {field}(id: "{missing}") {{ id }} }}') == "NOT_FOUND"
    partner = Gql(http, token("PARTNER"))
    assert await partner.code(f'{{ cohort(id: "{missing}") {{ id }} }}') == "FORBIDDEN"


# -- personal data -------------------------------------------------------------------------


PERSON = """query P($id: UUID!) { participant(id: $id) {
  id name email phone referralSource personalDataVisible erased
  consents { purpose state } cohorts { cohortId status } } }"""


async def test_personal_data_resolves_only_for_admins_and_the_persons_managers(
    admin: Gql, http: httpx.AsyncClient, token: TokenFactory, scene: Scene
) -> None:
    person = scene.a.participant_ids[0]
    full = (await admin.data(PERSON, {"id": person}))["participant"]
    assert full["name"] == "Person0" and full["email"] == "person0@example.org"
    assert full["phone"] == "07700 900000" and full["referralSource"] == "GP"

    manager = Gql(http, token("PROGRAMME_MANAGER", programme_ids=[scene.a.programme_id]))
    assert (await manager.data(PERSON, {"id": person}))["participant"]["name"] == "Person0"

    # Registered into A and in no cohort yet: A's person, nobody else's.
    assert (await manager.data(PERSON, {"id": scene.loner}))["participant"]["name"] == "Loner"
    pm_b = Gql(http, token("PROGRAMME_MANAGER", programme_ids=[scene.b.programme_id],
                           subject="pm-b"))
    assert await pm_b.code(PERSON, {"id": scene.loner}) == "FORBIDDEN"
    seen = (await Gql(http, token("AUDITOR")).data(PERSON, {"id": scene.loner}))["participant"]
    assert (seen["name"], seen["email"], seen["phone"], seen["referralSource"]) == (None,) * 4
    assert seen["personalDataVisible"] is False
    assert seen["consents"] == [{"purpose": "programme-participation", "state": "GIVEN"}]

    auditor = Gql(http, token("AUDITOR"))
    seen = (await auditor.data(PERSON, {"id": person}))["participant"]
    assert seen["name"] is None and seen["cohorts"][0]["cohortId"] == scene.a.cohort_id
    staff = await auditor.data(f'{{ facilitator(id: "{scene.a.facilitator_ids[0]}") '
                               "{ displayName email credentials { kind } } }")
    assert staff["facilitator"]["displayName"] is None and staff["facilitator"]["email"] is None
    assert len(staff["facilitator"]["credentials"]) == 3


async def test_an_erased_persons_data_is_gone_for_everyone(
    admin: Gql, scene: Scene
) -> None:
    person, _ = await consenting_person(admin, "Forget Me", scene.a.programme_id)
    position = (await admin.mutate("eraseParticipant", {"id": person}))["position"]
    seen = (await admin.data(
        "query P($id: UUID!, $p: Int) { participant(id: $id, consistentWith: $p) "
        "{ name email erased erasedAt personalDataVisible } }",
        {"id": person, "p": position}))["participant"]
    assert seen["erased"] is True and seen["erasedAt"]
    assert (seen["name"], seen["email"], seen["personalDataVisible"]) == (None, None, False)


# -- small outcome cells ----------------------------------------------------------------------


OUTCOMES = """query C($id: UUID!) { cohort(id: $id) {
  outcomes { measure baselineCount followUpCount people meanChange suppressed } } }"""


async def test_outcomes_over_fewer_than_five_people_are_suppressed_except_for_admins(
    admin: Gql, http: httpx.AsyncClient, token: TokenFactory, scene: Scene
) -> None:
    a = scene.a
    raw = (await admin.data(OUTCOMES, {"id": a.cohort_id}))["cohort"]["outcomes"]
    assert raw == [{"measure": "HHI", "baselineCount": 6, "followUpCount": 3, "people": 3,
                    "meanChange": pytest.approx(9.0), "suppressed": False}]
    for gql in (Gql(http, token("PROGRAMME_MANAGER", programme_ids=[a.programme_id])),
                Gql(http, token("AUDITOR")),
                Gql(http, token("FACILITATOR", facilitator_id=a.facilitator_ids[0]))):
        shown = (await gql.data(OUTCOMES, {"id": a.cohort_id}))["cohort"]["outcomes"]
        assert shown == [{"measure": "HHI", "baselineCount": 6, "followUpCount": None,
                          "people": None, "meanChange": None, "suppressed": True}]
