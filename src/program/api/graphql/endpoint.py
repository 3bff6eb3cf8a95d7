"""``POST /graphql`` without Strawberry's generic HTTP view.

Strawberry's Litestar controller resolves five dependencies per request and runs every
body through its generic view; for a small dashboard query that costs about as much as
the query. This handler only reads the body, builds the context as ``context_getter``
does, and answers with the same JSON Strawberry would (``process_result``), or with
the cached answer (see ``cache``). A request that cannot be run at all answers 400 as
Strawberry does, but as a GraphQL error with ``BAD_USER_INPUT`` instead of plain text;
a body past ``MAX_BODY_BYTES`` answers 413 the same way, unread.
An answer that failed because the database is unreachable carries ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from graphql import GraphQLError, OperationType, get_operation_ast
from litestar import MediaType, Request, Response
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from strawberry.exceptions import MissingQueryError
from strawberry.http import process_result
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.types.graphql import OperationType as Allowed

from program.api.graphql import cache as _cache
from program.api.graphql import compiled as _compiled
from program.api.graphql import errors as _errors
from program.api.graphql.context import GraphQLContext, build_context
from program.api.graphql.errors import BAD_USER_INPUT, RETRY_AFTER_S, UNAVAILABLE, details_of
from program.api.graphql.schema import MAX_TOKENS, Guard, parse_document, validated
from program.api.graphql.validation import check_variables
from program.domain.errors import InvalidInput

# Large enough for any request the input limits allow (the largest text is 32 KiB);
# small enough that decoding and coercing it cannot hold the event loop for long.
MAX_BODY_BYTES = 1 << 20
_POST_OPERATIONS = frozenset({Allowed.QUERY, Allowed.MUTATION, Allowed.SUBSCRIPTION})
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


class RequestError(Exception):
    """The HTTP request itself is unusable: 400 before anything runs."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


@dataclass(frozen=True, slots=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None


def parse_body(body: bytes, content_type: str) -> GraphQLRequest:
    """The request's fields, checked as Strawberry checks them (with its messages), and
    a body that is not an object or an ``operationName`` that is not text refused too."""
    if "application/json" not in content_type.lower():
        raise RequestError("Unsupported content type")
    try:
        data = _decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise RequestError("Unable to parse request body as JSON") from exc
    if isinstance(data, list):
        raise RequestError("Batching is not enabled")
    if not isinstance(data, dict):
        raise RequestError("The request body must be a JSON object")
    query = data.get("query")
    if not isinstance(query, (str, type(None))):
        raise RequestError("The GraphQL operation's `query` must be a string or null, if provided.")
    if not query:
        raise RequestError("No GraphQL query found in the request")
    variables = data.get("variables")
    if not isinstance(variables, (dict, type(None))):
        raise RequestError(
            "The GraphQL operation's `variables` must be an object or null, if provided.")
    extensions = data.get("extensions")
    if not isinstance(extensions, (dict, type(None))):
        raise RequestError(
            "The GraphQL operation's `extensions` must be an object or null, if provided.")
    operation_name = data.get("operationName")
    if not isinstance(operation_name, (str, type(None))):
        raise RequestError("The GraphQL operation's `operationName` must be a string or null, "
                           "if provided.")
    return GraphQLRequest(query, variables, operation_name, extensions)


def json_response(body: bytes, status_code: int = 200) -> Response[bytes]:
    return Response(body, status_code=status_code, media_type=MediaType.JSON)


@dataclass(frozen=True, slots=True)
class Answer:
    """What POST /graphql answers, before any transport: a JSON body, its status, and
    whether it says to retry (a database outage)."""

    body: bytes
    status_code: int = 200
    retry_after: bool = False

    def response(self) -> Response[bytes]:
        response = json_response(self.body, self.status_code)
        if self.retry_after:
            response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response


def _refused(exc: RequestError) -> Answer:
    """A request error as GraphQL errors are shaped, with the HTTP status it deserves."""
    return Answer(_encode({"errors": [{"message": exc.message,
                                       "extensions": {"code": BAD_USER_INPUT}}]}),
                  exc.status_code)


def request_error(exc: RequestError) -> Response[bytes]:
    return _refused(exc).response()


async def answer_post(schema: BaseSchema, request: Request[Any, Any, Any]) -> Response[bytes]:
    """POST /graphql through Litestar (``asgi_post`` answers it before Litestar when it can)."""
    try:
        body = await _body(request)
    except RequestError as exc:
        return request_error(exc)
    answer = await answer_body(schema, body, request.headers.get("content-type", ""),
                               lambda: build_context(request), request)
    return answer.response()


async def answer_body(schema: BaseSchema, body: bytes, content_type: str,
                      context_of_request: Callable[[], GraphQLContext], request: Any) -> Answer:
    """Run one POSTed operation, from the cache when it may be. ``context_of_request``
    is called once the body is a usable request; ``request`` is the transport's own
    object, for Strawberry's context."""
    try:
        gql = parse_body(body, content_type)
    except RequestError as exc:
        return _refused(exc)
    try:
        check_variables(gql.variables)
    except InvalidInput as exc:
        return Answer(_encode({"errors": [{"message": exc.message, "extensions": {
            "code": exc.code, "details": details_of(exc)}}]}))
    context = context_of_request()
    results = _cache.results
    ticket = _ticket(results, context, gql)
    done = None
    if ticket is not None:
        if (hit := results.lookup(ticket)) is not None:
            return Answer(hit)
        if (hit := await results.after_the_same(ticket)) is not None:
            return Answer(hit)
        done = results.computing(ticket)
    try:
        return await _answer(schema, request, gql, context, results, ticket)
    finally:
        if done is not None:
            done()


async def _answer(schema: BaseSchema, request: Any, gql: GraphQLRequest,
                  context: GraphQLContext, results: _cache.ResultCache,
                  ticket: _cache.Ticket | None) -> Answer:
    """Answer a request no cached answer served (and keep the answer when it may be)."""
    plan = plan_for(schema, gql)
    result = None
    if plan is not None:
        result = await run_plan(schema, plan, gql, {"request": request, "program": context})
    if result is None:
        plan = None
        try:
            result = await run_strawberry(schema, gql, {"request": request, "program": context})
        except CannotGetOperationTypeError as exc:
            return _refused(RequestError(exc.as_http_error_reason()))
        except MissingQueryError:
            return _refused(RequestError("No GraphQL query found in the request"))
    body = _encode(process_result(result))
    if plan is not None and (shadow := _compiled.shadow) is not None:
        async def again(compiled: bool) -> bytes:
            value = {"request": request, "program": context.twin()}
            answer = await (run_plan(schema, plan, gql, value) if compiled
                            else run_strawberry(schema, gql, value))
            return _encode(process_result(answer)) if answer is not None else b""

        await shadow.compare(gql, body, lambda: again(False), lambda: again(True))
    if ticket is not None and not result.errors:
        results.store(ticket, body, _reads(plan, context))
    if result.errors and any((e.extensions or {}).get("code") == UNAVAILABLE for e in result.errors):
        return _unavailable(body, result.data)
    return Answer(body)


async def run_strawberry(schema: BaseSchema, gql: GraphQLRequest,
                         context_value: dict[str, Any]) -> Any:
    """Strawberry's normal execution: whatever no plan answers."""
    return await schema.execute(
        gql.query,
        variable_values=gql.variables,
        context_value=context_value,
        operation_name=gql.operation_name,
        allowed_operation_types=_POST_OPERATIONS,
        operation_extensions=gql.extensions,
    )


def plan_for(schema: BaseSchema, gql: GraphQLRequest) -> _compiled.Plan | None:
    """The compiled plan of a valid query, or None (Strawberry answers it)."""
    plans = _plans(schema)
    if plans is None or gql.extensions:
        return None
    try:
        document = parse_document(gql.query, max_tokens=MAX_TOKENS)  # shared with execute
    except GraphQLError:
        return None
    if validated.errors(schema, document):  # type: ignore[arg-type]
        return None
    return plans.get(document, gql.operation_name)


async def run_plan(schema: BaseSchema, plan: _compiled.Plan, gql: GraphQLRequest,
                   context_value: dict[str, Any]) -> Any:
    """A plan's answer, its errors processed as Strawberry processes them; None when
    the plan gave up (the variables do not coerce): Strawberry answers then."""
    result = await plan.run(gql.variables, context_value)
    if result is not None and result.errors:
        if _compiled.shadow is None:
            schema.process_errors(result.errors)  # type: ignore[call-arg]
        else:  # the shadow run logs them: once per request, as without it
            for error in result.errors:
                _errors.label(error)
    return result


# Fields whose resolvers read only through the request's loaders, which record what they
# read (``Loaders.reads``). An answer that resolved any other field (a list, a field added
# later, anything Strawberry answered) is kept as depending on every read model.
RECORDED_READS = frozenset({
    ("Query", "me"), ("Query", "cohort"), ("Query", "programme"), ("Query", "facilitator"),
    ("Query", "participant"), ("Cohort", "programme"), ("Cohort", "enrolled"),
    ("Cohort", "waitlist"), ("CohortFacilitator", "facilitator"),
    ("CohortMember", "participant"), ("Absence", "participant"), ("Facilitator", "cohort"),
    ("Participant", "cohort"), ("Participant", "name"), ("Participant", "email"),
    ("Participant", "phone"), ("Participant", "referralSource"),
})


def _reads(plan: _compiled.Plan | None, context: GraphQLContext) -> _cache.Reads | None:
    """What an answer read, when every field it resolved records it; else None."""
    if plan is None or not plan.resolved <= RECORDED_READS:
        return None
    loaders = context.__dict__.get("loaders")  # built on first use: none means none read
    return {} if loaders is None else loaders.read_sets()


_PLANS: dict[int, tuple[BaseSchema, _compiled.Plans | None]] = {}


def _plans(schema: BaseSchema) -> _compiled.Plans | None:
    """The plans of a schema whose extensions a plan may skip (None: compile nothing)."""
    if not _compiled.enabled:
        return None
    hit = _PLANS.get(id(schema))
    if hit is None or hit[0] is not schema:
        extensions = getattr(schema, "extensions", ())
        ok = _compiled.compilable(extensions, (Guard,))
        hit = _PLANS[id(schema)] = (schema, _compiled.Plans(schema._schema) if ok else None)  # type: ignore[attr-defined]
    return hit[1]


async def _body(request: Request[Any, Any, Any]) -> bytes:
    """The body, refused once it passes ``MAX_BODY_BYTES`` (the route sets the same limit)."""
    try:
        return await request.body()
    except RequestEntityTooLarge:
        raise RequestError(f"The request body is larger than {MAX_BODY_BYTES} bytes",
                           413) from None


def _unavailable(body: bytes, data: dict[str, Any] | None) -> Answer:
    """An answer the database's outage spoiled: ``Retry-After`` always, and 503 (which
    proxies and clients know to retry) unless some field still answered."""
    answered = data is not None and any(value is not None for value in data.values())
    return Answer(body, 200 if answered else 503, retry_after=True)


def _ticket(results: _cache.ResultCache, context: GraphQLContext,
            gql: GraphQLRequest) -> _cache.Ticket | None:
    if gql.extensions or not results.enabled:
        return None  # nothing reads them today; a future extension might make answers differ
    actor = context.authenticated()
    if actor is None:
        return None  # every field fails UNAUTHENTICATED: nothing to keep
    return results.ticket(context.services, actor, operation_type(gql.query, gql.operation_name),
                          gql.query, gql.operation_name, gql.variables)


def operation_type(query: str, operation_name: str | None) -> OperationType | None:
    """The type of the operation a request runs; None when the document is unusable."""
    try:
        document = parse_document(query, max_tokens=MAX_TOKENS)  # shared with execute
    except GraphQLError:
        return None
    operation = get_operation_ast(document, operation_name)
    return None if operation is None else operation.operation
