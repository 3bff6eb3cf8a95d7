"""``partnerEvents(after)``: the caller's feed over graphql-transport-ws on ``/graphql``.

The bearer token comes from the upgrade request's ``Authorization`` header or from
``connection_init``'s payload (``{"Authorization": "Bearer …"}``), as browsers cannot
set headers on a websocket.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from program.api.auth import actor_from_authorization
from program.api.graphql.errors import BadInput
from program.api.graphql.types.partner import PartnerEvent
from program.application.context import Actor
from program.application.feed_access import require_feed
from program.feeds import reader


def _actor(info: Info) -> tuple[Actor, Any]:
    context = info.context
    program = context.get("program")
    if program is not None and "socket" not in context:  # over HTTP: the endpoint's context
        return program.actor, program.services
    socket = context.get("socket") or context.get("request")
    services = socket.app.state.get("services")
    params = context.get("connection_params") or {}
    header = (params.get("Authorization") or params.get("authorization")
              if isinstance(params, dict) else None) or socket.headers.get("authorization")
    return actor_from_authorization(header, socket.app.state.jwt_secret), services


@strawberry.type
class Subscription:
    @strawberry.subscription(description="The caller's (PARTNER) feed after a sequence, then "
                                         "live; the same sequence as webhooks, SSE and pull. "
                                         "Over graphql-transport-ws only.")
    async def partner_events(
        self, info: Info,
        after: Annotated[int, strawberry.argument(
            description="The last sequence already received; 0: from the feed's start.")] = 0,
    ) -> AsyncGenerator[PartnerEvent, None]:
        # A coroutine returning the stream: the checks run first, over any transport.
        actor, services = _actor(info)
        partner_id = require_feed(actor)
        if "socket" not in info.context:
            raise BadInput("partnerEvents is a subscription: use graphql-transport-ws on /graphql")
        if after < 0:
            raise BadInput("after must be 0 or more")
        feeds = services.feeds
        await reader.check_position(feeds.pool, partner_id, after)
        return _events(feeds, partner_id, after)  # type: ignore[return-value]


async def _events(feeds: Any, partner_id: Any, after: int) -> AsyncGenerator[PartnerEvent, None]:
    async for rows in reader.follow(feeds.pool, feeds.listener, partner_id, after, "graphql",
                                    feeds.clock, heartbeat=feeds.settings.heartbeat):
        for row in rows:
            event = json.loads(row.body)
            yield PartnerEvent(sequence=row.sequence, id=event["id"], type=event["type"],
                               time=event["time"], subject=event.get("subject"),
                               cloud_event=event)


def guard_over_http(graphql_schema: Any) -> None:
    """Over HTTP a subscription's field is resolved without its stream (graphql-core calls
    only ``resolve``, with no event): authenticate and authorise there too, then say
    which transport to use, so a refused caller hears FORBIDDEN as on any other field."""
    for name, field in graphql_schema.subscription_type.fields.items():
        field.resolve = _guarded(field.resolve)


def _guarded(resolve: Any) -> Any:
    def guarded(source: Any, info: Any, **kwargs: Any) -> Any:
        if source is None:
            program = info.context["program"]
            require_feed(program.actor)
            raise BadInput(f"{info.field_name} is a subscription: use graphql-transport-ws "
                           "on /graphql")
        return resolve(source, info, **kwargs) if resolve is not None else source
    return guarded
