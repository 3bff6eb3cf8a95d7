"""Helpers shared by the GraphQL end-to-end tests (this module holds no tests).

A ``Gql`` speaks GraphQL over the real HTTP app as one token's holder, and the
``programme_world`` builder sets up a programme through mutations only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

TODAY = datetime.now(UTC).date()
KINDS = ("PEER_SUPPORT_TRAINING", "SAFEGUARDING", "BACKGROUND_CHECK")
PURPOSE = "programme-participation"


def days(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


def at(n_days: int, hour: int = 18) -> str:
    """An ISO date-time ``n_days`` from today, in UTC."""
    d = TODAY + timedelta(days=n_days)
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC).isoformat()


class GraphQLFailed(AssertionError):
    pass


@dataclass
class Gql:
    """GraphQL over HTTP as the holder of one bearer token (or none)."""

    http: httpx.AsyncClient
    token: str | None

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The data of a query that must succeed."""
        body = await self.post(query, variables)
        if body.get("errors"):
            raise GraphQLFailed(body["errors"])
        return body["data"]  # type: ignore[no-any-return]

    async def error(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The first error of a query that must fail."""
        body = await self.post(query, variables)
        assert body.get("errors"), f"expected an error, got {body}"
        return body["errors"][0]  # type: ignore[no-any-return]

    async def code(self, query: str, variables: dict[str, Any] | None = None) -> str:
        return str((await self.error(query, variables))["extensions"]["code"])

    async def mutate(self, name: str, input: dict[str, Any], fields: str = "position") -> dict[str, Any]:
        """Run mutation ``name(input: …)`` and return its payload."""
        return (await self.data(mutation(name, fields), {"input": input}))[name]  # type: ignore[no-any-return]

    async def mutate_error(self, name: str, input: dict[str, Any]) -> dict[str, Any]:
        return await self.error(mutation(name), {"input": input})


INPUT_TYPES = {
    "createProgramme": "CreateProgrammeInput",
    "activateProgramme": "ProgrammeIdInput",
    "closeProgramme": "ProgrammeIdInput",
    "planCohort": "PlanCohortInput",
    "openCohortEnrolment": "CohortIdInput",
    "startCohort": "CohortIdInput",
    "completeCohort": "CohortIdInput",
    "cancelCohort": "CancelCohortInput",
    "changeCohortCapacity": "ChangeCohortCapacityInput",
    "registerFacilitator": "RegisterFacilitatorInput",
    "recordFacilitatorCredential": "RecordFacilitatorCredentialInput",
    "activateFacilitator": "FacilitatorIdInput",
    "beginFacilitatorTraining": "FacilitatorIdInput",
    "retireFacilitator": "FacilitatorIdInput",
    "suspendFacilitator": "SuspendFacilitatorInput",
    "assignFacilitator": "AssignFacilitatorInput",
    "registerParticipant": "RegisterParticipantInput",
    "giveConsent": "GiveConsentInput",
    "withdrawConsent": "WithdrawConsentInput",
    "enrolParticipant": "EnrolParticipantInput",
    "withdrawParticipant": "WithdrawParticipantInput",
    "scheduleSession": "ScheduleSessionInput",
    "recordAttendance": "RecordAttendanceInput",
    "recordOutcome": "RecordOutcomeInput",
    "eraseParticipant": "ParticipantIdInput",
    "updateProgramme": "UpdateProgrammeInput",
    "updateParticipant": "UpdateParticipantInput",
    "refuseConsent": "RefuseConsentInput",
    "revokeConsent": "RevokeConsentInput",
    "unassignFacilitator": "UnassignFacilitatorInput",
    "rescheduleSession": "RescheduleSessionInput",
    "cancelSession": "CancelSessionInput",
    "correctAttendance": "CorrectAttendanceInput",
    "amendOutcome": "AmendOutcomeInput",
    "eraseFacilitator": "FacilitatorIdInput",
    "issueCheckpoint": "IssueCheckpointInput",
    "exportSubjectData": "ParticipantIdInput",
}


def mutation(name: str, fields: str = "position") -> str:
    return f"mutation M($input: {INPUT_TYPES[name]}!) {{ {name}(input: $input) {{ {fields} }} }}"


@dataclass
class World:
    """Ids of what ``build_world`` set up."""

    programme_id: str
    cohort_id: str
    facilitator_ids: list[str]
    participant_ids: list[str] = field(default_factory=list)
    position: int = 0


async def accredited_facilitator(admin: Gql, name: str, valid_days: int = 365) -> tuple[str, int]:
    fid = (await admin.mutate("registerFacilitator",
                              {"displayName": name, "email": f"{name.lower()}@example.org",
                               "maxCohorts": 5}, "facilitatorId"))["facilitatorId"]
    for kind in KINDS:
        await admin.mutate("recordFacilitatorCredential",
                           {"facilitatorId": fid, "kind": kind, "validUntil": days(valid_days)})
    position = (await admin.mutate("activateFacilitator", {"id": fid}))["position"]
    return fid, position


async def consenting_person(gql: Gql, name: str, programme_id: str) -> tuple[str, int]:
    """A person registered into ``programme_id`` who consented to take part."""
    pid = (await gql.mutate("registerParticipant",
                            {"programmeId": programme_id, "name": name,
                             "email": f"{name.lower()}@example.org",
                             "phone": "07700 900000", "referralSource": "GP"},
                            "participantId"))["participantId"]
    position = (await gql.mutate("giveConsent", consent_input(pid)))["position"]
    return pid, position


def consent_input(pid: str, purpose: str = PURPOSE) -> dict[str, Any]:
    return {"participantId": pid, "purpose": purpose, "noticeId": "notice-1",
            "noticeVersion": "v1", "lawfulBasis": "CONSENT", "method": "PAPER_FORM",
            "recipients": ["evaluator-a"], "validUntil": days(365)}


async def build_world(admin: Gql, *, people: int = 0, capacity: int = 10, open: bool = True,
                      name: str = "Hope group", facilitators: int = 2) -> World:
    """A programme (ACTIVE), a cohort (OPEN) with assigned facilitators, consenting people enrolled."""
    pid = (await admin.mutate("createProgramme",
                              {"name": name, "outcomeMeasures": ["HHI"],
                               "optionalConsentPurposes": ["research"],
                               "minFacilitatorsPerCohort": 2}, "programmeId"))["programmeId"]
    await admin.mutate("activateProgramme", {"id": pid})
    planned = await admin.mutate("planCohort",
                                 {"programmeId": pid, "name": f"{name} cohort", "format": "ENROLLED",
                                  "capacity": capacity, "startsOn": days(-7), "venue": "Hall"},
                                 "cohortId position")
    cid, position = planned["cohortId"], planned["position"]
    fids = []
    for i in range(facilitators):
        fid, _ = await accredited_facilitator(admin, f"Fac{i}")
        position = (await admin.mutate(
            "assignFacilitator",
            {"cohortId": cid, "facilitatorId": fid, "role": "LEAD" if i == 0 else "CO"}))["position"]
        fids.append(fid)
    if open:
        position = (await admin.mutate("openCohortEnrolment", {"id": cid}))["position"]
    world = World(pid, cid, fids, position=position)
    for i in range(people):
        person, _ = await consenting_person(admin, f"Person{i}", pid)
        position = (await admin.mutate("enrolParticipant",
                                       {"cohortId": cid, "participantId": person}))["position"]
        world.participant_ids.append(person)
        world.position = position
    return world


TokenFactory = Callable[..., str]
