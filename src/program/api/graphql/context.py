"""The per-request GraphQL context: services, the caller (authenticated lazily) and loaders."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
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
            return verified_tokens.actor(self.authorization, self.secret)
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


class VerifiedTokens:
    """Tokens already verified, kept until they expire (bounded, least recently used out).

    Verifying a JWT costs more than the rest of a small query; a client sends the same
    token with every request. Only a token that passed full verification is kept, under
    its exact text and the secret it was checked against.
    """

    def __init__(self, size: int = 4096, clock: Callable[[], float] = time.time) -> None:
        self.size = size
        self.clock = clock
        self._items: OrderedDict[tuple[str, str], tuple[Actor, float]] = OrderedDict()

    def actor(self, header: str | None, secret: str) -> Actor:
        key = (header or "", secret)
        hit = self._items.get(key)
        if hit is not None:
            if self.clock() < hit[1]:
                self._items.move_to_end(key)
                return hit[0]
            del self._items[key]
        actor = actor_from_authorization(header, secret)
        expires = _expiry(key[0])
        if expires is not None:
            self._items[key] = (actor, expires)
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        return actor


def _expiry(header: str) -> float | None:
    """The ``exp`` claim of a token that has just been verified."""
    try:
        payload = header.split(" ", 1)[1].strip().split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, KeyError, TypeError, ValueError):
        return None


verified_tokens = VerifiedTokens()


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
