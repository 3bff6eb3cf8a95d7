"""Commands on partners and their webhook endpoints (ADMIN; a partner may replay its own).

Checking a webhook URL (it resolves hosts) and sealing a new signing secret happen
outside the domain, through ``webhook_tools`` (set by the composition root). A new
secret is returned once, in the command's answer, and never stored with an
idempotency key: a replayed command answers without it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta
from typing import Any, Protocol
from uuid import UUID

from program.application.base import Handlers, as_uuid, ids
from program.application.context import CommandContext
from program.application.feed_access import require_manage_partners, require_replay
from program.application.unit import CommandResult, UnitOfWork, authorised_before_running
from program.domain.partner import Partner


class WebhookTools(Protocol):
    secret_overlap: timedelta

    async def check_url(self, url: str) -> None:
        """Raise ``InvalidInput`` for a URL the program will not call."""

    async def seal_new_secret(self, endpoint_id: UUID) -> tuple[str, str]:
        """A new secret and its ciphertext."""

    async def shred_secrets(self, endpoint_id: UUID) -> None:
        """Destroy the key every secret of the endpoint is sealed under."""


class PartnerCommands(Handlers):
    webhook_tools: WebhookTools | None = None

    async def register_partner(self, ctx: CommandContext, name: str, purposes: Iterable[str],
                               programme_ids: Iterable[UUID | str],
                               event_types: Iterable[str] | None = None) -> CommandResult:
        """Register a partner: the purposes it serves, its programmes, its event types."""
        require_manage_partners(ctx.actor)
        programmes = [as_uuid(p, "programme_ids") for p in programme_ids]

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            partner = uow.add(Partner.register(name, purposes, programmes, event_types))
            return ids(partner_id=partner.id)

        return await self._run(ctx, "registerPartner", decide, authorise=authorised_before_running)

    async def update_partner(self, ctx: CommandContext, partner_id: UUID | str,
                             name: str | None = None, purposes: Iterable[str] | None = None,
                             programme_ids: Iterable[UUID | str] | None = None,
                             event_types: Iterable[str] | None = None) -> CommandResult:
        """Change a partner's name, purposes, programmes or event types (None keeps one)."""
        require_manage_partners(ctx.actor)
        programmes = None if programme_ids is None else [
            as_uuid(p, "programme_ids") for p in programme_ids]
        return await self._partner_step(ctx, partner_id, "updatePartner",
                                         lambda p: p.update(name, purposes, programmes,
                                                            event_types))

    async def suspend_partner(self, ctx: CommandContext, partner_id: UUID | str,
                              reason: str | None = None) -> CommandResult:
        """Stop disclosing to a partner for now; its feed keeps its place."""
        require_manage_partners(ctx.actor)
        return await self._partner_step(ctx, partner_id, "suspendPartner",
                                         lambda p: p.suspend(reason))

    async def reinstate_partner(self, ctx: CommandContext, partner_id: UUID | str) -> CommandResult:
        require_manage_partners(ctx.actor)
        return await self._partner_step(ctx, partner_id, "reinstatePartner", Partner.reinstate)

    async def retire_partner(self, ctx: CommandContext, partner_id: UUID | str) -> CommandResult:
        """End a partnership for good: its feed and its endpoints stop."""
        require_manage_partners(ctx.actor)
        return await self._partner_step(ctx, partner_id, "retirePartner", Partner.retire)

    async def add_webhook_endpoint(self, ctx: CommandContext, partner_id: UUID | str, url: str,
                                   description: str | None = None) -> CommandResult:
        """Add an endpoint; the answer carries its signing secret, this once."""
        require_manage_partners(ctx.actor)
        tools = self._tools()
        await tools.check_url(url)
        endpoint_id = uuid.uuid4()
        secret, sealed = await tools.seal_new_secret(endpoint_id)
        result = await self._partner_step(
            ctx, partner_id, "addWebhookEndpoint",
            lambda p: p.add_webhook_endpoint(endpoint_id, url, sealed, description),
            endpoint_id=endpoint_id)
        return result if result.replayed else replace(result, value={**result.value,
                                                                     "secret": secret})

    async def rotate_webhook_secret(self, ctx: CommandContext, partner_id: UUID | str,
                                    endpoint_id: UUID | str) -> CommandResult:
        """A new secret signs from now on; the previous one also signs for the overlap."""
        require_manage_partners(ctx.actor)
        tools = self._tools()
        eid = as_uuid(endpoint_id, "endpoint_id")
        secret, sealed = await tools.seal_new_secret(eid)
        until = self.clock.now() + tools.secret_overlap
        result = await self._partner_step(
            ctx, partner_id, "rotateWebhookSecret",
            lambda p: p.rotate_webhook_secret(eid, sealed, until), endpoint_id=eid)
        return result if result.replayed else replace(result, value={**result.value,
                                                                     "secret": secret})

    async def enable_webhook_endpoint(self, ctx: CommandContext, partner_id: UUID | str,
                                      endpoint_id: UUID | str) -> CommandResult:
        """Resume delivery from the first event not yet delivered."""
        require_manage_partners(ctx.actor)
        eid = as_uuid(endpoint_id, "endpoint_id")
        return await self._partner_step(ctx, partner_id, "enableWebhookEndpoint",
                                         lambda p: p.enable_webhook_endpoint(eid), endpoint_id=eid)

    async def disable_webhook_endpoint(self, ctx: CommandContext, partner_id: UUID | str,
                                       endpoint_id: UUID | str,
                                       reason: str | None = None) -> CommandResult:
        require_manage_partners(ctx.actor)
        eid = as_uuid(endpoint_id, "endpoint_id")
        return await self._partner_step(ctx, partner_id, "disableWebhookEndpoint",
                                         lambda p: p.disable_webhook_endpoint(eid, reason),
                                         endpoint_id=eid)

    async def remove_webhook_endpoint(self, ctx: CommandContext, partner_id: UUID | str,
                                      endpoint_id: UUID | str) -> CommandResult:
        """Remove an endpoint; its secrets are shredded with their key."""
        require_manage_partners(ctx.actor)
        eid = as_uuid(endpoint_id, "endpoint_id")
        result = await self._partner_step(ctx, partner_id, "removeWebhookEndpoint",
                                          lambda p: p.remove_webhook_endpoint(eid),
                                          endpoint_id=eid)
        await self._tools().shred_secrets(eid)
        return result

    async def replay_webhook(self, ctx: CommandContext, partner_id: UUID | str,
                             endpoint_id: UUID | str, from_sequence: int) -> CommandResult:
        """Deliver again from a sequence on; consent is checked again as each goes out."""
        pid = as_uuid(partner_id, "partner_id")
        require_replay(ctx.actor, pid)
        eid = as_uuid(endpoint_id, "endpoint_id")
        return await self._partner_step(ctx, pid, "replayWebhook",
                                         lambda p: p.replay_webhook(eid, from_sequence),
                                         endpoint_id=eid)

    async def _partner_step(self, ctx: CommandContext, partner_id: UUID | str, command: str,
                            step: Any, **extra: UUID) -> CommandResult:
        pid = as_uuid(partner_id, "partner_id")

        async def decide(uow: UnitOfWork) -> dict[str, Any]:
            step(await uow.get(pid, Partner))
            return ids(partner_id=pid, **extra)

        return await self._run(ctx, command, decide, authorise=authorised_before_running, key=pid)

    def _tools(self) -> WebhookTools:
        if self.webhook_tools is None:
            raise RuntimeError("webhook tools are not configured")
        return self.webhook_tools
