"""Facilitator load: cohorts, upcoming sessions, credentials and their expiry."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from program.api.graphql import lookups
from program.api.graphql.context import context_of
from program.api.graphql.enums import (
    CohortStatus,
    CredentialKind,
    FacilitatorRole,
    FacilitatorStatus,
    to_enum,
)
from program.api.graphql.types.registry import register, wrap
from program.application.policy import (
    may_see_staff_contact,
    may_see_staff_name,
    visible_assignments,
)
from program.projections.facilitator_load import FacilitatorView

_COHORT = strawberry.lazy("program.api.graphql.types.cohort")


@strawberry.type
class Credential:
    kind: CredentialKind
    valid_until: date
    days_to_expiry: int = strawberry.field(description="Negative once expired.")
    expired: bool


@strawberry.type
class FacilitatorAssignment:
    cohort_id: UUID
    role: FacilitatorRole
    cohort_status: CohortStatus | None
    active: bool = strawberry.field(description="The cohort has neither completed nor been cancelled.")
    upcoming_sessions: int

    @strawberry.field
    async def cohort(self, info: Info) -> Annotated["Cohort", _COHORT] | None:
        view = await lookups.cohort(info, self.cohort_id, missing_ok=True)
        return wrap(view, info)  # type: ignore[return-value]


@strawberry.type(description=(
    "A facilitator and their load. displayName is null for auditors; email and phone only "
    "for admins, the facilitator themself, and programme managers of a programme they "
    "serve (or of any, while they serve none); all three null for everyone once the "
    "facilitator is erased. The counts are their whole load; cohorts lists only those of "
    "programmes the caller may read (all of them for the facilitator themself)."
))
class Facilitator:
    id: UUID
    erased: bool
    status: FacilitatorStatus
    sealed_status_reason: strawberry.Private[str | None]
    max_cohorts: int
    registered_at: datetime
    active_cohort_count: int
    upcoming_sessions: int
    cohorts: list[FacilitatorAssignment] = strawberry.field(description=(
        "Their assignments in cohorts of programmes the caller may read."))
    credentials: list[Credential]
    name_visible: strawberry.Private[bool]
    contact_visible: strawberry.Private[bool]
    ciphertext: strawberry.Private[str | None]
    legacy: strawberry.Private[dict[str, Any] | None]

    async def _personal(self, info: Info, key: str) -> Any:
        if self.legacy is not None:  # registered before names were encrypted
            return self.legacy.get(key)
        if not self.ciphertext:
            return None
        data = await context_of(info).loaders.personal_data.load((self.id, self.ciphertext))
        return (data or {}).get(key)

    @strawberry.field(description="Why they were suspended: for admins and managers only.")
    async def status_reason(self, info: Info) -> str | None:
        from program.api.graphql.reasons import opened
        from program.application import policy

        return await opened(info, self.id, self.sealed_status_reason, policy.facilitator(self.id))

    @strawberry.field
    async def display_name(self, info: Info) -> str | None:
        return await self._personal(info, "display_name") if self.name_visible else None

    @strawberry.field
    async def email(self, info: Info) -> str | None:
        return await self._personal(info, "email") if self.contact_visible else None

    @strawberry.field
    async def phone(self, info: Info) -> str | None:
        return await self._personal(info, "phone") if self.contact_visible else None

    @classmethod
    def from_view(cls, v: FacilitatorView, info: Info) -> Facilitator:
        actor = context_of(info).actor
        shown = visible_assignments(actor, v.id, (c.programme_id for c in v.cohorts))
        return cls(
            id=v.id, erased=v.erased,
            name_visible=may_see_staff_name(actor),
            contact_visible=may_see_staff_contact(actor, v.id, v.programme_ids),
            ciphertext=v.personal_data, legacy=v.legacy,
            status=to_enum(FacilitatorStatus, v.status),  # type: ignore[arg-type]
            sealed_status_reason=v.status_reason, max_cohorts=v.max_cohorts,
            registered_at=v.registered_at, active_cohort_count=v.active_cohort_count,
            upcoming_sessions=v.upcoming_sessions,
            cohorts=[
                FacilitatorAssignment(
                    cohort_id=c.cohort_id,
                    role=to_enum(FacilitatorRole, c.role),  # type: ignore[arg-type]
                    cohort_status=to_enum(CohortStatus, c.status),  # type: ignore[arg-type]
                    active=c.active, upcoming_sessions=c.upcoming_sessions,
                )
                for c in v.cohorts if c.programme_id in shown
            ],
            credentials=[
                Credential(kind=to_enum(CredentialKind, c.kind),  # type: ignore[arg-type]
                           valid_until=c.valid_until, days_to_expiry=c.days_to_expiry,
                           expired=c.expired)
                for c in v.credentials
            ],
        )


register(FacilitatorView, Facilitator.from_view)
