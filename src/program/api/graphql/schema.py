"""The schema: Query, Mutation and the extensions that guard and speed up every request."""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any

import strawberry
from graphql import DocumentNode, specified_rules
from graphql.error import GraphQLError
from graphql.type import GraphQLResolveInfoHelpers
from strawberry.extensions import (
    MaxAliasesLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext, validate_document
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from program.api.graphql import errors
from program.api.graphql.arguments import describe_inputs
from program.api.graphql.compiled import gather_values
from program.api.graphql.feed_queries import FeedQuery
from program.api.graphql.mutations.partners import PartnerMutations
from program.api.graphql.subscriptions import Subscription, guard_over_http
from program.api.graphql.mutations import Mutation
from program.api.graphql.queries import Query
from program.api.graphql.validation import check_arguments_of

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2000
CACHE_SIZE = 256

# Strawberry's shared parser cache (one per ``maxsize``): whoever parses a text first,
# here or in the endpoint, parses it for everyone.
parse_document = ParserCache(maxsize=CACHE_SIZE).cached_parse_document

# The graphql-core rules plus the depth and alias limits, built once: the limiter
# extensions would build a new rule class and a new tuple of rules for every request.
RULES = (
    *specified_rules,
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
)


class ProgramExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context without graphql-core's reference cycle: its
    resolve-info helpers are bound methods of the context itself, so every operation
    Strawberry executes (mutations, subscriptions, queries no plan answers) was left, with
    all it held, for the cycle collector. Here they reach the context weakly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = GraphQLResolveInfoHelpers(
            gather=gather_values, track=partial(_track, weakref.ref(self)))


def _track(context: weakref.ref[ProgramExecutionContext], values: Sequence[Any]) -> None:
    """Settle the awaitables among ``values`` in the background (while the operation
    runs, its context is alive: the executor's own frames hold it)."""
    live = context()
    if live is not None:
        live.track_async_work(values)


class ProgramSchema(strawberry.Schema):
    def process_errors(
        self, errors_: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log and label errors (codes, masked internals) before they are sent."""
        errors.process(errors_)


class Validated:
    """Validation results by document, least recently used out.

    The parser cache hands out the same document object for the same text, so the
    object itself is the key; Strawberry's ``ValidationCache`` hashes the whole syntax
    tree (frozen dataclasses, hashed afresh every time) on every request instead.
    """

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[int, tuple[DocumentNode, list[GraphQLError]]] = OrderedDict()

    def errors(self, schema: strawberry.Schema, document: DocumentNode) -> list[GraphQLError]:
        key = id(document)
        hit = self._items.get(key)
        if hit is not None and hit[0] is document:  # held, so its id is not reused
            self._items.move_to_end(key)
            return hit[1]
        found = validate_document(schema._schema, document, RULES)
        self._items[key] = (document, found)
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return found


validated = Validated()


class Guard(SchemaExtension):
    """The token, depth and alias limits, with parsing and validation cached.

    One extension for what ``MaxTokensLimiter``, ``ParserCache``, ``QueryDepthLimiter``,
    ``MaxAliasesLimiter`` and ``ValidationCache`` do together, with the same rules and
    messages: each extension costs hooks on every request.
    """

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = MAX_TOKENS
        context.validation_rules = RULES
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.graphql_document = parse_document(context.query, **context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        context.pre_execution_errors = validated.errors(context.schema, context.graphql_document)
        yield


def build_schema() -> strawberry.Schema:
    # Every argument of every query and mutation is checked against the input limits
    # before its resolver runs, including fields added later.
    check_arguments_of(Query, Mutation, FeedQuery, PartnerMutations)
    describe_inputs(Mutation, PartnerMutations)
    built = ProgramSchema(
        query=merge_types("Query", (Query, FeedQuery)),
        mutation=merge_types("Mutation", (Mutation, PartnerMutations)),
        subscription=Subscription,
        extensions=[Guard],
        execution_context_class=ProgramExecutionContext,
    )
    guard_over_http(built._schema)
    return built


schema = build_schema()
