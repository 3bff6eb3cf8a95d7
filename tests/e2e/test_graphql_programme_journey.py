"""A whole programme, run through /graphql only, checked after every step.

An admin creates and activates a programme; its manager accredits two facilitators,
plans and opens a cohort, registers seven people who consent, and enrols them past
capacity; the cohort starts, a facilitator runs sessions and records attendance, the
manager records outcomes; one person withdraws consent, which ends their enrolment and
promotes the head of the waitlist. After each step the dashboards, consent histories
and audit trail say what happened; an auditor reviews the result.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from test_graphql_support import KINDS, PURPOSE, Gql, TokenFactory, at, consent_input, days


OVERVIEW = """query O($id: UUID!, $p: Int) { programme(id: $id, consistentWith: $p) {
  name status cohortCount cohortsByStatus { status count } enrolled waitlisted
  attendance { present recorded rate } } }"""

DASHBOARD = """query D($id: UUID!, $p: Int) { cohort(id: $id, consistentWith: $p) {
  status capacity startedOn enrolledCount waitlistCount placesLeft
  enrolled { participantId } waitlist { participantId place }
  facilitators { role facilitator { id displayName activeCohortCount upcomingSessions } }
  sessions { id } nextSession { id startsAt }
  attendance { present recorded rate }
  consecutiveAbsences { participantId consecutive }
  outcomes { measure baselineCount followUpCount people meanChange suppressed } } }"""

FACILITATOR = """query F($id: UUID!, $p: Int) { facilitator(id: $id, consistentWith: $p) {
  status activeCohortCount upcomingSessions credentials { kind daysToExpiry expired }
  cohorts { cohortId role active } } }"""

HISTORY = """query H($id: UUID!, $asOf: DateTime, $p: Int) {
  consentHistory(participantId: $id, purpose: "programme-participation", asOf: $asOf,
                 consistentWith: $p) {
    changes { state noticeVersion method recordedBy lawfulBasis recipients at position }
    statesAsOf { purpose state validAt } } }"""

TRAIL = """query T($filter: AuditTrailFilter, $p: Int, $after: String) {
  auditTrail(filter: $filter, first: 100, after: $after, consistentWith: $p) {
    edges { node { position aggregateId aggregateType eventType actor role command
                   correlationId causationId eventId } }
    pageInfo { hasNextPage endCursor } } }"""

PERSON = """query P($id: UUID!, $p: Int) { participant(id: $id, consistentWith: $p) {
  name personalDataVisible consents { purpose state } cohorts { cohortId status } } }"""


class Journey:
    """The roles' clients and what the journey has made so far."""

    def __init__(self, http: httpx.AsyncClient, token: TokenFactory) -> None:
        self.http = http
        self.token = token
        self.admin = Gql(http, token("ADMIN", subject="admin-ana"))
        self.auditor = Gql(http, token("AUDITOR", subject="auditor-aud"))
        self.position = 0
        self.programme_id = ""
        self.cohort_id = ""
        self.manager: Gql = self.admin
        self.facilitators: list[str] = []
        self.people: list[str] = []

    async def do(self, gql: Gql, name: str, input: dict[str, Any], fields: str = "position") -> dict[str, Any]:
        payload = await gql.mutate(name, input, fields if "position" in fields else f"{fields} position")
        assert payload["position"] > self.position
        self.position = payload["position"]
        return payload

    async def overview(self) -> dict[str, Any]:
        return (await self.manager.data(OVERVIEW, {"id": self.programme_id, "p": self.position}))["programme"]

    async def dashboard(self, gql: Gql | None = None) -> dict[str, Any]:
        return (await (gql or self.manager).data(DASHBOARD, {"id": self.cohort_id, "p": self.position}))["cohort"]

    async def trail(self, **filter: Any) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        after = None
        while True:
            page = (await self.auditor.data(TRAIL, {"filter": filter, "p": self.position,
                                                    "after": after}))["auditTrail"]
            entries += [e["node"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return entries
            after = page["pageInfo"]["endCursor"]

    async def events_of(self, aggregate_id: str) -> list[str]:
        return [e["eventType"] for e in await self.trail(aggregateId=aggregate_id)]

    async def history(self, person: str, as_of: str | None = None) -> dict[str, Any]:
        return (await self.auditor.data(HISTORY, {"id": person, "asOf": as_of,
                                                  "p": self.position}))["consentHistory"]


@pytest.fixture(scope="module")
def journey(http: httpx.AsyncClient, token: TokenFactory) -> Journey:
    return Journey(http, token)


async def test_a_programme_from_creation_to_a_withdrawn_consent(journey: Journey) -> None:
    j = journey
    await create_and_activate_programme(j)
    await accredit_two_facilitators(j)
    await plan_and_open_a_cohort(j)
    await register_people_who_consent(j)
    await enrol_past_capacity(j)
    await start_the_cohort(j)
    await run_sessions_with_attendance(j)
    await record_outcomes(j)
    await withdraw_a_consent(j)
    await auditor_reviews(j)


async def create_and_activate_programme(j: Journey) -> None:
    created = await j.do(j.admin, "createProgramme", {
        "name": "Bipolar peer support", "description": "Weekly peer groups",
        "outcomeMeasures": ["HHI", "WEMWBS"], "minFacilitatorsPerCohort": 2,
    }, "programmeId")
    j.programme_id = created["programmeId"]
    j.manager = Gql(j.http, j.token("PROGRAMME_MANAGER", subject="pm-pat",
                                    programme_ids=[j.programme_id]))
    overview = await j.overview()
    assert (overview["name"], overview["status"], overview["cohortCount"]) == (
        "Bipolar peer support", "DRAFT", 0)

    await j.do(j.admin, "activateProgramme", {"id": j.programme_id})
    assert (await j.overview())["status"] == "ACTIVE"
    trail = await j.trail(aggregateId=j.programme_id)
    assert [(e["eventType"], e["actor"], e["role"], e["command"]) for e in trail] == [
        ("Created", "admin-ana", "ADMIN", "createProgramme"),
        ("Activated", "admin-ana", "ADMIN", "activateProgramme"),
    ]


async def accredit_two_facilitators(j: Journey) -> None:
    for name in ("Robin", "Sasha"):
        fid = (await j.do(j.manager, "registerFacilitator",
                          {"displayName": name, "email": f"{name.lower()}@example.org",
                           "maxCohorts": 3}, "facilitatorId"))["facilitatorId"]
        for kind in KINDS:
            await j.do(j.manager, "recordFacilitatorCredential",
                       {"facilitatorId": fid, "kind": kind, "validUntil": days(365)})
        await j.do(j.manager, "activateFacilitator", {"id": fid})
        load = (await j.manager.data(FACILITATOR, {"id": fid, "p": j.position}))["facilitator"]
        assert load["status"] == "ACTIVE" and load["activeCohortCount"] == 0
        assert sorted(c["kind"] for c in load["credentials"]) == sorted(KINDS)
        assert {c["daysToExpiry"] for c in load["credentials"]} == {365}
        trail = await j.trail(aggregateId=fid)
        assert [e["eventType"] for e in trail] == [
            "Registered", "CredentialRecorded", "CredentialRecorded", "CredentialRecorded",
            "Activated"]
        assert {(e["actor"], e["role"]) for e in trail} == {("pm-pat", "PROGRAMME_MANAGER")}
        j.facilitators.append(fid)


async def plan_and_open_a_cohort(j: Journey) -> None:
    j.cohort_id = (await j.do(j.manager, "planCohort", {
        "programmeId": j.programme_id, "name": "Tuesday evenings", "format": "ENROLLED",
        "capacity": 5, "startsOn": days(-7), "venue": "Community hall",
    }, "cohortId"))["cohortId"]
    dashboard = await j.dashboard()
    assert (dashboard["status"], dashboard["capacity"], dashboard["placesLeft"]) == ("PLANNED", 5, 5)

    await j.do(j.manager, "openCohortEnrolment", {"id": j.cohort_id})
    for fid, role in zip(j.facilitators, ("LEAD", "CO"), strict=True):
        await j.do(j.manager, "assignFacilitator",
                   {"cohortId": j.cohort_id, "facilitatorId": fid, "role": role})
    dashboard = await j.dashboard()
    assert dashboard["status"] == "OPEN"
    assert [(f["role"], f["facilitator"]["displayName"], f["facilitator"]["activeCohortCount"])
            for f in dashboard["facilitators"]] == [("LEAD", "Robin", 1), ("CO", "Sasha", 1)]
    assert (await j.overview())["cohortsByStatus"] == [{"status": "OPEN", "count": 1}]
    assert await j.events_of(j.cohort_id) == [
        "Planned", "EnrolmentOpened", "FacilitatorAssigned", "FacilitatorAssigned"]


async def register_people_who_consent(j: Journey) -> None:
    for i in range(7):
        pid = (await j.do(j.manager, "registerParticipant", {
            "programmeId": j.programme_id, "name": f"Member {i}", "email": f"member{i}@example.org", "phone": "07700 900123",
            "referralSource": "Community mental health team",
        }, "participantId"))["participantId"]
        await j.do(j.manager, "giveConsent", consent_input(pid))
        j.people.append(pid)
    person = (await j.manager.data(PERSON, {"id": j.people[0], "p": j.position}))["participant"]
    # Registered into the manager's programme: theirs before any enrolment.
    assert person["consents"] == [{"purpose": PURPOSE, "state": "GIVEN"}]
    assert (person["name"], person["personalDataVisible"]) == ("Member 0", True)
    history = await j.history(j.people[0])
    assert [(c["state"], c["noticeVersion"], c["method"], c["recordedBy"], c["recipients"])
            for c in history["changes"]] == [
        ("GIVEN", "v1", "PAPER_FORM", "pm-pat", ["evaluator-a"])]
    assert await j.events_of(j.people[0]) == ["Registered"]


async def enrol_past_capacity(j: Journey) -> None:
    statuses = []
    for pid in j.people:
        statuses.append((await j.do(j.manager, "enrolParticipant",
                                    {"cohortId": j.cohort_id, "participantId": pid},
                                    "status"))["status"])
    assert statuses == ["ENROLLED"] * 5 + ["WAITLISTED"] * 2
    dashboard = await j.dashboard()
    assert [m["participantId"] for m in dashboard["enrolled"]] == j.people[:5]
    assert [(m["participantId"], m["place"]) for m in dashboard["waitlist"]] == [
        (j.people[5], 1), (j.people[6], 2)]
    assert (dashboard["enrolledCount"], dashboard["waitlistCount"], dashboard["placesLeft"]) == (5, 2, 0)
    overview = await j.overview()
    assert (overview["enrolled"], overview["waitlisted"]) == (5, 2)
    person = (await j.manager.data(PERSON, {"id": j.people[0], "p": j.position}))["participant"]
    assert (person["name"], person["personalDataVisible"]) == ("Member 0", True)
    assert person["cohorts"] == [{"cohortId": j.cohort_id, "status": "ENROLLED"}]
    events = await j.events_of(j.cohort_id)
    assert events[-7:] == ["ParticipantEnrolled"] * 5 + ["ParticipantWaitlisted"] * 2


async def start_the_cohort(j: Journey) -> None:
    await j.do(j.manager, "startCohort", {"id": j.cohort_id})
    dashboard = await j.dashboard()
    assert (dashboard["status"], dashboard["startedOn"]) == ("RUNNING", days(0))
    assert (await j.overview())["cohortsByStatus"] == [{"status": "RUNNING", "count": 1}]
    assert (await j.events_of(j.cohort_id))[-1] == "Started"


async def run_sessions_with_attendance(j: Journey) -> None:
    lead = Gql(j.http, j.token("FACILITATOR", subject="fac-robin", facilitator_id=j.facilitators[0]))
    sessions = []
    for offset in (-3, -2, -1, 7):
        sessions.append((await j.do(lead, "scheduleSession",
                                    {"cohortId": j.cohort_id, "startsAt": at(offset)},
                                    "sessionId"))["sessionId"])
    absent = j.people[4]
    for session in sessions[:3]:
        for pid in j.people[:5]:
            status = "ABSENT_UNEXCUSED" if pid == absent else "PRESENT"
            await j.do(lead, "recordAttendance", {"cohortId": j.cohort_id, "sessionId": session,
                                                  "participantId": pid, "status": status})
    dashboard = await j.dashboard(lead)
    assert len(dashboard["sessions"]) == 4
    assert dashboard["nextSession"]["id"] == sessions[3]
    assert dashboard["attendance"] == {"present": 12, "recorded": 15, "rate": pytest.approx(0.8)}
    assert dashboard["consecutiveAbsences"] == [{"participantId": absent, "consecutive": 3}]
    assert {f["facilitator"]["upcomingSessions"] for f in dashboard["facilitators"]} == {1}
    overview = await j.overview()
    assert overview["attendance"]["rate"] == pytest.approx(0.8)
    trail = await j.trail(aggregateId=j.cohort_id, eventType="COHORT_ATTENDANCE_RECORDED")
    assert len(trail) == 15 and {(e["actor"], e["role"]) for e in trail} == {("fac-robin", "FACILITATOR")}


async def record_outcomes(j: Journey) -> None:
    for i, pid in enumerate(j.people[:5]):
        for timepoint, score in (("BASELINE", 20 + i), ("FOLLOW_UP", 26 + i)):
            await j.do(j.manager, "recordOutcome", {"participantId": pid, "cohortId": j.cohort_id,
                                                    "measure": "HHI", "timepoint": timepoint,
                                                    "score": score})
    for pid in j.people[:2]:
        await j.do(j.manager, "recordOutcome", {"participantId": pid, "cohortId": j.cohort_id,
                                                "measure": "WEMWBS", "timepoint": "BASELINE",
                                                "score": 40})
    outcomes = {o["measure"]: o for o in (await j.dashboard())["outcomes"]}
    assert outcomes["HHI"] == {"measure": "HHI", "baselineCount": 5, "followUpCount": 5,
                               "people": 5, "meanChange": pytest.approx(6.0), "suppressed": False}
    assert outcomes["WEMWBS"] == {"measure": "WEMWBS", "baselineCount": None,
                                  "followUpCount": 0, "people": 0, "meanChange": None,
                                  "suppressed": True}
    admin_view = {o["measure"]: o for o in (await j.dashboard(j.admin))["outcomes"]}
    assert (admin_view["WEMWBS"]["baselineCount"], admin_view["WEMWBS"]["suppressed"]) == (2, False)
    assert (await j.events_of(j.people[0]))[-3:] == ["OutcomeRecorded"] * 3


async def withdraw_a_consent(j: Journey) -> None:
    leaver, head = j.people[1], j.people[5]
    before = datetime.now(UTC).isoformat()
    withdrawn = await j.do(j.manager, "withdrawConsent", {
        "participantId": leaver, "purpose": PURPOSE, "method": "PHONE",
        "reason": "moving away"}, "endedCohortIds")
    assert withdrawn["endedCohortIds"] == [j.cohort_id]

    dashboard = await j.dashboard()
    assert [m["participantId"] for m in dashboard["enrolled"]] == [
        j.people[0], j.people[2], j.people[3], j.people[4], head]
    assert [m["participantId"] for m in dashboard["waitlist"]] == [j.people[6]]
    overview = await j.overview()
    assert (overview["enrolled"], overview["waitlisted"]) == (5, 1)

    person = (await j.manager.data(PERSON, {"id": leaver, "p": j.position}))["participant"]
    assert person["consents"] == [{"purpose": PURPOSE, "state": "WITHDRAWN"}]
    assert person["cohorts"] == [{"cohortId": j.cohort_id, "status": "WITHDRAWN"}]

    history = await j.history(leaver)
    assert [(c["state"], c["method"]) for c in history["changes"]] == [
        ("GIVEN", "PAPER_FORM"), ("WITHDRAWN", "PHONE")]
    assert history["statesAsOf"] == [{"purpose": PURPOSE, "state": "WITHDRAWN", "validAt": None}]
    earlier = await j.history(leaver, as_of=before)
    assert earlier["statesAsOf"] == [{"purpose": PURPOSE, "state": "GIVEN", "validAt": True}]
    assert len(earlier["changes"]) == 2  # the timeline is whole; the state is as of then

    # The withdrawal caused the enrolment to end: one correlation, causation recorded.
    consent_event = (await j.trail(eventType="CONSENT_WITHDRAWN"))[-1]
    ended = [e for e in await j.trail(aggregateId=j.cohort_id)
             if e["correlationId"] == consent_event["correlationId"]]
    assert [e["eventType"] for e in ended] == ["ParticipantWithdrawn", "ParticipantPromoted"]
    assert all(e["causationId"] for e in ended)
    assert {e["command"] for e in ended} == {"withdrawConsent"}


async def auditor_reviews(j: Journey) -> None:
    dashboard = await j.dashboard(j.auditor)
    assert dashboard["status"] == "RUNNING"
    assert all(f["facilitator"]["displayName"] is None for f in dashboard["facilitators"])
    person = (await j.auditor.data(PERSON, {"id": j.people[1], "p": j.position}))["participant"]
    assert (person["name"], person["personalDataVisible"]) == (None, False)
    everything = await j.trail()
    assert [e["position"] for e in everything] == sorted(e["position"] for e in everything)
    assert everything[-1]["position"] == j.position
    by_subject = {e["actor"] for e in everything}
    assert {"admin-ana", "pm-pat", "fac-robin"} <= by_subject
    assert await j.auditor.code(
        "mutation { closeProgramme(input: {id: \"%s\"}) { position } }" % j.programme_id
    ) == "FORBIDDEN"
