"""GraphQL at ``/graphql`` (Strawberry on Litestar), GraphiQL in the browser.

Decisions a client can rely on:

- Authentication is checked by every field: without a valid bearer token each field
  answers ``UNAUTHENTICATED`` (introspection of the schema itself needs no token).
- A role that may not read or change something gets ``FORBIDDEN`` at that field's
  path; lists are filtered to the caller's scope instead (a manager's programmes, a
  facilitator's cohorts). Personal data (a participant's name, email, phone, referral
  source) resolves to ``null`` for callers who may not see it, with
  ``personalDataVisible: false``, so dashboards still answer; a facilitator's name is
  ``null`` for auditors and their email and phone for everyone but admins, managers and
  themself. Outcome figures over fewer than 5 people are ``null`` with
  ``suppressed: true`` for every role but ADMIN.
- Every mutation answers the ids it touched and the global ``position`` of its
  change; a query given ``consistentWith: position`` waits up to 5 s for the read
  models, then fails that field with ``NOT_CAUGHT_UP`` (retry). A position past the
  head of the log, or negative, is ``BAD_USER_INPUT``.
- ``idempotencyKey`` is scoped to the caller's whole identity (subject, role and scope)
  and the mutation: repeating a mutation with the same key and the same input answers
  the first result (``replayed: true``) and changes nothing, but only once the caller
  is authorised for it again; the same key with another input is ``CONFLICT``.
- Who may do what is decided by ``program.application.policy`` for every mutation and
  every field: resolvers only ask it.
- Every closed set is an enum (``enums.py``), taken from the domain's own list; a value
  outside it is ``BAD_USER_INPUT`` whose message and ``details.validValues`` list the
  valid names. Every input field, argument and enum value has a description.
- Errors carry ``extensions.code`` (and ``extensions.details``, keys in camelCase, where
  there is more to say); a refused mutation speaks of the act refused, never of reading;
  unexpected failures answer
  ``INTERNAL_SERVER_ERROR`` with no detail (the traceback, without locals or
  messages, goes to the log). A field that failed because the database cannot be
  reached answers ``SERVICE_UNAVAILABLE`` with ``extensions.retryAfter`` (seconds).
- A request is a JSON object (``query``, optional ``variables`` object,
  ``operationName`` and ``extensions``) POSTed as ``application/json``, or a query in
  GET parameters. A request that cannot be run at all (not JSON, not an object, no
  query, a field of the wrong type, an unknown operation name, a batch, a mutation
  over GET) answers 400 with ``{"errors": [{"message", "extensions": {"code":
  "BAD_USER_INPUT"}}]}``; everything else answers 200 with ``data`` and, if any,
  ``errors``. While the database is not reachable the endpoint answers 503 with a
  ``Retry-After`` header (200 with the header if some field still answered). A body
  past 1 MiB answers 413 the same way, unread.
- Every argument of every query and mutation is checked against the input limits
  (``program.domain.limits``, README "Input limits") before its resolver runs:
  ``BAD_USER_INPUT`` with ``details.field`` naming it (``input.recipients[3]``).

Queries are answered through a plan compiled once per document (``compiled.py``), with
Strawberry's normal execution for what the compiler leaves alone; both run the same
resolvers, so the same policy and input checks, and answer byte for byte alike.

Answers to repeated queries may come from a per-process cache (``cache.py``), which
never changes what a caller sees beyond what eventual consistency already allows:

- Only a successful answer to a query POSTed by an authenticated caller is kept, under
  the query text, operation name, variables (key order does not matter) and the whole
  caller (subject, role, programmes, facilitator, partner). Mutations, answers with any
  error, requests carrying ``extensions`` and GET requests are never kept.
- A kept answer is served only while nothing it read has changed: the cohort dashboard
  (and the programme, facilitator and person records reached from one record by id)
  record which read models and which of their entities they read, every projector tells
  every process which entities each batch changed (NOTIFY, with its checkpoint), and an
  answer goes stale once a batch touched one of its entities or anything of a read model
  it read as a whole (a list), or once this process missed a batch. Answers that read
  anything else go stale when any read model moves. Commands reach the cache only through
  what the read models apply, except an erasure, which forgets every answer of this
  process at once (it shreds a key before the read models apply it). And at most 1 s,
  because some fields depend on the clock (``nextSession``, ``daysToExpiry``). A
  ``consistentWith`` request is served from the cache only when the read models had
  already reached that position.
- Identical requests arriving while the first of them is being answered wait for that
  answer and are served it (under the same rules) rather than each computing it again.
- Nothing is cached when no runner watches the read models in this process (or its
  LISTEN connection is lost) or while a read model is being rebuilt.
- ``PROGRAM_GRAPHQL_CACHE=0`` turns it off. It keeps at most 1024 answers of up to
  256 KiB each and 32 MiB in all, least recently used out; ``cache.results.hits`` and ``.misses`` count the lookups
  of requests it could have answered.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from litestar import Request, Response, post
from litestar.background_tasks import BackgroundTasks
from litestar.di import Provide
from litestar.status_codes import HTTP_200_OK


def graphql_route_handlers() -> list[Any]:
    """The Litestar handlers ``create_app`` mounts."""
    from cross_web import HTTPException
    from strawberry.litestar import make_graphql_controller

    from program.api.graphql.context import context_getter
    from program.api.graphql.endpoint import (
        MAX_BODY_BYTES,
        RequestError,
        answer_post,
        request_error,
    )
    from program.api.graphql.schema import schema

    base = make_graphql_controller(
        schema,
        path="/graphql",
        context_getter=context_getter,
        graphql_ide="graphiql",
    )

    class Controller(base):  # type: ignore[valid-type,misc]
        """Strawberry's controller for GET (GraphiQL, queries) and WebSocket; POST is lean."""

        @property
        def graphql_ide_html(self) -> str:
            # Our own page, loading GraphiQL from /graphql/assets (never from a CDN).
            return graphiql_page()

        # Strawberry builds its blank response object in a worker thread (sync_to_thread);
        # the hop costs more than the rest of a small query, so build it on the loop.
        dependencies = {**base.dependencies, "response": Provide(_blank_response)}

        @post(status_code=HTTP_200_OK, request_max_body_size=MAX_BODY_BYTES)
        async def handle_http_post(self, request: Request[Any, Any, Any]) -> Response[bytes]:
            return await answer_post(schema, request)

        async def execute_request(self, request: Request[Any, Any, Any], context: Any,
                                  root_value: Any) -> Response[Any]:
            try:
                return await self.run(request, context=context, root_value=root_value)  # type: ignore[no-any-return]
            except HTTPException as exc:  # answered as POST answers them
                return request_error(RequestError(exc.reason, exc.status_code))

    return [Controller, graphiql_assets()]


async def _blank_response() -> Response[Any]:
    return Response({}, background=BackgroundTasks([]))


ASSETS = Path(__file__).resolve().parent.parent / "static" / "graphiql"
_ASSET_TYPES = {".js": "text/javascript", ".css": "text/css"}


@lru_cache(maxsize=1)
def graphiql_page() -> str:
    return (ASSETS / "index.html").read_text(encoding="utf-8")


def graphiql_assets() -> Any:
    """GraphiQL's scripts and styles, from the package itself (cached by browsers for a day)."""
    from litestar import get
    from litestar.exceptions import NotFoundException
    from litestar.params import FromPath

    @get("/graphql/assets/{name:str}", include_in_schema=False, cache=False)
    async def asset(name: FromPath[str]) -> Response[bytes]:
        path = ASSETS / name
        if "/" in name or path.suffix not in _ASSET_TYPES or not path.is_file():
            raise NotFoundException()
        return Response(_read(path), media_type=_ASSET_TYPES[path.suffix],
                        headers={"Cache-Control": "public, max-age=86400"})

    return asset


@lru_cache(maxsize=8)
def _read(path: Path) -> bytes:
    return path.read_bytes()
