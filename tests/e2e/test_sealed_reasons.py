"""Free text is personal data (issue 7): reasons are stored sealed, shown in clear to the
record's managers and admins, and never to auditors."""

from __future__ import annotations

import httpx

from program.bootstrap import Services
from test_graphql_support import Gql, TokenFactory, build_world


async def test_reasons_are_sealed_shown_to_managers_and_hidden_from_auditors(
    http: httpx.AsyncClient, token: TokenFactory, services: Services
) -> None:
    admin = Gql(http, token("ADMIN"))
    world = await build_world(admin, people=1, name="Reasons")
    person = world.participant_ids[0]
    await admin.mutate("withdrawConsent", {"participantId": person,
                                           "purpose": "programme-participation",
                                           "method": "PHONE", "reason": "bipolar relapse"})
    position = (await admin.mutate("cancelCohort", {"id": world.cohort_id,
                                                     "reason": "facilitator's diagnosis"}))["position"]
    query = """query Q($p: UUID!, $c: UUID!, $at: Int) {
      consentHistory(participantId: $p, consistentWith: $at) { changes { reason } }
      cohort(id: $c, consistentWith: $at) { cancelReason } }"""
    variables = {"p": person, "c": world.cohort_id, "at": position}
    manager = Gql(http, token("PROGRAMME_MANAGER", programme_ids=[world.programme_id]))

    seen = await manager.data(query, variables)
    hidden = await Gql(http, token("AUDITOR")).data(query, variables)

    assert [c["reason"] for c in seen["consentHistory"]["changes"]] == [None, "bipolar relapse"]
    assert seen["cohort"]["cancelReason"] == "facilitator's diagnosis"
    assert [c["reason"] for c in hidden["consentHistory"]["changes"]] == [None, None]
    assert hidden["cohort"]["cancelReason"] is None
    async with services.pool.acquire() as conn:
        log = await conn.fetchval("SELECT string_agg(convert_from(state, 'UTF8'), ' ') "
                                  "FROM stored_events")
    assert "relapse" not in log and "diagnosis" not in log
