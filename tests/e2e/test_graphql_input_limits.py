"""Input limits at the GraphQL boundary, generated from the schema (issue 6 findings 4, 6, 7).

For every text input of every mutation (list items and ``idempotencyKey`` included),
a NUL and a value one character past its limit are sent over real HTTP as ADMIN; each
must answer ``BAD_USER_INPUT`` naming that field in GraphQL spelling and append
nothing. A text field added to the schema is covered without touching this file.
"""

from __future__ import annotations

import copy

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    Undefined,
)

from program.api.graphql.schema import schema
from program.bootstrap import Services
from program.domain import limits
from test_graphql_support import Gql, TokenFactory, World, at, build_world, days

MUTATIONS = schema._schema.mutation_type
QUERIES = schema._schema.query_type
assert MUTATIONS is not None and QUERIES is not None

# Which aggregate an ``id`` names, from the name of the input type or the mutation.
ENTITIES = ("Programme", "Cohort", "Facilitator", "Participant", "Session", "Partner", "Endpoint")
# Partner feeds: any well-formed id does, the boundary refuses the bad value before a lookup.
FEED_IDS = {"Partner": "00000000-0000-4000-8000-000000000001",
            "Endpoint": "00000000-0000-4000-8000-000000000002"}


@dataclass(frozen=True)
class TextInput:
    """One text an operation accepts: where it sits and the Python name its limit is under."""

    operation: str
    path: tuple[str | int, ...]  # from the argument down, e.g. ("input", "recipients", 0)
    limit_name: str
    in_list: bool

    @property
    def graphql_path(self) -> str:
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out

    def __str__(self) -> str:
        return f"{self.operation}:{self.graphql_path}"


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def unwrap(t: Any) -> tuple[Any, bool]:
    """The named type under NonNull and List wrappers, and whether a list was among them."""
    in_list = False
    while isinstance(t, (GraphQLNonNull, GraphQLList)):
        in_list = in_list or isinstance(t, GraphQLList)
        t = t.of_type
    return t, in_list


def scalar_inputs(operation: str, field: GraphQLField, scalar: str) -> Iterator[TextInput]:
    """Every place the operation's arguments hold the scalar type named ``scalar``."""
    def walk(t: GraphQLInputType, path: tuple[str | int, ...], name: str) -> Iterator[TextInput]:
        named, in_list = unwrap(t)
        if in_list:
            path = (*path, 1)  # the second item: the first stays valid
        if isinstance(named, GraphQLInputObjectType):
            for child, f in named.fields.items():
                yield from walk(f.type, (*path, child), child)
        elif isinstance(named, GraphQLScalarType) and named.name == scalar:
            yield TextInput(operation, path, snake(name), in_list)

    for arg_name, arg in field.args.items():
        yield from walk(arg.type, (arg_name,), arg_name)


def inputs_of(root: Any, scalar: str) -> list[TextInput]:
    return [t for name, f in root.fields.items() for t in scalar_inputs(name, f, scalar)]


MUTATION_TEXTS = inputs_of(MUTATIONS, "String")
QUERY_TEXTS = inputs_of(QUERIES, "String")
# Out of range at either end, and moved past year 1 / 9999 by their offset.
BAD_DATES = {"Date": ["0001-01-01", "9999-12-31"],
             "DateTime": ["0001-01-01T00:30:00+14:00", "9999-12-31T23:00:00-12:00"]}
DATE_INPUTS = [(kind, root, t) for kind in BAD_DATES for root in (MUTATIONS, QUERIES)
               for t in inputs_of(root, kind)]


def test_the_schema_walk_finds_the_texts_we_know_of() -> None:
    found = {str(t) for t in MUTATION_TEXTS}
    assert "giveConsent:input.recipients[1]" in found
    assert "createProgramme:input.idempotencyKey" in found
    assert "auditTrail:filter.actor" in {str(t) for t in QUERY_TEXTS}
    # Every mutation takes an idempotency key.
    assert {t.operation for t in MUTATION_TEXTS if t.path[-1] == "idempotencyKey"} == set(
        MUTATIONS.fields
    )


# -- a small world, and valid values for every other field ----------------------------


@dataclass
class Ids:
    world: World
    session_id: str

    def for_(self, entity: str) -> str:
        return {
            "Programme": self.world.programme_id,
            "Cohort": self.world.cohort_id,
            "Facilitator": self.world.facilitator_ids[0],
            "Participant": self.world.participant_ids[0],
            "Session": self.session_id,
            **FEED_IDS,
        }[entity]


def valid_scalar(t: GraphQLScalarType | GraphQLEnumType, name: str, owner: str, ids: Ids) -> Any:
    if isinstance(t, GraphQLEnumType):
        return next(iter(t.values))
    if t.name == "UUID":
        entity = name[:-2].capitalize() if name.endswith("Id") else next(
            (e for e in ENTITIES if e in owner), None)
        assert entity in ENTITIES, f"no id for {owner}.{name}: extend ENTITIES"
        return ids.for_(entity)
    samples: dict[str, Any] = {
        "String": {"email": "someone@example.org",
                   "language": "en"}.get(name, "valid"),
        "Int": {"capacity": 10, "maxCohorts": 2, "minFacilitatorsPerCohort": 2}.get(name, 1),
        "Float": 10.0, "Boolean": False, "Date": days(30), "DateTime": at(1),
    }
    assert t.name in samples, f"no sample for scalar {t.name}"
    return samples[t.name]


def required(f: Any) -> bool:
    return isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined


def valid_value(t: GraphQLInputType, name: str, owner: str, ids: Ids, want: tuple = ()) -> Any:
    """A value for an argument of type ``t``: required fields, plus those on path ``want``."""
    named, in_list = unwrap(t)
    if isinstance(named, GraphQLInputObjectType):
        value = {
            child: valid_value(f.type, child, named.name, ids, want[1:])
            for child, f in named.fields.items()
            if (want and want[0] == child)
            or required(f)
        }
    else:
        value = valid_scalar(named, name, owner, ids)
    # Two separate items (a list of input objects must not share one dict): the bad value
    # goes into the second only.
    return [value, copy.deepcopy(value)] if in_list else value


def variables_for(field: GraphQLField, operation: str, ids: Ids, target: TextInput,
                  bad: str) -> dict[str, Any]:
    """Valid arguments with ``bad`` put at the target's place."""
    arg = target.path[0]
    want = tuple(p for p in target.path[1:] if isinstance(p, str))
    variables = {name: valid_value(a.type, name, operation, ids, want if name == arg else ())
                 for name, a in field.args.items()
                 if name == arg or required(a)}
    holder: Any = variables
    for part in target.path[:-1]:
        holder = holder[part]
    holder[target.path[-1]] = bad
    return variables


def document(kind: str, operation: str, field: GraphQLField, variables: dict[str, Any]) -> str:
    params = ", ".join(f"${n}: {field.args[n].type}" for n in variables)
    args = ", ".join(f"{n}: ${n}" for n in variables)
    named, _ = unwrap(field.type)
    selection = "{ __typename }" if hasattr(named, "fields") else ""
    head = f"{kind} Q({params})" if params else kind
    call = f"{operation}({args})" if args else operation
    return f"{head} {{ {call} {selection} }}"


@pytest.fixture(scope="module")
def admin(http: httpx.AsyncClient, token: TokenFactory) -> Gql:
    return Gql(http, token("ADMIN", subject="admin-limits"))


@pytest.fixture(scope="module")
async def ids(admin: Gql) -> Ids:
    world = await build_world(admin, people=1, capacity=5)
    session = await admin.mutate("scheduleSession", {"cohortId": world.cohort_id,
                                                     "startsAt": at(2)}, "sessionId")
    return Ids(world, session["sessionId"])


async def head(services: Services) -> int:
    return await services.store.max_position()


async def refused(admin: Gql, services: Services, query: str, variables: dict[str, Any],
                  field: str) -> dict[str, Any]:
    """The request answers BAD_USER_INPUT naming ``field`` and appends nothing."""
    before = await head(services)
    body = await admin.post(query, variables)
    assert body.get("errors"), f"accepted: {body}"
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["details"]["field"] == field, error
    assert await head(services) == before
    return error


def over_long(target: TextInput) -> str:
    return "x" * (limits.text_limit(target.limit_name).max_length + 1)


# -- every text of every mutation -------------------------------------------------------


@pytest.mark.parametrize("target", MUTATION_TEXTS, ids=str)
@pytest.mark.parametrize("bad", ["nul", "over-long"])
async def test_mutation_text_when_bad_is_refused_naming_the_field(
    admin: Gql, services: Services, ids: Ids, target: TextInput, bad: str
) -> None:
    field = MUTATIONS.fields[target.operation]
    value = "x\x00y" if bad == "nul" else over_long(target)
    variables = variables_for(field, target.operation, ids, target, value)
    await refused(admin, services, document("mutation", target.operation, field, variables),
                  variables, target.graphql_path)


@pytest.mark.parametrize("target", [t for t in MUTATION_TEXTS if t.in_list], ids=str)
async def test_mutation_list_when_too_long_is_refused_naming_the_list(
    admin: Gql, services: Services, ids: Ids, target: TextInput
) -> None:
    field = MUTATIONS.fields[target.operation]
    variables = variables_for(field, target.operation, ids, target, "ok")
    holder: Any = variables
    for part in target.path[:-2]:
        holder = holder[part]
    most = limits.list_limit(target.limit_name)
    holder[target.path[-2]] = [f"item-{i}" for i in range(most + 1)]
    list_path = target.graphql_path.rpartition("[")[0]
    await refused(admin, services, document("mutation", target.operation, field, variables),
                  variables, list_path)


@pytest.mark.parametrize("target", QUERY_TEXTS, ids=str)
async def test_query_text_when_it_holds_nul_is_refused_naming_the_argument(
    admin: Gql, services: Services, ids: Ids, target: TextInput
) -> None:
    field = QUERIES.fields[target.operation]
    variables = variables_for(field, target.operation, ids, target, "x\x00y")
    await refused(admin, services, document("query", target.operation, field, variables),
                  variables, target.graphql_path)


@pytest.mark.parametrize(("kind", "root", "target"), DATE_INPUTS,
                         ids=[str(t) for _, _, t in DATE_INPUTS])
async def test_date_when_out_of_range_is_refused_naming_it(
    admin: Gql, services: Services, ids: Ids, kind: str, root: Any, target: TextInput
) -> None:
    field = root.fields[target.operation]
    operation = "mutation" if root is MUTATIONS else "query"
    for bad in BAD_DATES[kind]:
        variables = variables_for(field, target.operation, ids, target, bad)
        await refused(admin, services, document(operation, target.operation, field, variables),
                      variables, target.graphql_path)


def test_the_schema_walk_finds_the_dates_we_know_of() -> None:
    found = {str(t) for _, _, t in DATE_INPUTS}
    assert {"planCohort:input.startsOn", "scheduleSession:input.startsAt",
            "auditTrail:filter.since", "consentHistory:asOf"} <= found


# -- the cases the issue names ---------------------------------------------------------


def consent(ids: Ids, **changes: Any) -> dict[str, Any]:
    return {"participantId": ids.for_("Participant"), "purpose": "programme-participation",
            "noticeId": "n", "noticeVersion": "1", "lawfulBasis": "CONSENT", "method": "PAPER_FORM",
            **changes}


GIVE = "mutation M($input: GiveConsentInput!) { giveConsent(input: $input) { position } }"
PLAN = "mutation M($input: PlanCohortInput!) { planCohort(input: $input) { position } }"
CREATE = "mutation M($input: CreateProgrammeInput!) { createProgramme(input: $input) { position } }"
SCHEDULE = ("mutation M($input: ScheduleSessionInput!) "
            "{ scheduleSession(input: $input) { position } }")
AUDIT = ("query A($filter: AuditTrailFilter) "
         "{ auditTrail(filter: $filter) { edges { node { position } } } }")


async def test_give_consent_when_fifty_thousand_recipients_is_refused(
    admin: Gql, services: Services, ids: Ids
) -> None:
    recipients = [f"partner-{i}" for i in range(50_000)]
    await refused(admin, services, GIVE, {"input": consent(ids, recipients=recipients)},
                  "input.recipients")


async def test_give_consent_when_purpose_is_a_megabyte_is_refused(
    admin: Gql, services: Services, ids: Ids
) -> None:
    await refused(admin, services, GIVE, {"input": consent(ids, purpose="p" * 1_000_000)},
                  "input.purpose")


async def test_create_programme_when_name_is_a_megabyte_is_refused(
    admin: Gql, services: Services
) -> None:
    await refused(admin, services, CREATE, {"input": {"name": "n" * 1_000_000}}, "input.name")


@pytest.mark.parametrize("value", [2**31 - 1, 21])
async def test_create_programme_when_min_facilitators_is_huge_is_refused(
    admin: Gql, services: Services, value: int
) -> None:
    await refused(admin, services, CREATE,
                  {"input": {"name": "P", "minFacilitatorsPerCohort": value}},
                  "input.minFacilitatorsPerCohort")


@pytest.mark.parametrize("starts_on", ["0001-01-01", "9999-12-31", "1899-12-31"])
async def test_plan_cohort_when_starts_on_out_of_range_is_refused(
    admin: Gql, services: Services, ids: Ids, starts_on: str
) -> None:
    await refused(admin, services, PLAN, {"input": {
        "programmeId": ids.for_("Programme"), "name": "C", "format": "ENROLLED",
        "capacity": 5, "startsOn": starts_on}}, "input.startsOn")


@pytest.mark.parametrize("starts_at", ["0001-01-01T00:30:00+14:00", "9999-12-31T23:00:00-12:00",
                                       "0001-01-01T00:00:00+00:00"])
async def test_schedule_session_when_starts_at_out_of_range_is_refused(
    admin: Gql, services: Services, ids: Ids, starts_at: str
) -> None:
    await refused(admin, services, SCHEDULE, {"input": {
        "cohortId": ids.for_("Cohort"), "startsAt": starts_at}}, "input.startsAt")


@pytest.mark.parametrize("bound", ["since", "until"])
@pytest.mark.parametrize("value", ["0001-01-01T00:30:00+14:00", "9999-12-31T23:00:00-12:00"])
async def test_audit_trail_when_filter_date_overflows_is_refused(
    admin: Gql, services: Services, bound: str, value: str
) -> None:
    await refused(admin, services, AUDIT, {"filter": {bound: value}}, f"filter.{bound}")


async def test_idempotency_key_with_nul_is_refused(admin: Gql, services: Services) -> None:
    await refused(admin, services, CREATE, {"input": {"name": "P", "idempotencyKey": "k\x00"}},
                  "input.idempotencyKey")


async def test_post_body_over_one_mebibyte_is_refused_with_413(
    http: httpx.AsyncClient, token: TokenFactory, services: Services
) -> None:
    before = await head(services)
    body = '{"query": "{ me { subject } }", "variables": {"x": "' + "x" * (1 << 20) + '"}}'
    response = await http.post("/graphql", content=body, headers={
        "content-type": "application/json", "authorization": f"Bearer {token('ADMIN')}"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await head(services) == before


async def test_valid_text_at_its_limit_is_accepted(admin: Gql) -> None:
    name = "n" * limits.text_limit("name").max_length
    payload = await admin.mutate("createProgramme", {"name": name, "description": "a\nb\tc"})
    assert payload["position"] > 0
