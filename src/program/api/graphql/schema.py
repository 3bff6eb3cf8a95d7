"""The schema: Query, Mutation and the extensions that guard and speed up every request."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from program.api.graphql import errors
from program.api.graphql.mutations import Mutation
from program.api.graphql.queries import Query

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2000
CACHE_SIZE = 256


class ProgramSchema(strawberry.Schema):
    def process_errors(
        self, errors_: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log and label errors (codes, masked internals) before they are sent."""
        errors.process(errors_)


def _per_request(prototype: SchemaExtension) -> Callable[[], SchemaExtension]:
    """A fresh extension per request that shares the prototype's validation rule classes.

    The limiters build a new rule class on every construction; the validation cache keys
    on the rule classes, so constructing them per request would make every lookup miss.
    """
    return lambda: copy.copy(prototype)


def build_schema() -> strawberry.Schema:
    extensions: list[Any] = [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=CACHE_SIZE),
        _per_request(QueryDepthLimiter(max_depth=MAX_DEPTH)),
        _per_request(MaxAliasesLimiter(max_alias_count=MAX_ALIASES)),
        lambda: ValidationCache(maxsize=CACHE_SIZE),
    ]
    return ProgramSchema(query=Query, mutation=Mutation, extensions=extensions)


schema = build_schema()
