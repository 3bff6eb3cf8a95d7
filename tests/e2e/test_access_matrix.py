"""Every role on every field of the schema, over real HTTP: allowed, FORBIDDEN or
UNAUTHENTICATED, as the access policy says; a forbidden mutation appends nothing.

The cases are generated from the Strawberry schema itself, so a new Query, Mutation or
Subscription field without a row in ``ALLOWED`` (and a request in ``REQUESTS``) fails here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from program.api.graphql.schema import schema
from program.bootstrap import Services
from test_graphql_support import (
    INPUT_TYPES,
    Gql,
    TokenFactory,
    World,
    at,
    build_world,
    consent_input,
    consenting_person,
    days,
)

ADMIN, PM_IN, PM_OUT, PM_NONE = "ADMIN", "PM_IN", "PM_OUT", "PM_NONE"
FAC_IN, FAC_OUT, AUDITOR, PARTNER, ANONYMOUS = "FAC_IN", "FAC_OUT", "AUDITOR", "PARTNER", "ANONYMOUS"
ROLES = [ADMIN, PM_IN, PM_OUT, PM_NONE, FAC_IN, FAC_OUT, AUDITOR, PARTNER, ANONYMOUS]
MANAGERS_IN = {ADMIN, PM_IN}
ANY_MANAGER = {ADMIN, PM_IN, PM_OUT, PM_NONE}

# Who may use each field on programme A's records (everyone else: FORBIDDEN; no token:
# UNAUTHENTICATED). PM_IN manages A, PM_OUT manages B, PM_NONE nothing; FAC_IN is the lead
# facilitator of A's cohort, FAC_OUT of B's.
ALLOWED: dict[str, set[str]] = {
    # mutations
    "createProgramme": {ADMIN},
    "activateProgramme": MANAGERS_IN,
    "closeProgramme": MANAGERS_IN,
    "planCohort": MANAGERS_IN,
    "openCohortEnrolment": MANAGERS_IN,
    "startCohort": MANAGERS_IN,
    "completeCohort": MANAGERS_IN,
    "cancelCohort": MANAGERS_IN,
    "changeCohortCapacity": MANAGERS_IN,
    "registerFacilitator": ANY_MANAGER,
    "recordFacilitatorCredential": MANAGERS_IN,
    "activateFacilitator": MANAGERS_IN,
    "beginFacilitatorTraining": MANAGERS_IN,
    "suspendFacilitator": MANAGERS_IN,
    "retireFacilitator": MANAGERS_IN,
    "assignFacilitator": MANAGERS_IN,
    "registerParticipant": MANAGERS_IN,
    "giveConsent": MANAGERS_IN,
    "withdrawConsent": MANAGERS_IN,
    "enrolParticipant": MANAGERS_IN,
    "withdrawParticipant": MANAGERS_IN,
    "scheduleSession": MANAGERS_IN | {FAC_IN},
    "recordAttendance": MANAGERS_IN | {FAC_IN},
    "recordOutcome": MANAGERS_IN,
    "eraseParticipant": {ADMIN},
    "updateProgramme": MANAGERS_IN,
    "updateParticipant": MANAGERS_IN,
    "refuseConsent": MANAGERS_IN,
    "revokeConsent": MANAGERS_IN,
    "unassignFacilitator": MANAGERS_IN,
    "rescheduleSession": MANAGERS_IN | {FAC_IN},
    "cancelSession": MANAGERS_IN | {FAC_IN},
    "correctAttendance": MANAGERS_IN | {FAC_IN},
    "amendOutcome": MANAGERS_IN,
    "eraseFacilitator": {ADMIN},
    "issueCheckpoint": {ADMIN},
    "exportSubjectData": {ADMIN},
    # queries
    "me": set(ROLES) - {ANONYMOUS},
    "programme": MANAGERS_IN | {AUDITOR},
    "programmes": ANY_MANAGER | {AUDITOR},
    "cohort": MANAGERS_IN | {AUDITOR, FAC_IN},
    "cohorts": ANY_MANAGER | {AUDITOR, FAC_IN, FAC_OUT},
    "facilitator": ANY_MANAGER | {AUDITOR, FAC_IN},
    "facilitators": ANY_MANAGER | {AUDITOR},
    "participant": MANAGERS_IN | {AUDITOR},
    # listed within reach (a manager's programmes, a facilitator's cohorts); auditors never
    "participants": ANY_MANAGER | {FAC_IN, FAC_OUT},
    "consentHistory": MANAGERS_IN | {AUDITOR},
    "auditTrail": {ADMIN, AUDITOR},
    "projections": ANY_MANAGER | {AUDITOR},
    # partner feeds
    "registerPartner": {ADMIN},
    "updatePartner": {ADMIN},
    "suspendPartner": {ADMIN},
    "reinstatePartner": {ADMIN},
    "retirePartner": {ADMIN},
    "addWebhookEndpoint": {ADMIN},
    "rotateWebhookSecret": {ADMIN},
    "enableWebhookEndpoint": {ADMIN},
    "disableWebhookEndpoint": {ADMIN},
    "removeWebhookEndpoint": {ADMIN},
    "replayWebhook": {ADMIN, PARTNER},
    "partner": {ADMIN, PARTNER},
    "partners": {ADMIN},
    "webhookAttempts": {ADMIN, PARTNER},
    "disclosures": {ADMIN, AUDITOR},
    "partnerEvents": {PARTNER},
    "ledgerCheckpoint": {ADMIN, AUDITOR},
    "ledgerKey": {ADMIN, AUDITOR},
    "ledgerInclusionProof": {ADMIN, AUDITOR},
    "ledgerConsistencyProof": {ADMIN, AUDITOR},
    "consentReceipt": MANAGERS_IN | {AUDITOR},
}
FEED_INPUT_TYPES = {
    "registerPartner": "RegisterPartnerInput",
    "updatePartner": "UpdatePartnerInput",
    "suspendPartner": "PartnerIdInput",
    "reinstatePartner": "PartnerIdInput",
    "retirePartner": "PartnerIdInput",
    "addWebhookEndpoint": "AddWebhookEndpointInput",
    "rotateWebhookSecret": "WebhookEndpointInput",
    "enableWebhookEndpoint": "WebhookEndpointInput",
    "disableWebhookEndpoint": "WebhookEndpointInput",
    "removeWebhookEndpoint": "WebhookEndpointInput",
    "replayWebhook": "ReplayWebhookInput",
}
PUBLIC_HOOK = "https://93.184.216.34/hook"  # a public address literal: no DNS needed


def _fields() -> list[tuple[str, str]]:
    graphql = schema._schema
    kinds = [("mutation", graphql.mutation_type), ("query", graphql.query_type),
             ("subscription", graphql.subscription_type)]
    return [(kind, name) for kind, type_ in kinds if type_ is not None for name in type_.fields]


FIELDS = _fields()


def test_every_field_of_the_schema_has_a_rule_and_a_request() -> None:
    names = {name for _, name in FIELDS}
    assert names - set(ALLOWED) == set(), "fields without an access rule in ALLOWED"
    assert names - set(REQUESTS) == set(), "fields without a request in REQUESTS"
    assert set(ALLOWED) - names == set(), "rules for fields the schema no longer has"


@dataclass
class Scene:
    a: World  # running cohort with a session; Person0 and Person1 enrolled
    b: World
    spare_programme: str  # A's manager also runs this one (closed by the matrix)
    spare_cohort: str  # of A, no facilitators (cancelled and completed by the matrix)
    session: str
    spare_facilitator: str  # registered only (erased by the matrix)
    gql: dict[str, Gql]
    partner: str = ""
    endpoint: str = ""


REQUESTS: dict[str, Callable[[Scene], tuple[str, dict[str, Any]]]] = {}


def _mutation(name: str, build: Callable[[Scene], dict[str, Any]]) -> None:
    kind = {**INPUT_TYPES, **FEED_INPUT_TYPES}[name]
    query = f"mutation M($input: {kind}!) {{ {name}(input: $input) {{ position }} }}"
    REQUESTS[name] = lambda s: (query, {"input": build(s)})


def _query(name: str, build: Callable[[Scene], str]) -> None:
    REQUESTS[name] = lambda s: (build(s), {})


for _name, _build in {
    "createProgramme": lambda s: {"name": "New"},
    "activateProgramme": lambda s: {"id": s.a.programme_id},
    "closeProgramme": lambda s: {"id": s.spare_programme},
    "planCohort": lambda s: {"programmeId": s.a.programme_id, "name": "More", "format": "DROP_IN",
                             "startsOn": days(7)},
    "openCohortEnrolment": lambda s: {"id": s.a.cohort_id},
    "startCohort": lambda s: {"id": s.a.cohort_id},
    "completeCohort": lambda s: {"id": s.spare_cohort},
    "cancelCohort": lambda s: {"id": s.spare_cohort, "reason": "not needed"},
    "changeCohortCapacity": lambda s: {"id": s.a.cohort_id, "capacity": 12},
    "registerFacilitator": lambda s: {"displayName": "Vol", "email": "vol@example.org"},
    "recordFacilitatorCredential": lambda s: {"facilitatorId": s.a.facilitator_ids[1],
                                              "kind": "SAFEGUARDING", "validUntil": days(300)},
    "activateFacilitator": lambda s: {"id": s.a.facilitator_ids[1]},
    "beginFacilitatorTraining": lambda s: {"id": s.a.facilitator_ids[1]},
    "suspendFacilitator": lambda s: {"id": s.a.facilitator_ids[1], "reason": "a break"},
    "retireFacilitator": lambda s: {"id": s.a.facilitator_ids[1]},
    "assignFacilitator": lambda s: {"cohortId": s.a.cohort_id,
                                    "facilitatorId": s.a.facilitator_ids[1], "role": "CO"},
    "registerParticipant": lambda s: {"programmeId": s.a.programme_id, "name": "Newcomer"},
    "giveConsent": lambda s: consent_input(s.a.participant_ids[0], "research"),
    "withdrawConsent": lambda s: {"participantId": s.a.participant_ids[1],
                                  "purpose": "programme-participation", "method": "PHONE"},
    "enrolParticipant": lambda s: {"cohortId": s.a.cohort_id,
                                   "participantId": s.a.participant_ids[0]},
    "withdrawParticipant": lambda s: {"cohortId": s.a.cohort_id,
                                      "participantId": s.a.participant_ids[1]},
    "scheduleSession": lambda s: {"cohortId": s.a.cohort_id, "startsAt": at(3)},
    "recordAttendance": lambda s: {"cohortId": s.a.cohort_id, "sessionId": s.session,
                                   "participantId": s.a.participant_ids[0], "status": "PRESENT"},
    "recordOutcome": lambda s: {"participantId": s.a.participant_ids[0],
                                "cohortId": s.a.cohort_id, "measure": "HHI",
                                "timepoint": "BASELINE", "score": 30},
    "eraseParticipant": lambda s: {"id": s.a.participant_ids[2]},
    "updateProgramme": lambda s: {"id": s.a.programme_id, "description": "Weekly, Tuesdays"},
    "updateParticipant": lambda s: {"id": s.a.participant_ids[0], "phone": "07700 900001"},
    "refuseConsent": lambda s: {"participantId": s.a.participant_ids[0], "purpose": "research",
                                "noticeId": "n-1", "noticeVersion": "v1", "method": "PHONE"},
    "revokeConsent": lambda s: {"participantId": s.a.participant_ids[0], "purpose": "research",
                                "reason": "notice out of date"},
    "unassignFacilitator": lambda s: {"cohortId": s.a.cohort_id,
                                      "facilitatorId": s.a.facilitator_ids[1]},
    "rescheduleSession": lambda s: {"cohortId": s.a.cohort_id, "sessionId": s.session,
                                    "startsAt": at(2)},
    "cancelSession": lambda s: {"cohortId": s.a.cohort_id, "sessionId": s.session,
                                "reason": "room flooded"},
    "correctAttendance": lambda s: {"cohortId": s.a.cohort_id, "sessionId": s.session,
                                    "participantId": s.a.participant_ids[0],
                                    "status": "ABSENT_EXCUSED"},
    "amendOutcome": lambda s: {"participantId": s.a.participant_ids[0],
                               "cohortId": s.a.cohort_id, "measure": "HHI",
                               "timepoint": "BASELINE", "score": 31, "reason": "typo"},
    "registerPartner": lambda s: {"name": "New partner", "purposes": ["research"],
                                  "programmeIds": [s.a.programme_id]},
    "updatePartner": lambda s: {"partnerId": s.partner, "name": "Renamed"},
    "suspendPartner": lambda s: {"partnerId": s.partner, "reason": "review"},
    "reinstatePartner": lambda s: {"partnerId": s.partner},
    "retirePartner": lambda s: {"partnerId": s.partner},
    "addWebhookEndpoint": lambda s: {"partnerId": s.partner, "url": PUBLIC_HOOK},
    "rotateWebhookSecret": lambda s: {"partnerId": s.partner, "endpointId": s.endpoint},
    "enableWebhookEndpoint": lambda s: {"partnerId": s.partner, "endpointId": s.endpoint},
    "disableWebhookEndpoint": lambda s: {"partnerId": s.partner, "endpointId": s.endpoint},
    "removeWebhookEndpoint": lambda s: {"partnerId": s.partner, "endpointId": s.endpoint},
    "replayWebhook": lambda s: {"endpointId": s.endpoint, "fromSequence": 1},
    "eraseFacilitator": lambda s: {"id": s.spare_facilitator},
    "issueCheckpoint": lambda s: {},
    "exportSubjectData": lambda s: {"id": s.a.participant_ids[0]},
}.items():
    _mutation(_name, _build)

for _name, _build in {
    "me": lambda s: "{ me { subject } }",
    "programme": lambda s: f'{{ programme(id: "{s.a.programme_id}") {{ id }} }}',
    "programmes": lambda s: "{ programmes { edges { node { id } } } }",
    "cohort": lambda s: f'{{ cohort(id: "{s.a.cohort_id}") {{ id }} }}',
    "cohorts": lambda s: "{ cohorts { edges { node { id } } } }",
    "facilitator": lambda s: f'{{ facilitator(id: "{s.a.facilitator_ids[0]}") {{ id }} }}',
    "facilitators": lambda s: "{ facilitators { edges { node { id } } } }",
    "participant": lambda s: f'{{ participant(id: "{s.a.participant_ids[0]}") {{ id name }} }}',
    "participants": lambda s: "{ participants(search: \"pers\") { edges { node { id displayName } } } }",
    "consentHistory": lambda s: f'{{ consentHistory(participantId: "{s.a.participant_ids[0]}") '
                                "{ changes { state } } }",
    "auditTrail": lambda s: "{ auditTrail(first: 1) { edges { node { position } } } }",
    "projections": lambda s: "{ projections { name } }",
    "partner": lambda s: f'{{ partner(id: "{s.partner}") {{ id }} }}',
    "partners": lambda s: "{ partners { id } }",
    "webhookAttempts": lambda s: f'{{ webhookAttempts(endpointId: "{s.endpoint}") '
                                 "{ edges { node { id } } } }",
    "disclosures": lambda s: "{ disclosures(first: 1) { edges { node { id } } } }",
    "partnerEvents": lambda s: "subscription { partnerEvents(after: 0) { sequence } }",
    "ledgerCheckpoint": lambda s: "{ ledgerCheckpoint { size note } }",
    "ledgerKey": lambda s: "{ ledgerKey }",
    "ledgerInclusionProof": lambda s: "{ ledgerInclusionProof(position: 1) { proof } }",
    "ledgerConsistencyProof": lambda s: "{ ledgerConsistencyProof(fromSize: 1, toSize: 2) "
                                        "{ text } }",
    "consentReceipt": lambda s: f'{{ consentReceipt(participantId: "{s.a.participant_ids[0]}", '
                                'purpose: "programme-participation") { receiptId document } }',
}.items():
    _query(_name, _build)


@pytest.fixture(scope="module")
async def scene(http: httpx.AsyncClient, token: TokenFactory) -> Scene:
    admin = Gql(http, token("ADMIN", subject="admin-1"))
    a = await build_world(admin, people=3, name="Alpha")
    b = await build_world(admin, people=1, name="Beta")
    await admin.mutate("startCohort", {"id": a.cohort_id})
    session = (await admin.mutate("scheduleSession", {"cohortId": a.cohort_id, "startsAt": at(1)},
                                  "sessionId"))["sessionId"]
    spare = (await admin.mutate("createProgramme", {"name": "Spare"}, "programmeId"))["programmeId"]
    await admin.mutate("activateProgramme", {"id": spare})
    spare_cohort = (await admin.mutate("planCohort", {
        "programmeId": a.programme_id, "name": "Spare", "format": "ENROLLED", "capacity": 3,
        "startsOn": days(9)}, "cohortId"))["cohortId"]
    await consenting_person(admin, "Settled", a.programme_id)  # consent history exists
    partner = (await admin.data(
        "mutation M($i: RegisterPartnerInput!) { registerPartner(input: $i) { partnerId } }",
        {"i": {"name": "Evaluator A", "purposes": ["research"],
               "programmeIds": [a.programme_id]}}))["registerPartner"]["partnerId"]
    added = (await admin.data(
        "mutation M($i: AddWebhookEndpointInput!) { addWebhookEndpoint(input: $i) "
        "{ endpointId position } }",
        {"i": {"partnerId": partner, "url": PUBLIC_HOOK}}))["addWebhookEndpoint"]
    await admin.data(f'{{ partner(id: "{partner}", consistentWith: {added["position"]}) {{ id }} }}')
    spare_facilitator = (await admin.mutate("registerFacilitator", {
        "displayName": "Spare", "email": "spare@example.org"}, "facilitatorId"))["facilitatorId"]

    def pm(*programmes: str) -> str:
        return token("PROGRAMME_MANAGER", programme_ids=list(programmes))

    tokens = {
        ADMIN: token("ADMIN", subject="admin-1"),
        PM_IN: pm(a.programme_id, spare),
        PM_OUT: pm(b.programme_id),
        PM_NONE: pm(),
        FAC_IN: token("FACILITATOR", facilitator_id=a.facilitator_ids[0]),
        FAC_OUT: token("FACILITATOR", facilitator_id=b.facilitator_ids[0]),
        AUDITOR: token("AUDITOR"),
        PARTNER: token("PARTNER", partner_id=partner),
    }
    gql = {role: Gql(http, tokens.get(role)) for role in ROLES}
    return Scene(a, b, spare, spare_cohort, session, spare_facilitator, gql, partner,
                 added["endpointId"])


def _order(role: str) -> int:
    # Refused callers first, so allowed ones (which change A) cannot affect their answers.
    return ROLES.index(role) + (100 if role in {ADMIN, PM_IN} else 0)


CASES = [(kind, name, role) for kind, name in FIELDS
         for role in sorted(ROLES, key=_order)]


@pytest.mark.parametrize("kind, name, role", CASES, ids=[f"{n}-{r}" for _, n, r in CASES])
async def test_each_role_on_each_field_gets_what_the_policy_says(
    scene: Scene, services: Services, kind: str, name: str, role: str
) -> None:
    query, variables = REQUESTS[name](scene)
    before = await services.store.max_position()
    body = await scene.gql[role].post(query, variables)
    codes = [e["extensions"]["code"] for e in body.get("errors") or ()]

    if role == ANONYMOUS:
        assert codes == ["UNAUTHENTICATED"], body
    elif role in ALLOWED[name]:
        assert not {"FORBIDDEN", "UNAUTHENTICATED"} & set(codes), body
    else:
        assert codes == ["FORBIDDEN"], body
    if kind == "mutation":  # an error on a write speaks of the act refused, never of reading
        messages = [e["message"] for e in body.get("errors") or ()]
        assert not [m for m in messages if re.search(r"\bread", m, re.IGNORECASE)], messages
    if codes and kind == "mutation" and (role == ANONYMOUS or role not in ALLOWED[name]):
        assert await services.store.max_position() == before, "a refused mutation appended"
