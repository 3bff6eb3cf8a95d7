"""A schema people can discover: every closed set is a GraphQL enum taken from the domain's
own list, and everything a caller sends or picks from says what it means.
"""

from __future__ import annotations

import inspect
from enum import Enum

import pytest
from eventsourcing.domain import Aggregate
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    get_named_type,
)

from program import domain
from program.api.graphql import enums
from program.api.graphql.schema import schema
from program.application.context import Role
from program.domain import event_types, values
from program.domain.partner import PUBLIC_EVENT_TYPES, PartnerStatus

GRAPHQL = schema._schema

# Fields and arguments that hold one of a closed set, and the enum that spells the set.
CLOSED_SETS = {
    "GiveConsentInput.lawfulBasis": "LawfulBasis",
    "GiveConsentInput.method": "ConsentMethod",
    "RefuseConsentInput.method": "ConsentMethod",
    "WithdrawConsentInput.method": "ConsentMethod",
    "Consent.lawfulBasis": "LawfulBasis",
    "ConsentChange.lawfulBasis": "LawfulBasis",
    "ConsentChange.method": "ConsentMethod",
    "AuditEntry.role": "Role",
    "AuditTrailFilter.eventType": "AuditEventType",
    "StatusCount.status": "CohortStatus",
    "Partner.status": "PartnerStatus",
    "Partner.eventTypes": "PublicEventType",
    "RegisterPartnerInput.eventTypes": "PublicEventType",
    "UpdatePartnerInput.eventTypes": "PublicEventType",
    "WebhookEndpoint.state": "WebhookEndpointState",
    "WebhookAttempt.outcome": "WebhookOutcome",
    "Disclosure.channel": "DisclosureChannel",
    "Disclosure.outcome": "DisclosureOutcome",
    "Query.programmes(status:)": "ProgrammeStatus",
    "Query.cohorts(status:)": "CohortStatus",
}

# Each GraphQL enum mirrored from the domain, and the domain's enum.
MIRRORED: dict[str, type[Enum]] = {
    "ProgrammeStatus": values.ProgrammeStatus,
    "CohortStatus": values.CohortStatus,
    "CohortFormat": values.CohortFormat,
    "FacilitatorRole": values.FacilitatorRole,
    "FacilitatorStatus": values.FacilitatorStatus,
    "CredentialKind": values.CredentialKind,
    "AttendanceStatus": values.AttendanceStatus,
    "Timepoint": values.Timepoint,
    "ConsentState": values.ConsentState,
    "LawfulBasis": values.LawfulBasis,
    "ConsentMethod": values.ConsentMethod,
    "PartnerStatus": PartnerStatus,
    "Role": Role,
}


def _type_at(spot: str) -> GraphQLNamedType:
    type_name, _, rest = spot.partition(".")
    field_name, _, argument = rest.partition("(")
    field = GRAPHQL.get_type(type_name).fields[field_name]  # type: ignore[union-attr]
    if argument:
        return get_named_type(field.args[argument.rstrip(":)")].type)
    return get_named_type(field.type)


@pytest.mark.parametrize("spot", CLOSED_SETS)
def test_closed_set_when_exposed_is_a_graphql_enum(spot: str) -> None:
    found = _type_at(spot)
    assert isinstance(found, GraphQLEnumType), f"{spot} is {found.name}, not an enum"
    assert found.name == CLOSED_SETS[spot]


@pytest.mark.parametrize("name", MIRRORED)
def test_mirrored_enum_when_compared_to_the_domain_has_its_members_and_values(name: str) -> None:
    api = getattr(enums, name)
    source = MIRRORED[name]
    assert [(m.name, m.value) for m in api] == [(m.name, m.value) for m in source]
    assert list(GRAPHQL.get_type(name).values) == [m.name for m in source]  # type: ignore[union-attr]


def _recorded_event_classes() -> set[str]:
    """Every event an aggregate of the domain records, as the store's topic names it."""
    from eventsourcing.domain import _created_event_classes

    found = set()
    for aggregate in vars(domain).values():
        if not (inspect.isclass(aggregate) and issubclass(aggregate, Aggregate)):
            continue
        created = set(_created_event_classes[aggregate])
        for name, cls in vars(aggregate).items():
            if not (inspect.isclass(cls) and issubclass(cls, Aggregate.Event)) or name == "Event":
                continue
            if issubclass(cls, Aggregate.Created) and cls not in created:
                continue  # a "created" class the aggregate never records
            found.add(cls.__qualname__)
    return found


def test_audit_event_types_when_listed_are_every_event_the_domain_records() -> None:
    assert set(event_types.EVENT_TYPES) == _recorded_event_classes()
    assert {m.value for m in enums.AuditEventType} == set(event_types.EVENT_TYPES)
    assert enums.AuditEventType["COHORT_PARTICIPANT_ENROLLED"].value == "Cohort.ParticipantEnrolled"


def test_public_event_types_when_listed_are_the_domain_catalogue() -> None:
    assert [m.value for m in enums.PublicEventType] == list(PUBLIC_EVENT_TYPES)
    assert enums.PublicEventType["PARTICIPANT_ENROLLED_V1"].value == (
        "org.program.participant.enrolled.v1")


def _named_types() -> list[GraphQLNamedType]:
    return [t for name, t in sorted(GRAPHQL.type_map.items()) if not name.startswith("__")]


def test_every_input_field_when_introspected_has_a_description() -> None:
    missing = [f"{t.name}.{name}" for t in _named_types() if isinstance(t, GraphQLInputObjectType)
               for name, field in t.fields.items() if not field.description]
    assert missing == [], f"input fields without a description: {', '.join(missing)}"


def test_every_enum_value_when_introspected_has_a_description() -> None:
    missing = [f"{t.name}.{name}" for t in _named_types() if isinstance(t, GraphQLEnumType)
               for name, value in t.values.items() if not value.description]
    assert missing == [], f"enum values without a description: {', '.join(missing)}"


def test_every_enum_and_input_type_when_introspected_has_a_description() -> None:
    missing = [t.name for t in _named_types()
               if isinstance(t, (GraphQLEnumType, GraphQLInputObjectType)) and not t.description]
    assert missing == [], f"enums and inputs without a description: {', '.join(missing)}"


def test_every_argument_when_introspected_has_a_description() -> None:
    missing = [f"{t.name}.{name}({arg}:)" for t in _named_types()
               if isinstance(t, (GraphQLObjectType, GraphQLInterfaceType))
               for name, field in t.fields.items()
               for arg, argument in field.args.items() if not argument.description]
    assert missing == [], f"arguments without a description: {', '.join(missing)}"
