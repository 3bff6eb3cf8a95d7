"""The per-request GraphQL context: services, the caller (authenticated lazily) and loaders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from litestar import Request
from strawberry.types import Info

from program.api.auth import Unauthenticated, actor_from_authorization
from program.api.observability import current_request_id
from program.application.context import Actor, CommandContext

if TYPE_CHECKING:
    from program.api.graphql.loaders import Loaders
    from program.bootstrap import Services


@dataclass
class GraphQLContext:
    """What every resolver may use; the actor is decoded once, on first use."""

    services: Services
    authorization: str | None
    secret: str
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @cached_property
    def _actor(self) -> Actor | Unauthenticated:
        try:
            return actor_from_authorization(self.authorization, self.secret)
        except Unauthenticated as exc:
            return exc

    @property
    def actor(self) -> Actor:
        """The caller; ``Unauthenticated`` when there is no valid bearer token."""
        actor = self._actor
        if isinstance(actor, Unauthenticated):
            raise Unauthenticated(str(actor))
        return actor

    @cached_property
    def now(self) -> datetime:
        """The application's clock, read once per request."""
        return self.services.application.clock.now()  # type: ignore[no-any-return]

    @cached_property
    def loaders(self) -> Loaders:
        from program.api.graphql.loaders import Loaders

        return Loaders(self.services, self.now)

    def command(self, idempotency_key: str | None = None) -> CommandContext:
        return CommandContext(
            self.actor, request_id=self.request_id, idempotency_key=idempotency_key or None
        )


async def context_getter(request: Request[Any, Any, Any]) -> dict[str, GraphQLContext]:
    """Litestar dependency building the context; auth errors surface per field, as GraphQL errors."""
    state = request.app.state
    return {
        "program": GraphQLContext(
            services=state.services,
            authorization=request.headers.get("authorization"),
            secret=state.jwt_secret,
            request_id=current_request_id() or str(uuid.uuid4()),
        )
    }


def context_of(info: Info) -> GraphQLContext:
    return info.context["program"]  # type: ignore[no-any-return]
