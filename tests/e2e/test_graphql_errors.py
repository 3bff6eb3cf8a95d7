"""GraphQL errors: every failure carries ``extensions.code``, and bad input changes nothing."""

from __future__ import annotations

import uuid

import httpx
import pytest

from program.bootstrap import Services
from program.store.errors import VersionConflict
from test_graphql_support import (
    Gql,
    TokenFactory,
    World,
    build_world,
    consenting_person,
    days,
    mutation,
)


@pytest.fixture(scope="module")
def admin(http: httpx.AsyncClient, token: TokenFactory) -> Gql:
    return Gql(http, token("ADMIN", subject="admin-1"))


@pytest.fixture(scope="module")
async def world(admin: Gql) -> World:
    return await build_world(admin, people=2, capacity=2)


async def head(services: Services) -> int:
    return await services.store.max_position()


# -- bad input -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "input"),
    [
        ("activateProgramme", {"id": "not-a-uuid"}),
        ("planCohort", {"programmeId": str(uuid.uuid4()), "name": "C", "format": "ENROLLED",
                        "startsOn": "2030-02-30"}),
        ("planCohort", {"programmeId": str(uuid.uuid4()), "name": "C", "format": "WEEKLY",
                        "startsOn": "2030-02-01"}),
        ("changeCohortCapacity", {"id": str(uuid.uuid4()), "capacity": "ten"}),
        ("createProgramme", {"name": None}),
        ("createProgramme", {"name": "P", "unknownField": 1}),
        ("scheduleSession", {"cohortId": str(uuid.uuid4()), "startsAt": "tomorrow"}),
    ],
    ids=["uuid", "date", "enum", "int", "null", "unknown-field", "datetime"],
)
async def test_malformed_variables_are_bad_user_input_and_change_nothing(
    admin: Gql, services: Services, name: str, input: dict[str, object]
) -> None:
    before = await head(services)
    assert await admin.code(mutation(name), {"input": input}) == "BAD_USER_INPUT"
    assert await head(services) == before


@pytest.mark.parametrize(
    "query",
    [
        'mutation { activateProgramme(input: {id: "nope"}) { position } }',
        "mutation { createProgramme(input: {name: 12}) { position } }",
        "{ me { subject }",
        "{ nothingHere }",
        "mutation { createProgramme(input: {name: \"P\"}) { noSuchField } }",
    ],
    ids=["literal-uuid", "literal-type", "syntax", "unknown-field", "unknown-payload-field"],
)
async def test_invalid_documents_are_bad_user_input(
    admin: Gql, services: Services, query: str
) -> None:
    before = await head(services)
    assert await admin.code(query) == "BAD_USER_INPUT"
    assert await head(services) == before


async def test_a_rule_on_values_is_bad_user_input_with_a_path_and_changes_nothing(
    admin: Gql, services: Services
) -> None:
    before = await head(services)
    error = await admin.mutate_error("createProgramme", {"name": "  "})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["details"]["field"] == "name"
    assert error["path"] == ["createProgramme"]
    assert await head(services) == before


# -- not found and the domain's own codes ---------------------------------------


async def test_unknown_ids_are_not_found(admin: Gql, services: Services) -> None:
    before = await head(services)
    for name, input in [
        ("activateProgramme", {"id": str(uuid.uuid4())}),
        ("openCohortEnrolment", {"id": str(uuid.uuid4())}),
        ("activateFacilitator", {"id": str(uuid.uuid4())}),
    ]:
        assert (await admin.mutate_error(name, input))["extensions"]["code"] == "NOT_FOUND"
    assert await head(services) == before


async def test_domain_rules_answer_with_their_own_codes_and_change_nothing(
    admin: Gql, world: World, services: Services
) -> None:
    stranger = (await admin.mutate("registerParticipant",
                                   {"programmeId": world.programme_id, "name": "No Consent"},
                                   "participantId"))["participantId"]
    unaccredited = (await admin.mutate("registerFacilitator",
                                       {"displayName": "New", "email": "new@example.org"},
                                       "facilitatorId"))["facilitatorId"]
    planned = (await admin.mutate("planCohort",
                                  {"programmeId": world.programme_id, "name": "Later",
                                   "format": "ENROLLED", "capacity": 4, "startsOn": days(30)},
                                  "cohortId"))["cohortId"]
    bare = (await admin.mutate("planCohort",
                               {"programmeId": world.programme_id, "name": "No facilitators",
                                "format": "ENROLLED", "capacity": 4, "startsOn": days(0)},
                               "cohortId"))["cohortId"]
    await admin.mutate("openCohortEnrolment", {"id": bare})
    consenting, _ = await consenting_person(admin, "Willing", world.programme_id)
    cases = [
        ("enrolParticipant", {"cohortId": world.cohort_id, "participantId": stranger},
         "CONSENT_REQUIRED"),
        ("enrolParticipant", {"cohortId": planned, "participantId": consenting},
         "COHORT_NOT_OPEN"),
        ("enrolParticipant", {"cohortId": world.cohort_id, "participantId": world.participant_ids[0]},
         "ALREADY_ENROLLED"),
        ("assignFacilitator", {"cohortId": world.cohort_id, "facilitatorId": unaccredited,
                               "role": "CO"}, "FACILITATOR_NOT_ELIGIBLE"),
        ("activateProgramme", {"id": world.programme_id}, "INVALID_STATE_TRANSITION"),
        ("changeCohortCapacity", {"id": world.cohort_id, "capacity": 1},
         "CAPACITY_BELOW_ENROLLED"),
        ("startCohort", {"id": bare}, "NOT_ENOUGH_FACILITATORS"),
        ("startCohort", {"id": planned}, "INVALID_STATE_TRANSITION"),
    ]
    before = await head(services)
    for name, input, code in cases:
        error = await admin.mutate_error(name, input)
        assert error["extensions"]["code"] == code, (name, error)
        assert error["path"] == [name]
        assert error["message"]
    assert await head(services) == before


# -- unexpected failures ----------------------------------------------------------


async def test_unexpected_errors_leak_no_internals(
    admin: Gql, world: World, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def boom(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("password=hunter2 at /srv/secret.py")

    monkeypatch.setattr(services.application, "close_programme", boom)
    error = await admin.mutate_error("closeProgramme", {"id": world.programme_id})
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "hunter2" not in str(error) and "secret" not in str(error)


async def test_a_lost_race_is_a_conflict(
    admin: Gql, world: World, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def lose(*_args: object, **_kwargs: object) -> None:
        raise VersionConflict(uuid.UUID(world.cohort_id), 3, 4)

    monkeypatch.setattr(services.application, "cancel_cohort", lose)
    error = await admin.mutate_error("cancelCohort", {"id": world.cohort_id, "reason": "x"})
    assert error["extensions"]["code"] == "CONFLICT"


# -- idempotency -------------------------------------------------------------------


async def test_an_idempotency_key_replays_the_first_answer_without_a_second_change(
    admin: Gql, services: Services
) -> None:
    input = {"name": "Once", "idempotencyKey": "create-once-1"}
    fields = "programmeId position replayed"
    first = await admin.mutate("createProgramme", input, fields)
    after_first = await head(services)
    second = await admin.mutate("createProgramme", input, fields)
    assert first["replayed"] is False and second["replayed"] is True
    assert (second["programmeId"], second["position"]) == (first["programmeId"], first["position"])
    assert await head(services) == after_first


async def test_idempotency_keys_belong_to_their_caller(
    admin: Gql, http: httpx.AsyncClient, token: TokenFactory
) -> None:
    other_admin = Gql(http, token("ADMIN", subject="admin-2"))
    input = {"name": "Shared key", "idempotencyKey": "same-key"}
    mine = await admin.mutate("createProgramme", input, "programmeId replayed")
    theirs = await other_admin.mutate("createProgramme", input, "programmeId replayed")
    assert theirs["replayed"] is False
    assert theirs["programmeId"] != mine["programmeId"]


async def test_a_replayed_enrolment_answers_its_status_again(admin: Gql, world: World) -> None:
    person, _ = await consenting_person(admin, "Replay", world.programme_id)
    input = {"cohortId": world.cohort_id, "participantId": person, "idempotencyKey": "enrol-r"}
    fields = "status position replayed"
    first = await admin.mutate("enrolParticipant", input, fields)
    second = await admin.mutate("enrolParticipant", input, fields)
    assert first["status"] == second["status"] == "WAITLISTED"  # the cohort is full
    assert second["replayed"] is True and second["position"] == first["position"]


@pytest.mark.parametrize("key", ["", "k" * 201])
async def test_an_unusable_idempotency_key_is_bad_user_input(
    admin: Gql, services: Services, key: str
) -> None:
    before = await head(services)
    error = await admin.mutate_error("createProgramme", {"name": "P", "idempotencyKey": key})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert await head(services) == before


# -- limits and the IDE ---------------------------------------------------------------


async def test_too_many_aliases_are_refused(admin: Gql) -> None:
    query = "{ " + " ".join(f"a{i}: me {{ subject }}" for i in range(16)) + " }"
    error = await admin.error(query)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "aliases" in error["message"]


async def test_too_many_tokens_are_refused(admin: Gql) -> None:
    query = "{ me { " + " ".join(["subject"] * 3000) + " } }"
    error = await admin.error(query)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "token" in error["message"].lower()


async def test_graphiql_is_served_to_browsers(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()
