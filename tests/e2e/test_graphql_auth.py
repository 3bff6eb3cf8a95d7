"""Authentication and authorisation over GraphQL: every forbidden path, per role."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest

from program.api.auth import mint_token
from program.bootstrap import Services
from test_graphql_support import (
    INPUT_TYPES,
    Gql,
    TokenFactory,
    World,
    at,
    build_world,
    consent_input,
    days,
    mutation,
)

X = str(uuid.UUID(int=1))

SAMPLE_INPUTS: dict[str, dict[str, Any]] = {
    "createProgramme": {"name": "P"},
    "activateProgramme": {"id": X},
    "closeProgramme": {"id": X},
    "planCohort": {"programmeId": X, "name": "C", "format": "ENROLLED", "capacity": 5,
                   "startsOn": days(7)},
    "openCohortEnrolment": {"id": X},
    "startCohort": {"id": X},
    "completeCohort": {"id": X},
    "cancelCohort": {"id": X, "reason": "r"},
    "changeCohortCapacity": {"id": X, "capacity": 3},
    "registerFacilitator": {"displayName": "F", "email": "f@example.org"},
    "recordFacilitatorCredential": {"facilitatorId": X, "kind": "SAFEGUARDING",
                                    "validUntil": days(30)},
    "activateFacilitator": {"id": X},
    "beginFacilitatorTraining": {"id": X},
    "retireFacilitator": {"id": X},
    "suspendFacilitator": {"id": X, "reason": "r"},
    "assignFacilitator": {"cohortId": X, "facilitatorId": X, "role": "LEAD"},
    "registerParticipant": {"programmeId": X, "name": "N"},
    "giveConsent": consent_input(X),
    "withdrawConsent": {"participantId": X, "purpose": "p", "method": "PHONE"},
    "enrolParticipant": {"cohortId": X, "participantId": X},
    "withdrawParticipant": {"cohortId": X, "participantId": X},
    "scheduleSession": {"cohortId": X, "startsAt": at(1)},
    "recordAttendance": {"cohortId": X, "sessionId": X, "participantId": X, "status": "PRESENT"},
    "recordOutcome": {"participantId": X, "cohortId": X, "measure": "HHI",
                      "timepoint": "BASELINE", "score": 30},
    "eraseParticipant": {"id": X},
    "updateProgramme": {"id": X, "description": "d"},
    "updateParticipant": {"id": X, "phone": "1"},
    "refuseConsent": {"participantId": X, "purpose": "research", "noticeId": "n",
                      "noticeVersion": "v1", "method": "PHONE"},
    "revokeConsent": {"participantId": X, "purpose": "research", "reason": "r"},
    "unassignFacilitator": {"cohortId": X, "facilitatorId": X},
    "rescheduleSession": {"cohortId": X, "sessionId": X, "startsAt": "2030-01-01T10:00:00Z"},
    "cancelSession": {"cohortId": X, "sessionId": X},
    "correctAttendance": {"cohortId": X, "sessionId": X, "participantId": X,
                          "status": "PRESENT"},
    "amendOutcome": {"participantId": X, "cohortId": X, "measure": "HHI",
                     "timepoint": "BASELINE", "score": 30, "reason": "r"},
    "eraseFacilitator": {"id": X},
    "issueCheckpoint": {},
    "exportSubjectData": {"id": X},
}
assert set(SAMPLE_INPUTS) == set(INPUT_TYPES)

FACILITATOR_MUTATIONS = {"scheduleSession", "recordAttendance", "rescheduleSession",
                         "cancelSession", "correctAttendance"}


@pytest.fixture(scope="module")
def anonymous(http: httpx.AsyncClient) -> Gql:
    return Gql(http, None)


@pytest.fixture(scope="module")
def admin(http: httpx.AsyncClient, token: TokenFactory) -> Gql:
    return Gql(http, token("ADMIN", subject="admin-1"))


@pytest.fixture(scope="module")
async def world(admin: Gql) -> World:
    return await build_world(admin, people=2, capacity=5)


async def head(services: Services) -> int:
    return await services.store.max_position()


# -- authentication ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SAMPLE_INPUTS))
async def test_mutation_without_token_is_unauthenticated(anonymous: Gql, name: str) -> None:
    assert await anonymous.code(mutation(name), {"input": SAMPLE_INPUTS[name]}) == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer not-a-jwt",
        "Basic dXNlcjpwYXNz",
        "Bearer " + mint_token("another-secret-" + "y" * 40, role="ADMIN", subject="x"),
        "Bearer " + mint_token("test-secret-" + "x" * 40, role="ADMIN", subject="x",
                               ttl=timedelta(seconds=-10)),
        "Bearer " + jwt.encode({"sub": "x", "role": "ADMIN"}, "test-secret-" + "x" * 40),
    ],
    ids=["garbage", "basic", "wrong-secret", "expired", "no-issuer"],
)
async def test_bad_token_is_unauthenticated_and_changes_nothing(
    http: httpx.AsyncClient, services: Services, header: str
) -> None:
    before = await head(services)
    response = await http.post(
        "/graphql",
        json={"query": mutation("createProgramme"), "variables": {"input": {"name": "P"}}},
        headers={"authorization": header},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await head(services) == before


# -- read-only roles never mutate ----------------------------------------------


@pytest.mark.parametrize("role", ["AUDITOR", "PARTNER"])
@pytest.mark.parametrize("name", sorted(SAMPLE_INPUTS))
async def test_read_only_roles_may_not_mutate(
    http: httpx.AsyncClient, token: TokenFactory, services: Services, role: str, name: str
) -> None:
    gql = Gql(http, token(role, partner_id="p-1" if role == "PARTNER" else None))
    before = await head(services)
    assert await gql.code(mutation(name), {"input": SAMPLE_INPUTS[name]}) == "FORBIDDEN"
    assert await head(services) == before


@pytest.mark.parametrize("name", sorted(set(SAMPLE_INPUTS) - FACILITATOR_MUTATIONS))
async def test_facilitator_may_only_schedule_sessions_and_record_attendance(
    http: httpx.AsyncClient, token: TokenFactory, world: World, name: str
) -> None:
    gql = Gql(http, token("FACILITATOR", facilitator_id=world.facilitator_ids[0]))
    assert await gql.code(mutation(name), {"input": SAMPLE_INPUTS[name]}) == "FORBIDDEN"


async def test_facilitator_works_only_in_cohorts_they_are_assigned_to(
    http: httpx.AsyncClient, token: TokenFactory, admin: Gql, world: World, services: Services
) -> None:
    other = await build_world(admin, name="Other group")
    outsider = Gql(http, token("FACILITATOR", subject="fac-out",
                               facilitator_id=other.facilitator_ids[0]))
    before = await head(services)
    error = await outsider.mutate_error("scheduleSession",
                                        {"cohortId": world.cohort_id, "startsAt": at(2)})
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["path"] == ["scheduleSession"]
    assert await head(services) == before

    insider = Gql(http, token("FACILITATOR", subject="fac-in",
                              facilitator_id=world.facilitator_ids[0]))
    await admin.mutate("startCohort", {"id": world.cohort_id})
    session = (await insider.mutate("scheduleSession",
                                    {"cohortId": world.cohort_id, "startsAt": at(-1)},
                                    "sessionId position"))
    attendance = {"cohortId": world.cohort_id, "sessionId": session["sessionId"],
                  "participantId": world.participant_ids[0], "status": "PRESENT"}
    assert (await insider.mutate("recordAttendance", attendance, "participantId"))[
        "participantId"] == world.participant_ids[0]
    assert (await outsider.mutate_error("recordAttendance", attendance))["extensions"][
        "code"] == "FORBIDDEN"
    # A facilitator without the facilitator claim is assigned nowhere.
    unclaimed = Gql(http, token("FACILITATOR", subject="fac-none"))
    assert (await unclaimed.mutate_error("recordAttendance", attendance))["extensions"][
        "code"] == "FORBIDDEN"


# -- programme managers are limited to their programmes -------------------------


@pytest.mark.parametrize("name", ["createProgramme", "eraseParticipant"])
async def test_manager_may_not_create_programmes_or_erase_people(
    http: httpx.AsyncClient, token: TokenFactory, world: World, name: str
) -> None:
    gql = Gql(http, token("PROGRAMME_MANAGER", programme_ids=[world.programme_id]))
    input = {"name": "P"} if name == "createProgramme" else {"id": world.participant_ids[0]}
    assert await gql.code(mutation(name), {"input": input}) == "FORBIDDEN"


async def test_manager_of_another_programme_may_not_change_this_one(
    http: httpx.AsyncClient, token: TokenFactory, world: World, services: Services
) -> None:
    stranger = Gql(http, token("PROGRAMME_MANAGER", subject="pm-b",
                               programme_ids=[str(uuid.uuid4())]))
    person = world.participant_ids[0]
    attempts = {
        "closeProgramme": {"id": world.programme_id},
        "planCohort": {**SAMPLE_INPUTS["planCohort"], "programmeId": world.programme_id},
        "openCohortEnrolment": {"id": world.cohort_id},
        "cancelCohort": {"id": world.cohort_id, "reason": "mine now"},
        "changeCohortCapacity": {"id": world.cohort_id, "capacity": 9},
        "assignFacilitator": {"cohortId": world.cohort_id,
                              "facilitatorId": world.facilitator_ids[0], "role": "CO"},
        "enrolParticipant": {"cohortId": world.cohort_id, "participantId": person},
        "withdrawParticipant": {"cohortId": world.cohort_id, "participantId": person},
        "scheduleSession": {"cohortId": world.cohort_id, "startsAt": at(3)},
        "recordOutcome": {"participantId": person, "cohortId": world.cohort_id,
                          "measure": "HHI", "timepoint": "BASELINE", "score": 30},
    }
    before = await head(services)
    for name, input in attempts.items():
        error = await stranger.mutate_error(name, input)
        assert error["extensions"]["code"] == "FORBIDDEN", (name, error)
    assert await head(services) == before


async def test_manager_of_another_programme_may_not_record_consent_for_this_ones_people(
    http: httpx.AsyncClient, token: TokenFactory, world: World, services: Services
) -> None:
    assert await services.projections.wait_for(world.position, 5)
    stranger = Gql(http, token("PROGRAMME_MANAGER", subject="pm-b",
                               programme_ids=[str(uuid.uuid4())]))
    person = world.participant_ids[1]
    before = await head(services)
    for name, input in [
        ("withdrawConsent", {"participantId": person, "purpose": "programme-participation",
                             "method": "PHONE"}),
        ("giveConsent", consent_input(person, "research")),
    ]:
        assert (await stranger.mutate_error(name, input))["extensions"]["code"] == "FORBIDDEN"
    assert await head(services) == before


async def test_manager_changes_their_own_programme_and_the_log_records_who(
    http: httpx.AsyncClient, token: TokenFactory, world: World, services: Services
) -> None:
    manager = Gql(http, token("PROGRAMME_MANAGER", subject="pm-a",
                              programme_ids=[world.programme_id]))
    result = await manager.mutate("changeCohortCapacity",
                                  {"id": world.cohort_id, "capacity": 6}, "cohortId position")
    assert result["cohortId"] == world.cohort_id
    rows = await services.store.read_after(result["position"] - 1, limit=1)
    assert rows[0].metadata["actor"] == "pm-a"
    assert rows[0].metadata["role"] == "PROGRAMME_MANAGER"
