"""Mutations on partners and their webhook endpoints (ADMIN; replay also the partner)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry
from strawberry.types import Info

from program.api.graphql.context import context_of
from program.api.graphql.errors import BadInput, NotFound
from program.api.graphql.mutations.base import run
from program.api.graphql.mutations.payloads import Payload
from program.application.feed_access import require_manage_partners, require_replay
from program.feeds import queries

KEY = strawberry.field(default=None, description="Repeat a mutation safely: the same key "
                                                  "answers the first result.")


@strawberry.input
class RegisterPartnerInput:
    name: str
    purposes: list[str] = strawberry.field(description="Consent purposes the partner serves.")
    programme_ids: list[UUID] = strawberry.field(description="Programmes it may hear about.")
    event_types: list[str] | None = strawberry.field(
        default=None, description="Public event types it subscribes to (default: all).")
    idempotency_key: str | None = KEY


@strawberry.input
class UpdatePartnerInput:
    partner_id: UUID
    name: str | None = None
    purposes: list[str] | None = None
    programme_ids: list[UUID] | None = None
    event_types: list[str] | None = None
    idempotency_key: str | None = KEY


@strawberry.input
class PartnerIdInput:
    partner_id: UUID
    reason: str | None = None
    idempotency_key: str | None = KEY


@strawberry.input
class AddWebhookEndpointInput:
    partner_id: UUID
    url: str = strawberry.field(description="https, on a public address.")
    description: str | None = None
    idempotency_key: str | None = KEY


@strawberry.input
class WebhookEndpointInput:
    partner_id: UUID
    endpoint_id: UUID
    reason: str | None = None
    idempotency_key: str | None = KEY


@strawberry.input
class ReplayWebhookInput:
    endpoint_id: UUID
    from_sequence: int | None = strawberry.field(default=None, description="Give this or since.")
    since: datetime | None = None
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
            ctx, input.name, input.purposes, input.programme_ids, input.event_types)))

    @strawberry.mutation(description="Change a partner; fields left out stay as they are.")
    async def update_partner(self, info: Info, input: UpdatePartnerInput) -> PartnerPayload:
        return _partner(await run(info, input, lambda app, ctx: app.update_partner(
            ctx, input.partner_id, input.name, input.purposes, input.programme_ids,
            input.event_types)))

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
