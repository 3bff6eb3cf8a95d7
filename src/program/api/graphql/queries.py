"""The Query type (placeholder until the read models land)."""

from __future__ import annotations

from uuid import UUID

import strawberry
from strawberry.types import Info

from program.api.graphql.context import context_of
from program.api.graphql.enums import Role


@strawberry.type(description="The authenticated caller, as the token says.")
class Me:
    subject: str
    role: Role
    programme_ids: list[UUID]
    facilitator_id: UUID | None


@strawberry.type
class Query:
    @strawberry.field(description="Who the bearer token speaks for.")
    def me(self, info: Info) -> Me:
        actor = context_of(info).actor
        return Me(subject=actor.subject, role=Role(actor.role.value),
                  programme_ids=sorted(actor.programme_ids, key=str),
                  facilitator_id=actor.facilitator_id)
