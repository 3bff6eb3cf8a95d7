"""Queries on partners (ADMIN, or a PARTNER for itself), webhook attempts and the
disclosure log (AUDITOR and ADMIN). The access questions are asked first, always."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry
from strawberry.types import Info

from program.api.graphql.arguments import After, First
from program.api.graphql.context import context_of
from program.api.graphql.errors import BadInput, NotCaughtUp, NotFound
from program.api.graphql.types.common import Connection, Edge, PageInfo
from program.api.graphql.types.partner import Disclosure, Partner, WebhookAttempt
from program.application.feed_access import (
    require_disclosure_log,
    require_manage_partners,
    require_partner_read,
)
from program.feeds import queries

MAX_PAGE = 100
WAIT = 5.0
FeedsConsistentWith = Annotated[int | None, strawberry.argument(
    description="Wait (up to 5 s, else NOT_CAUGHT_UP) until the partner feeds are built up "
    "to this position.")]


async def wait_for_feeds(pool: object, position: int | None) -> None:
    """Until the feed builder has read the log up to ``position`` (bounded)."""
    if position is None:
        return
    deadline = time.monotonic() + WAIT
    while await queries.built_position(pool) < position:  # type: ignore[arg-type]
        if time.monotonic() > deadline:
            raise NotCaughtUp(position, WAIT)
        await asyncio.sleep(0.02)


def _page(first: int, after: str | None) -> tuple[int, int]:
    if not 0 <= first <= MAX_PAGE:
        raise BadInput(f"first must be between 0 and {MAX_PAGE}")
    try:
        return first, int(after) if after else 0
    except ValueError:
        raise BadInput("after must be a cursor from a previous page") from None


@strawberry.type
class FeedQuery:
    @strawberry.field(description="A partner (ADMIN, or the partner itself).")
    async def partner(
        self, info: Info, id: Annotated[UUID, strawberry.argument(description="Its id.")],
        consistent_with: FeedsConsistentWith = None,
    ) -> Partner:
        ctx = context_of(info)
        require_partner_read(ctx.actor, id)
        await wait_for_feeds(ctx.services.pool, consistent_with)
        rows = await queries.partners(ctx.services.pool, id)
        if not rows:
            raise NotFound("partner", id)
        return Partner.of(rows[0], await queries.endpoints(ctx.services.pool, id))

    @strawberry.field(description="Every partner (ADMIN).")
    async def partners(self, info: Info,
                       consistent_with: FeedsConsistentWith = None) -> list[Partner]:
        ctx = context_of(info)
        require_manage_partners(ctx.actor)
        await wait_for_feeds(ctx.services.pool, consistent_with)
        endpoints = await queries.endpoints(ctx.services.pool)
        return [Partner.of(r, endpoints) for r in await queries.partners(ctx.services.pool)]

    @strawberry.field(description="Requests made to a webhook endpoint, oldest first (ADMIN, "
                                  "or the endpoint's partner).")
    async def webhook_attempts(
        self, info: Info,
        endpoint_id: Annotated[UUID, strawberry.argument(description="The endpoint.")],
        first: First = 50, after: After = None,
    ) -> Connection[WebhookAttempt]:
        ctx = context_of(info)
        actor = ctx.actor
        partner_id = await queries.endpoint_partner(ctx.services.pool, endpoint_id)
        if partner_id is None:
            require_manage_partners(actor)  # only an admin learns that it does not exist
            raise NotFound("webhook endpoint", endpoint_id)
        require_partner_read(actor, partner_id)
        size, cursor = _page(first, after)
        rows = await queries.attempts(ctx.services.pool, endpoint_id, size + 1, cursor)
        return _connection([WebhookAttempt.of(r) for r in rows], size)

    @strawberry.field(description="The disclosure log: every event disclosed to or withheld "
                                  "from a partner, with its consent (AUDITOR, ADMIN). from is "
                                  "inclusive, to exclusive.")
    async def disclosures(
        self, info: Info,
        participant_id: Annotated[UUID | None, strawberry.argument(
            description="Only the events about this person.")] = None,
        partner_id: Annotated[UUID | None, strawberry.argument(
            description="Only the events judged for this partner.")] = None,
        from_: Annotated[datetime | None, strawberry.argument(
            name="from", description="Only events judged at or after this time.")] = None,
        to: Annotated[datetime | None, strawberry.argument(
            description="Only events judged before this time.")] = None,
        first: First = 50, after: After = None,
    ) -> Connection[Disclosure]:
        ctx = context_of(info)
        require_disclosure_log(ctx.actor)
        size, cursor = _page(first, after)
        rows = await queries.disclosures(ctx.services.pool, participant_id=participant_id,
                                         partner_id=partner_id, since=from_, until=to,
                                         first=size + 1, after=cursor)
        return _connection([Disclosure.of(r) for r in rows], size)


def _connection(nodes: list, size: int) -> Connection:  # type: ignore[type-arg]
    page = nodes[:size]
    edges = [Edge(cursor=str(n.id), node=n) for n in page]
    return Connection(edges=edges, page_info=PageInfo(
        has_next_page=len(nodes) > size, end_cursor=edges[-1].cursor if edges else None))
