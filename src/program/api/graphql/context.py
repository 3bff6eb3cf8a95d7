"""The per-request GraphQL context: services, the caller (authenticated lazily) and loaders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from litestar import Request
from litestar.exceptions import ServiceUnavailableException
from strawberry.types import Info

from program.api.auth import Unauthenticated, actor_from_authorization
from program.api.graphql.errors import RETRY_AFTER_S
from program.api.graphql.once import once
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
    secret: str = field(repr=False)  # the JWT signing secret: never in a repr or a log
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @once
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

    def authenticated(self) -> Actor | None:
        """The caller, or None when there is no valid bearer token."""
        actor = self._actor
        return None if isinstance(actor, Unauthenticated) else actor

    @once
    def now(self) -> datetime:
        """The application's clock, read once per request."""
        return self.services.application.clock.now()  # type: ignore[no-any-return]

    @once
    def loaders(self) -> Loaders:
        from program.api.graphql.loaders import Loaders

        return Loaders(self.services, self.now)

    def twin(self) -> GraphQLContext:
        """A fresh context for the same request: same caller and clock, its own loaders."""
        other = GraphQLContext(self.services, self.authorization, self.secret, self.request_id)
        other.__dict__["now"] = self.now
        return other

    def command(
        self, idempotency_key: str | None = None, input_fingerprint: str | None = None
    ) -> CommandContext:
        return CommandContext(
            self.actor, request_id=self.request_id, idempotency_key=idempotency_key or None,
            input_fingerprint=input_fingerprint,
        )


def build_context(request: Request[Any, Any, Any]) -> GraphQLContext:
    """The context of one HTTP request; 503 while the database is not reachable yet."""
    state = request.app.state
    services = state.get("services")
    if services is None:  # the database is not reachable yet (see /ready)
        raise ServiceUnavailableException(
            "the database is not available yet; retry shortly",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    return request_context(services, request.headers.get("authorization"), state.jwt_secret)


def request_context(services: Services, authorization: str | None, secret: str) -> GraphQLContext:
    """The context of the request being served (its id from ``RequestObservability``)."""
    return GraphQLContext(services, authorization, secret,
                          current_request_id() or str(uuid.uuid4()))


async def context_getter(request: Request[Any, Any, Any]) -> dict[str, GraphQLContext]:
    """Litestar dependency building the context; auth errors surface per field, as GraphQL errors."""
    return {"program": build_context(request)}


def context_of(info: Info) -> GraphQLContext:
    return info.context["program"]  # type: ignore[no-any-return]
