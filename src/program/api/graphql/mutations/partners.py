"""Mutations on partners and their webhook endpoints (ADMIN; replay also the partner)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from program.api.graphql.context import context_of
from program.api.graphql.enums import PublicEventType
from program.api.graphql.errors import BadInput, NotFound
from program.api.graphql.mutations.base import run
from program.api.graphql.mutations.payloads import Payload
from program.application.feed_access import require_manage_partners, require_replay
from program.feeds import queries

KEY = strawberry.field(default=None, description="Repeat a mutation safely: the same key "
                                                  "answers the first result.")


def _field(words: str, **options: object) -> Any:
    return strawberry.field(description=words, **options)  # type: ignore[call-overload]


PARTNER = "The partner."
ENDPOINT = "The webhook endpoint."


@strawberry.input(description="A new referral partner or evaluator and what its feed carries.")
class RegisterPartnerInput:
    name: str = _field("Its name, as admins see it.")
    purposes: list[str] = _field("Consent purposes the partner serves.")
    programme_ids: list[UUID] = _field("Programmes it may hear about.")
    event_types: list[PublicEventType] | None = _field(
        "Public event types it subscribes to (default: all).", default=None)
    idempotency_key: str | None = KEY


@strawberry.input(description="Changes to a partner; fields left out stay as they are.")
class UpdatePartnerInput:
    partner_id: UUID = _field(PARTNER)
    name: str | None = _field("Its new name.", default=None)
    purposes: list[str] | None = _field("The consent purposes it now serves.", default=None)
    programme_ids: list[UUID] | None = _field("The programmes it may now hear about.",
                                              default=None)
    event_types: list[PublicEventType] | None = _field(
        "The public event types it now subscribes to.", default=None)
    idempotency_key: str | None = KEY


@strawberry.input(description="Names a partner by id.")
class PartnerIdInput:
    partner_id: UUID = _field(PARTNER)
    reason: str | None = _field("Why (suspendPartner keeps it; never personal data).",
                                default=None)
    idempotency_key: str | None = KEY


@strawberry.input(description="A webhook endpoint for a partner's feed.")
class AddWebhookEndpointInput:
    partner_id: UUID = _field(PARTNER)
    url: str = _field("https, on a public address.")
    description: str | None = _field("What it is, for admins.", default=None)
    idempotency_key: str | None = KEY


@strawberry.input(description="Names a partner's webhook endpoint.")
class WebhookEndpointInput:
    partner_id: UUID = _field(PARTNER)
    endpoint_id: UUID = _field(ENDPOINT)
    reason: str | None = _field("Why (disableWebhookEndpoint keeps it).", default=None)
    idempotency_key: str | None = KEY


@strawberry.input(description="Where a webhook replay starts: a sequence or a moment.")
class ReplayWebhookInput:
    endpoint_id: UUID = _field(ENDPOINT)
    from_sequence: int | None = _field("The first sequence to deliver again. Give this or "
                                       "since.", default=None)
    since: datetime | None = _field("Deliver again what the feed carried from this moment "
                                    "on. Give this or fromSequence.", default=None)
    idempotency_key: str | None = KEY


@strawberry.type
class PartnerPayload(Payload):
    partner_id: UUID


@strawberry.type
class WebhookEndpointPayload(Payload):
    partner_id: UUID
    endpoint_id: UUID
    secret: str | None = strawberry.field(
        default=None, description="The signing secret (whsec_…): shown this once, never again.")


def _types(chosen: list[PublicEventType] | None) -> list[str] | None:
    return None if chosen is None else [t.value for t in chosen]


def _partner(result: object) -> PartnerPayload:
    v = result.value  # type: ignore[attr-defined]
    return PartnerPayload(partner_id=UUID(v["partner_id"]), position=result.position,  # type: ignore[attr-defined]
                          replayed=result.replayed)  # type: ignore[attr-defined]


def _endpoint(result: object) -> WebhookEndpointPayload:
    v = result.value  # type: ignore[attr-defined]
    return WebhookEndpointPayload(
        partner_id=UUID(v["partner_id"]), endpoint_id=UUID(v["endpoint_id"]),
        secret=v.get("secret"), position=result.position, replayed=result.replayed)  # type: ignore[attr-defined]


@strawberry.type
class PartnerMutations:
    @strawberry.mutation(description="Register a partner.")
    async def register_partner(self, info: Info, input: RegisterPartnerInput) -> PartnerPayload:
        return _partner(await run(info, input, lambda app, ctx: app.register_partner(
            ctx, input.name, input.purposes, input.programme_ids, _types(input.event_types))))

    @strawberry.mutation(description="Change a partner; fields left out stay as they are.")
    async def update_partner(self, info: Info, input: UpdatePartnerInput) -> PartnerPayload:
        return _partner(await run(info, input, lambda app, ctx: app.update_partner(
            ctx, input.partner_id, input.name, input.purposes, input.programme_ids,
            _types(input.event_types))))

    @strawberry.mutation(description="Disclose nothing to a partner until reinstated.")
    async def suspend_partner(self, info: Info, input: PartnerIdInput) -> PartnerPayload:
        return _partner(await run(info, input, lambda app, ctx: app.suspend_partner(
            ctx, input.partner_id, input.reason)))

    @strawberry.mutation(description="Resume a suspended partner's feed where it stopped.")
    async def reinstate_partner(self, info: Info, input: PartnerIdInput) -> PartnerPayload:
        return _partner(await run(info, input, lambda app, ctx: app.reinstate_partner(
            ctx, input.partner_id)))

    @strawberry.mutation(description="End a partnership for good.")
    async def retire_partner(self, info: Info, input: PartnerIdInput) -> PartnerPayload:
        return _partner(await run(info, input, lambda app, ctx: app.retire_partner(
            ctx, input.partner_id)))

    @strawberry.mutation(description="Add a webhook endpoint; the answer shows its secret once.")
    async def add_webhook_endpoint(self, info: Info,
                                   input: AddWebhookEndpointInput) -> WebhookEndpointPayload:
        return _endpoint(await run(info, input, lambda app, ctx: app.add_webhook_endpoint(
            ctx, input.partner_id, input.url, input.description)))

    @strawberry.mutation(description="A new signing secret (shown once); the previous one keeps "
                                     "signing beside it for the overlap period.")
    async def rotate_webhook_secret(self, info: Info,
                                    input: WebhookEndpointInput) -> WebhookEndpointPayload:
        return _endpoint(await run(info, input, lambda app, ctx: app.rotate_webhook_secret(
            ctx, input.partner_id, input.endpoint_id)))

    @strawberry.mutation(description="Resume delivery from the first undelivered event.")
    async def enable_webhook_endpoint(self, info: Info,
                                      input: WebhookEndpointInput) -> WebhookEndpointPayload:
        return _endpoint(await run(info, input, lambda app, ctx:
                                   app.enable_webhook_endpoint(ctx, input.partner_id,
                                                               input.endpoint_id)))

    @strawberry.mutation(description="Stop delivery; the endpoint keeps its place.")
    async def disable_webhook_endpoint(self, info: Info,
                                       input: WebhookEndpointInput) -> WebhookEndpointPayload:
        return _endpoint(await run(info, input, lambda app, ctx:
                                   app.disable_webhook_endpoint(ctx, input.partner_id,
                                                                input.endpoint_id, input.reason)))

    @strawberry.mutation(description="Remove an endpoint and shred its secrets.")
    async def remove_webhook_endpoint(self, info: Info,
                                      input: WebhookEndpointInput) -> WebhookEndpointPayload:
        return _endpoint(await run(info, input, lambda app, ctx:
                                   app.remove_webhook_endpoint(ctx, input.partner_id,
                                                               input.endpoint_id)))

    @strawberry.mutation(description="Deliver again from a sequence (or a moment) on, to this "
                                     "endpoint (ADMIN, or its partner). Consent is checked again "
                                     "as each event goes out.")
    async def replay_webhook(self, info: Info, input: ReplayWebhookInput) -> WebhookEndpointPayload:
        ctx = context_of(info)
        actor = ctx.actor
        pool = ctx.services.pool
        partner_id = await queries.endpoint_partner(pool, input.endpoint_id)
        if partner_id is None:
            require_manage_partners(actor)  # only an admin learns that it does not exist
            raise NotFound("webhook endpoint", input.endpoint_id)
        require_replay(actor, partner_id)
        if (input.from_sequence is None) == (input.since is None):
            raise BadInput("give exactly one of fromSequence and since")
        start = input.from_sequence if input.since is None else \
            await queries.sequence_since(pool, partner_id, input.since)
        return _endpoint(await run(info, input, lambda app, c: app.replay_webhook(
            c, partner_id, input.endpoint_id, start)))
