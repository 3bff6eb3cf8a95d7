"""A participant: pseudonymous id, consent state, cohorts, and personal data where allowed."""

from __future__ import annotations

from datetime import datetime
from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from program.api.graphql import lookups
from program.api.graphql.context import context_of
from program.api.graphql.enums import EnrolmentStatus, to_enum
from program.api.graphql.types.common import MaybeAwaitable
from program.api.graphql.types.consent import Consent
from program.api.graphql.types.registry import register, wrap
from program.application import policy
from program.projections.participant_state import ParticipantView

_COHORT = strawberry.lazy("program.api.graphql.types.cohort")


@strawberry.type
class ParticipantCohort:
    cohort_id: UUID
    programme_id: UUID | None
    status: EnrolmentStatus
    since: datetime

    @strawberry.field
    async def cohort(self, info: Info) -> Annotated["Cohort", _COHORT] | None:
        view = await lookups.cohort(info, self.cohort_id, missing_ok=True)
        return wrap(view, info)  # type: ignore[return-value]


@strawberry.type(description=(
    "A person under a pseudonymous id. name, email, phone and referralSource are null "
    "unless the caller is an ADMIN or manages a programme the person is or was in, and "
    "null for everyone once the person is erased."
))
class Participant:
    id: UUID
    erased: bool
    registered_at: datetime
    erased_at: datetime | None
    consents: list[Consent] = strawberry.field(description="Current state per purpose.")
    cohorts: list[ParticipantCohort]
    programme_ids: list[UUID]
    personal_data_visible: bool = strawberry.field(
        description="Whether this caller may see the person's name and contact details."
    )
    ciphertext: strawberry.Private[str | None]
    display_name_visible: strawberry.Private[bool] = False
    # Decrypted already, with the page that listed the person: the personal fields then
    # answer at once, with no per-field load to schedule and await.
    personal: strawberry.Private[dict[str, Any] | None] = None

    def _data(self, info: Info, visible: bool, read: Callable[[dict[str, Any]], Any]) -> Any:
        """``read`` of the person's decrypted data: a value when it is at hand (or hidden),
        else an awaitable of it through the request's loader."""
        if not visible or not self.ciphertext:
            return None
        if self.personal is not None:
            return read(self.personal)
        return self._load(info, read)

    async def _load(self, info: Info, read: Callable[[dict[str, Any]], Any]) -> Any:
        data = await context_of(info).loaders.personal_data.load((self.id, self.ciphertext))
        return read(data) if data else None

    def _personal(self, info: Info, key: str) -> Any:
        return self._data(info, self.personal_data_visible, lambda data: data.get(key))

    @strawberry.field(graphql_type=str | None)
    def name(self, info: Info) -> MaybeAwaitable[str | None]:
        return self._personal(info, "name")  # type: ignore[no-any-return]

    @strawberry.field(graphql_type=str | None, description=(
        "What to call the person: their chosen name, else the first word of their name. "
        "Shown to whoever may see their name, and to the facilitators of their cohorts."
    ))
    def display_name(self, info: Info) -> MaybeAwaitable[str | None]:
        return self._data(info, self.personal_data_visible or self.display_name_visible,
                          _display_name)  # type: ignore[no-any-return]

    @strawberry.field(graphql_type=str | None)
    def email(self, info: Info) -> MaybeAwaitable[str | None]:
        return self._personal(info, "email")  # type: ignore[no-any-return]

    @strawberry.field(graphql_type=str | None)
    def phone(self, info: Info) -> MaybeAwaitable[str | None]:
        return self._personal(info, "phone")  # type: ignore[no-any-return]

    @strawberry.field(graphql_type=str | None)
    def referral_source(self, info: Info) -> MaybeAwaitable[str | None]:
        return self._personal(info, "referral_source")  # type: ignore[no-any-return]

    @classmethod
    def from_view(cls, v: ParticipantView, info: Info, names_only: bool = False,
                  personal: dict[str, Any] | None = None) -> Participant:
        """``personal``: the person's data if the caller decrypted it already."""
        if names_only:  # a facilitator taking attendance: the display name, nothing else
            return cls(id=v.id, erased=v.erased, registered_at=v.registered_at,
                       erased_at=v.erased_at, consents=[], cohorts=[], programme_ids=[],
                       personal_data_visible=False, ciphertext=v.personal_data,
                       display_name_visible=not v.erased, personal=personal)
        actor = context_of(info).actor
        # Of the person's programmes and cohorts, those the caller may read about.
        programme_ids = sorted(policy.visible_programmes(actor, v.programme_ids), key=str)
        cohorts = tuple(c for c in v.cohorts if c.programme_id in programme_ids)
        return cls(
            id=v.id, erased=v.erased, registered_at=v.registered_at, erased_at=v.erased_at,
            consents=[Consent.from_view(c) for c in v.consents],
            cohorts=[
                ParticipantCohort(cohort_id=c.cohort_id, programme_id=c.programme_id,
                                  status=to_enum(EnrolmentStatus, c.status),  # type: ignore[arg-type]
                                  since=c.since)
                for c in cohorts
            ],
            programme_ids=programme_ids,
            personal_data_visible=(
                policy.may_see_personal_data(actor, policy.person(v.programme_ids))
                and not v.erased
            ),
            ciphertext=v.personal_data,
            personal=personal,
        )


def _display_name(data: dict[str, Any]) -> str | None:
    chosen = data.get("chosen_name")
    return chosen or (data.get("name") or "").split(" ")[0] or None


register(ParticipantView, Participant.from_view)
