"""POST /graphql answered from the ASGI messages, before Litestar's router.

It is the API's busiest request, and Litestar's routing, handler signature, response
object and exception layer cost some 30 µs of the 240 µs of server time a cohort
dashboard took (measured under load). This front reads the body, builds the context and
answers through ``endpoint.answer_body``, the same function the Litestar handler uses,
so the answers are the same; only the transport differs. What it does not answer goes
on to Litestar untouched, its body unread: any other method or path, a database not
reachable yet (Litestar's 503), a body past ``MAX_BODY_BYTES`` (its 413), a body sent
without a ``Content-Length`` (chunked: Litestar reads it). ``RequestObservability``
stays outside it, so the request id, metrics and access line are the same.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from litestar import Litestar, Request
from strawberry.schema import BaseSchema

from program.api.graphql.context import request_context
from program.api.graphql.endpoint import MAX_BODY_BYTES, Answer, answer_body
from program.api.graphql.errors import RETRY_AFTER_S

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PATH = "/graphql"
log = logging.getLogger(__name__)
_FAILED = Answer(b'{"status_code":500,"detail":"Internal Server Error"}', 500)


class GraphQLPost:
    """ASGI middleware answering POST /graphql itself (see the module's doc)."""

    def __init__(self, app: ASGIApp, litestar: Litestar, schema: BaseSchema) -> None:
        self.app = app
        self.litestar = litestar
        self.schema = schema

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        state = self.litestar.state
        services = state.get("services")
        content_type, authorization, length = _headers(scope)
        if services is None or length is None or length > MAX_BODY_BYTES:
            await self.app(scope, receive, send)
            return
        scope["path_template"] = PATH
        body = await _read(receive, length)
        if body is None:  # the client went away: nobody to answer
            return
        scope["app"] = self.litestar
        context = request_context(services, authorization, state.jwt_secret)
        try:
            answer = await answer_body(self.schema, body, content_type, lambda: context,
                                       Request(scope, receive))
        except Exception:
            log.exception("POST %s failed", PATH)
            answer = _FAILED
        headers = [(b"content-type", b"application/json"),
                   (b"content-length", str(len(answer.body)).encode())]
        if answer.retry_after:
            headers.append((b"retry-after", str(RETRY_AFTER_S).encode()))
        await send({"type": "http.response.start", "status": answer.status_code,
                    "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})


def _headers(scope: Scope) -> tuple[str, str | None, int | None]:
    """Content type, authorization (the first of each, as Litestar reads them) and the
    announced length (None: absent or unreadable)."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        found.setdefault(name, value)
    length: int | None = None
    if (raw := found.get(b"content-length")) is not None and raw.isdigit():
        length = int(raw)
    authorization = found.get(b"authorization")
    return (found.get(b"content-type", b"").decode("latin-1"),
            None if authorization is None else authorization.decode("latin-1"), length)


async def _read(receive: Receive, length: int) -> bytes | None:
    """The body; None on a disconnect. Servers hold a body to its ``Content-Length``;
    one that passes it anyway is cut there (the rest is never read, nor answered)."""
    chunks: list[bytes] = []
    size = 0
    while size < length:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)[:length]
