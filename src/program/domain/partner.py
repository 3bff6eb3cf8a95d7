"""Partner: a referral partner or evaluator that follows a feed of public events
about the people it works with, only as far as each person consented.

Webhook secrets reach this aggregate already encrypted (an opaque ciphertext, as
personal data does): the event log never holds one in clear.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from program.domain.errors import DomainError, InvalidInput, InvalidTransition
from program.domain.values import (
    optional_text,
    require_int,
    require_text,
    require_utc,
    require_uuid,
    unique_texts,
)

# The public event catalogue (versioned types a partner may subscribe to). Their
# schemas live in ``program.feeds.catalogue``; the names are the contract.
FEED_TYPE_PREFIX = "org.program."
PUBLIC_EVENT_TYPES: tuple[str, ...] = tuple(
    FEED_TYPE_PREFIX + name
    for name in (
        "participant.enrolled.v1",
        "participant.waitlisted.v1",
        "participant.left.v1",
        "attendance.recorded.v1",
        "outcome.recorded.v1",
        "consent.withdrawn.v1",
        "participant.erased.v1",
        "cohort.started.v1",
        "cohort.completed.v1",
        "cohort.cancelled.v1",
    )
)
# Recipients are told of these whatever they subscribe to (GDPR Art. 19).
NOTICE_TYPES: tuple[str, ...] = (
    FEED_TYPE_PREFIX + "consent.withdrawn.v1",
    FEED_TYPE_PREFIX + "participant.erased.v1",
)
MAX_ENDPOINTS = 10


class PartnerStatus(StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    RETIRED = "RETIRED"


class PartnerRetired(DomainError):
    code = "PARTNER_RETIRED"
    template = "Partner {partner_id} is retired: cannot {action}."


class UnknownEndpoint(DomainError):
    code = "UNKNOWN_WEBHOOK_ENDPOINT"
    template = "Partner {partner_id} has no webhook endpoint {endpoint_id}."


class TooManyEndpoints(DomainError):
    code = "TOO_MANY_ENDPOINTS"
    template = "A partner may have at most {limit} webhook endpoints."


def _event_types(values: Iterable[str] | None) -> list[str]:
    types = unique_texts(values, "event_types")
    unknown = [t for t in types if t not in PUBLIC_EVENT_TYPES]
    if unknown:
        raise InvalidInput("event_types", f"not in the public catalogue: {', '.join(unknown)}")
    return types


def _programmes(values: Iterable[UUID] | None) -> list[UUID]:
    out: list[UUID] = []
    for value in values or ():
        if require_uuid(value, "programme_ids") not in out:
            out.append(value)
    return out


def _url(value: object) -> str:
    url = require_text(value, "url")
    if not url.lower().startswith(("https://", "http://")):
        raise InvalidInput("url", "must be an http(s) URL")
    return url


class Partner(Aggregate):
    """What a feed needs to decide: who the partner serves, what it hears about, its endpoints."""

    @classmethod
    def register(
        cls,
        name: str,
        purposes: Iterable[str],
        programme_ids: Iterable[UUID],
        event_types: Iterable[str] | None = None,
    ) -> Partner:
        served = unique_texts(purposes, "purposes")
        if not served:
            raise InvalidInput("purposes", "a partner serves at least one consent purpose")
        return cls(
            name=require_text(name, "name"),
            purposes=served,
            programme_ids=_programmes(programme_ids),
            event_types=_event_types(event_types) or list(PUBLIC_EVENT_TYPES),
        )

    @event("Registered")
    def __init__(
        self, name: str, purposes: list[str], programme_ids: list[UUID], event_types: list[str]
    ) -> None:
        self._status = PartnerStatus.ACTIVE
        self._purposes = list(purposes)
        self._programmes = [str(p) for p in programme_ids]
        self._event_types = list(event_types)
        # endpoint id -> enabled; removed endpoints are dropped
        self._endpoints: dict[str, bool] = {}

    @property
    def status(self) -> PartnerStatus:
        return PartnerStatus(self._status)

    @property
    def purposes(self) -> list[str]:
        return list(self._purposes)

    @property
    def programme_ids(self) -> list[UUID]:
        return [UUID(p) for p in self._programmes]

    @property
    def event_types(self) -> list[str]:
        return list(self._event_types)

    @property
    def endpoints(self) -> dict[UUID, bool]:
        """Endpoint id -> enabled."""
        return {UUID(k): v for k, v in self._endpoints.items()}

    # --- the partner -----------------------------------------------------------------

    def update(
        self,
        name: str | None = None,
        purposes: Iterable[str] | None = None,
        programme_ids: Iterable[UUID] | None = None,
        event_types: Iterable[str] | None = None,
    ) -> None:
        """Change what is given; ``None`` keeps a field as it is."""
        self._require_not_retired("be updated")
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = require_text(name, "name")
        if purposes is not None:
            changes["purposes"] = unique_texts(purposes, "purposes")
            if not changes["purposes"]:
                raise InvalidInput("purposes", "a partner serves at least one consent purpose")
        if programme_ids is not None:
            changes["programme_ids"] = _programmes(programme_ids)
        if event_types is not None:
            changes["event_types"] = _event_types(event_types)
        if changes:
            self._update(changes=changes)

    def suspend(self, reason: str | None = None) -> None:
        """Nothing is disclosed while suspended; the feed keeps its place."""
        reason = optional_text(reason, "reason")
        if self._status != PartnerStatus.ACTIVE:
            raise InvalidTransition("Partner", self._status, PartnerStatus.SUSPENDED)
        self._suspend(reason=reason)

    def reinstate(self) -> None:
        if self._status != PartnerStatus.SUSPENDED:
            raise InvalidTransition("Partner", self._status, PartnerStatus.ACTIVE)
        self._reinstate()

    def retire(self) -> None:
        """For good: the feed stops and every endpoint with it."""
        self._require_not_retired("retire again")
        self._retire()

    # --- webhook endpoints -----------------------------------------------------------

    def add_webhook_endpoint(self, endpoint_id: UUID, url: str, secret: str,
                             description: str | None = None) -> None:
        """``secret`` is the ciphertext of the signing secret; ``url`` was checked outside."""
        self._require_not_retired("add a webhook endpoint")
        if len(self._endpoints) >= MAX_ENDPOINTS:
            raise TooManyEndpoints(limit=MAX_ENDPOINTS)
        self._add_endpoint(
            endpoint_id=require_uuid(endpoint_id, "endpoint_id"), url=_url(url),
            secret=require_text(secret, "secret"),
            description=optional_text(description, "description"),
        )

    def rotate_webhook_secret(self, endpoint_id: UUID, secret: str,
                              previous_valid_until: datetime) -> None:
        """The previous secret still signs (a second signature) until ``previous_valid_until``."""
        self._require_endpoint(endpoint_id)
        self._rotate_secret(endpoint_id=endpoint_id, secret=require_text(secret, "secret"),
                            previous_valid_until=require_utc(previous_valid_until,
                                                             "previous_valid_until"))

    def enable_webhook_endpoint(self, endpoint_id: UUID) -> None:
        """Delivery resumes from the first event not yet delivered; idempotent."""
        self._require_not_retired("enable a webhook endpoint")
        if not self._require_endpoint(endpoint_id):
            self._enable_endpoint(endpoint_id=endpoint_id)

    def disable_webhook_endpoint(self, endpoint_id: UUID, reason: str | None = None) -> None:
        """Delivery stops and keeps its place; idempotent."""
        reason = optional_text(reason, "reason")
        if self._require_endpoint(endpoint_id):
            self._disable_endpoint(endpoint_id=endpoint_id, reason=reason)

    def remove_webhook_endpoint(self, endpoint_id: UUID) -> None:
        self._require_endpoint(endpoint_id)
        self._remove_endpoint(endpoint_id=endpoint_id)

    def replay_webhook(self, endpoint_id: UUID, from_sequence: int) -> None:
        """Deliver again from ``from_sequence`` on (consent is checked again at sending)."""
        self._require_not_retired("replay")
        self._require_endpoint(endpoint_id)
        self._replay(endpoint_id=endpoint_id,
                     from_sequence=require_int(from_sequence, "from_sequence"))

    def _require_endpoint(self, endpoint_id: UUID) -> bool:
        key = str(require_uuid(endpoint_id, "endpoint_id"))
        if key not in self._endpoints:
            raise UnknownEndpoint(partner_id=self.id, endpoint_id=endpoint_id)
        return self._endpoints[key]

    def _require_not_retired(self, action: str) -> None:
        if self._status == PartnerStatus.RETIRED:
            raise PartnerRetired(partner_id=self.id, action=action)

    @event("Updated")
    def _update(self, changes: dict[str, Any]) -> None:
        if "purposes" in changes:
            self._purposes = list(changes["purposes"])
        if "programme_ids" in changes:
            self._programmes = [str(p) for p in changes["programme_ids"]]
        if "event_types" in changes:
            self._event_types = list(changes["event_types"])

    @event("Suspended")
    def _suspend(self, reason: str | None) -> None:
        self._status = PartnerStatus.SUSPENDED

    @event("Reinstated")
    def _reinstate(self) -> None:
        self._status = PartnerStatus.ACTIVE

    @event("Retired")
    def _retire(self) -> None:
        self._status = PartnerStatus.RETIRED
        self._endpoints = {k: False for k in self._endpoints}

    @event("WebhookEndpointAdded")
    def _add_endpoint(self, endpoint_id: UUID, url: str, secret: str,
                      description: str | None) -> None:
        self._endpoints[str(endpoint_id)] = True

    @event("WebhookSecretRotated")
    def _rotate_secret(self, endpoint_id: UUID, secret: str,
                       previous_valid_until: datetime) -> None:
        pass  # the dispatcher signs with it; no decision here needs it

    @event("WebhookEndpointEnabled")
    def _enable_endpoint(self, endpoint_id: UUID) -> None:
        self._endpoints[str(endpoint_id)] = True

    @event("WebhookEndpointDisabled")
    def _disable_endpoint(self, endpoint_id: UUID, reason: str | None) -> None:
        self._endpoints[str(endpoint_id)] = False

    @event("WebhookEndpointRemoved")
    def _remove_endpoint(self, endpoint_id: UUID) -> None:
        del self._endpoints[str(endpoint_id)]

    @event("WebhookReplayRequested")
    def _replay(self, endpoint_id: UUID, from_sequence: int) -> None:
        pass
