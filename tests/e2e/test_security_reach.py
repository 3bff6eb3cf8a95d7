"""Issue 6, findings 1 and 2, reproduced over real HTTP as the probe did them: a manager of
programme A reaching B's people and facilitators, and idempotency keys shared by callers."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from program.bootstrap import Services
from test_graphql_support import (
    Gql,
    TokenFactory,
    World,
    accredited_facilitator,
    at,
    build_world,
    consent_input,
    consenting_person,
    days,
)

PERSON = """query P($id: UUID!) { participant(id: $id) { name email phone } }"""
HISTORY = """query H($id: UUID!) { consentHistory(participantId: $id) { changes { state } } }"""


@dataclass
class Scene:
    a: World
    b: World
    pm_a: Gql
    pm_b: Gql  # minted with the same default subject as pm_a
    pm_none: Gql


@pytest.fixture(scope="module")
def admin(http: httpx.AsyncClient, token: TokenFactory) -> Gql:
    return Gql(http, token("ADMIN", subject="admin-1"))


@pytest.fixture(scope="module")
async def scene(admin: Gql, http: httpx.AsyncClient, token: TokenFactory) -> Scene:
    a = await build_world(admin, people=1, name="Alpha")
    b = await build_world(admin, people=1, name="Beta")

    def pm(*programmes: str) -> Gql:
        return Gql(http, token("PROGRAMME_MANAGER", programme_ids=list(programmes)))

    return Scene(a, b, pm(a.programme_id), pm(b.programme_id), pm())


async def head(services: Services) -> int:
    return await services.store.max_position()


async def refused(gql: Gql, name: str, input: dict, services: Services) -> str:
    """The mutation's error code; it must have appended nothing."""
    before = await head(services)
    code = (await gql.mutate_error(name, input))["extensions"]["code"]
    assert await head(services) == before, name
    return str(code)


async def test_a_manager_cannot_enrol_another_programmes_person_and_then_read_them(
    scene: Scene, services: Services
) -> None:
    theirs = scene.b.participant_ids[0]
    assert await refused(scene.pm_a, "enrolParticipant",
                         {"cohortId": scene.a.cohort_id, "participantId": theirs},
                         services) == "FORBIDDEN"
    assert await scene.pm_a.code(PERSON, {"id": theirs}) == "FORBIDDEN"
    assert await scene.pm_a.code(HISTORY, {"id": theirs}) == "FORBIDDEN"
    assert (await scene.pm_b.data(PERSON, {"id": theirs}))["participant"]["name"] == "Person0"


async def test_a_manager_cannot_grab_a_freshly_registered_person_of_another_programme(
    admin: Gql, scene: Scene, services: Services
) -> None:
    fresh, _ = await consenting_person(admin, "Fresh", scene.b.programme_id)
    for gql in (scene.pm_a, scene.pm_none):
        assert await refused(gql, "giveConsent", consent_input(fresh, "research"),
                             services) == "FORBIDDEN"
        assert await refused(gql, "enrolParticipant",
                             {"cohortId": scene.a.cohort_id, "participantId": fresh},
                             services) == "FORBIDDEN"
    assert await refused(scene.pm_a, "registerParticipant",
                         {"programmeId": scene.b.programme_id, "name": "Mine now"},
                         services) == "FORBIDDEN"
    mine = await scene.pm_a.mutate("registerParticipant",
                                   {"programmeId": scene.a.programme_id, "name": "Mine"},
                                   "participantId")
    assert mine["participantId"]


async def test_a_manager_cannot_withdraw_another_programmes_person_or_their_consent(
    scene: Scene, services: Services
) -> None:
    theirs = scene.b.participant_ids[0]
    assert await refused(scene.pm_a, "withdrawConsent",
                         {"participantId": theirs, "purpose": "programme-participation",
                          "method": "PHONE"}, services) == "FORBIDDEN"
    assert await refused(scene.pm_a, "withdrawParticipant",
                         {"cohortId": scene.b.cohort_id, "participantId": theirs},
                         services) == "FORBIDDEN"


@pytest.mark.parametrize("name, extra", [
    ("suspendFacilitator", {"reason": "taken over"}),
    ("activateFacilitator", {}),
    ("beginFacilitatorTraining", {}),
    ("retireFacilitator", {}),
])
async def test_a_manager_cannot_act_on_another_programmes_facilitators(
    scene: Scene, services: Services, name: str, extra: dict
) -> None:
    theirs = scene.b.facilitator_ids[0]
    for gql in (scene.pm_a, scene.pm_none):
        assert await refused(gql, name, {"id": theirs, **extra}, services) == "FORBIDDEN"
        assert await refused(gql, "recordFacilitatorCredential",
                             {"facilitatorId": theirs, "kind": "SAFEGUARDING",
                              "validUntil": days(1)}, services) == "FORBIDDEN"
        assert await refused(gql, "assignFacilitator",
                             {"cohortId": scene.a.cohort_id, "facilitatorId": theirs,
                              "role": "CO"}, services) == "FORBIDDEN"


async def test_a_manager_may_take_on_a_facilitator_who_serves_no_programme_yet(
    admin: Gql, scene: Scene
) -> None:
    fid, _ = await accredited_facilitator(admin, "Newcomer")
    await scene.pm_a.mutate("assignFacilitator",
                            {"cohortId": scene.a.cohort_id, "facilitatorId": fid, "role": "CO"})
    assert await scene.pm_b.code(
        'mutation { suspendFacilitator(input: {id: "%s", reason: "r"}) { position } }' % fid
    ) == "FORBIDDEN"


async def test_record_outcome_and_drop_in_attendance_need_a_member_who_exists(
    admin: Gql, scene: Scene, services: Services
) -> None:
    outsider, _ = await consenting_person(admin, "Outsider", scene.a.programme_id)
    assert await refused(admin, "recordOutcome",
                         {"participantId": outsider, "cohortId": scene.a.cohort_id,
                          "measure": "HHI", "timepoint": "BASELINE", "score": 30},
                         services) == "NOT_ENROLLED"
    drop_in = (await admin.mutate("planCohort",
                                  {"programmeId": scene.a.programme_id, "name": "Drop-in",
                                   "format": "DROP_IN", "startsOn": days(0)},
                                  "cohortId"))["cohortId"]
    for fid in scene.a.facilitator_ids:
        await admin.mutate("assignFacilitator",
                           {"cohortId": drop_in, "facilitatorId": fid, "role": "CO"})
    await admin.mutate("startCohort", {"id": drop_in})
    session = (await admin.mutate("scheduleSession", {"cohortId": drop_in, "startsAt": at(1)},
                                  "sessionId"))["sessionId"]
    ghost = "00000000-0000-4000-8000-000000000000"
    assert await refused(admin, "recordAttendance",
                         {"cohortId": drop_in, "sessionId": session, "participantId": ghost,
                          "status": "PRESENT"}, services) == "NOT_FOUND"
    assert await refused(scene.pm_a, "recordAttendance",
                         {"cohortId": drop_in, "sessionId": session,
                          "participantId": scene.b.participant_ids[0], "status": "PRESENT"},
                         services) == "FORBIDDEN"


# -- idempotency keys -----------------------------------------------------------------------


async def test_two_managers_with_the_same_subject_do_not_share_idempotency_keys(
    scene: Scene,
) -> None:
    fields = "cohortId replayed"
    mine = await scene.pm_a.mutate("planCohort", {
        "programmeId": scene.a.programme_id, "name": "Weekly", "format": "DROP_IN",
        "startsOn": days(3), "idempotencyKey": "plan-1"}, fields)
    theirs = await scene.pm_b.mutate("planCohort", {
        "programmeId": scene.b.programme_id, "name": "Weekly", "format": "DROP_IN",
        "startsOn": days(3), "idempotencyKey": "plan-1"}, fields)
    assert theirs["replayed"] is False and theirs["cohortId"] != mine["cohortId"]


async def test_a_reused_key_with_another_input_is_a_conflict(
    scene: Scene, services: Services
) -> None:
    input = {"programmeId": scene.a.programme_id, "name": "Once", "format": "DROP_IN",
             "startsOn": days(3), "idempotencyKey": "plan-2"}
    first = await scene.pm_a.mutate("planCohort", input, "cohortId replayed")
    again = await scene.pm_a.mutate("planCohort", input, "cohortId replayed")
    assert again == {**first, "replayed": True}
    error = await refused(scene.pm_a, "planCohort", {**input, "name": "Twice"}, services)
    assert error == "CONFLICT"


async def test_a_key_is_replayed_only_to_a_caller_authorised_for_the_command(
    admin: Gql, scene: Scene, services: Services
) -> None:
    """The probe: B sent A's key and got A's ids back. Now B's own command is judged."""
    input = {"cohortId": scene.a.cohort_id, "startsAt": at(2), "idempotencyKey": "s-1"}
    await scene.pm_a.mutate("scheduleSession", input, "sessionId")
    assert await refused(scene.pm_b, "scheduleSession", input, services) == "FORBIDDEN"
