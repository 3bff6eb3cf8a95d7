"""Partners, their webhook endpoints and attempts, the disclosure log and feed events,
built from the feed tables (``program.feeds.queries``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from program.api.graphql.enums import (
    DisclosureChannel,
    DisclosureOutcome,
    PartnerStatus,
    PublicEventType,
    WebhookEndpointState,
    WebhookOutcome,
)
from program.feeds.queries import Disclosure as DisclosureRow


@strawberry.type(description="Where a webhook endpoint stands.")
class WebhookEndpoint:
    id: UUID
    partner_id: UUID
    url: str
    state: WebhookEndpointState
    position: int = strawberry.field(description="The last sequence the endpoint acknowledged.")
    lag: int = strawberry.field(description="Events of the feed not yet acknowledged.")
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    disabled_reason: str | None

    @classmethod
    def of(cls, r: dict[str, Any]) -> WebhookEndpoint:
        return cls(id=r["endpoint_id"], partner_id=r["partner_id"], url=r["url"],
                   state=WebhookEndpointState(r["state"]), position=r["delivered"], lag=r["lag"],
                   next_attempt_at=r["next_at"], last_status=r["last_status"],
                   last_error=r["last_error"], disabled_reason=r["disabled_reason"])


@strawberry.type(description="A referral partner or evaluator and what its feed carries.")
class Partner:
    id: UUID
    name: str
    status: PartnerStatus
    purposes: list[str] = strawberry.field(description="Consent purposes the partner serves.")
    programme_ids: list[UUID]
    event_types: list[PublicEventType] = strawberry.field(
        description="The public event types it subscribes to.")
    head: int = strawberry.field(description="The last sequence of the partner's feed.")
    endpoints: list[WebhookEndpoint]

    @classmethod
    def of(cls, r: dict[str, Any], endpoints: list[dict[str, Any]]) -> Partner:
        return cls(id=r["partner_id"], name=r["name"], status=PartnerStatus(r["status"]),
                   purposes=list(r["purposes"]), programme_ids=sorted(r["programme_ids"], key=str),
                   event_types=[PublicEventType(t) for t in sorted(r["event_types"])],
                   head=r["head"],
                   endpoints=[WebhookEndpoint.of(e) for e in endpoints
                              if e["partner_id"] == r["partner_id"]])


@strawberry.type(description="One webhook request and what came of it.")
class WebhookAttempt:
    id: int
    endpoint_id: UUID
    webhook_id: str
    first_sequence: int
    last_sequence: int
    events: int
    at: datetime
    status_code: int | None
    duration_ms: float | None
    outcome: WebhookOutcome
    error: str | None

    @classmethod
    def of(cls, r: dict[str, Any]) -> WebhookAttempt:
        return cls(id=r["id"], endpoint_id=r["endpoint_id"], webhook_id=r["webhook_id"],
                   first_sequence=r["first_sequence"], last_sequence=r["last_sequence"],
                   events=r["events"], at=r["at"], status_code=r["status"],
                   duration_ms=r["duration_ms"], outcome=WebhookOutcome(r["outcome"]),
                   error=r["error"])


@strawberry.type(description="One event disclosed to (or withheld from) a partner, and the "
                             "consent that authorised it.")
class Disclosure:
    id: int
    at: datetime
    partner_id: UUID
    partner_name: str | None
    channel: DisclosureChannel
    endpoint_id: UUID | None
    sequence: int | None
    event_id: UUID
    type: str
    participant_id: UUID | None
    consent_id: UUID | None
    consent_version: int | None
    outcome: DisclosureOutcome
    reason: str | None

    @classmethod
    def of(cls, d: DisclosureRow) -> Disclosure:
        return cls(**{**vars(d), "channel": DisclosureChannel(d.channel),
                      "outcome": DisclosureOutcome(d.outcome)})


@strawberry.type(description="One event of the caller's feed: a CloudEvent.")
class PartnerEvent:
    sequence: int
    id: str
    type: str
    time: str
    subject: str | None
    cloud_event: JSON = strawberry.field(description="The whole CloudEvent (structured JSON).")
