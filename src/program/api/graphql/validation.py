"""The boundary's input check: every argument of every query and mutation, once, before
its resolver runs (so before any command, authorisation or read).

Every text (list items and ``idempotencyKey`` included), list, date, date-time and
whole number found anywhere in the arguments, nested inputs too, is held to the limits
in ``program.domain.limits`` (the same table the domain's value checks read), and a
refusal is ``BAD_USER_INPUT`` naming the field as the client spelled it:
``input.recipients[3]``, ``filter.since``. The walk follows the values, not a list of
fields, so a field added to the schema is covered without a change here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any
from uuid import UUID

from strawberry.extensions import FieldExtension
from strawberry.types import Info
from strawberry.types.field import StrawberryField
from strawberry.utils.str_converters import to_camel_case

from program.domain import limits
from program.domain.errors import InvalidInput
from program.domain.values import check_date, check_datetime, check_int, check_text

_SKIPPED = (bool, Enum, UUID, float, Decimal)  # Enum first: a StrEnum member is a str


# The raw JSON variables are walked once before GraphQL coerces them: coercing a list of
# 250,000 items (about 1 MiB) alone holds the event loop for 0.3 s.
MAX_NESTING = 16
MAX_VALUES = 10_000  # in all; the largest input holds a few hundred
_CAMEL_HUMP = re.compile(r"(?<!^)(?=[A-Z])")


def check_variables(variables: dict[str, Any] | None) -> None:
    """Refuse a list or object in the request's variables larger than any input may be,
    nested deeper than any input is, or more values in all than any request needs,
    before GraphQL reads them item by item."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(variables or {}, ())]
    seen = 0
    while stack:
        value, path = stack.pop()
        if not isinstance(value, (list, dict)):
            continue
        if len(path) > MAX_NESTING:
            raise InvalidInput(_spelled(path), "is nested too deeply")
        if isinstance(value, list):
            name = next((_snake(p) for p in reversed(path) if isinstance(p, str)), "")
            most = limits.list_limit(name)
            items: Iterable[tuple[str | int, Any]] = enumerate(value)
        else:
            most, items = limits.DEFAULT_LIST, value.items()
        if len(value) > most:
            raise InvalidInput(_spelled(path) or "variables", f"must hold at most {most} items")
        seen += len(value)
        if seen > MAX_VALUES:
            raise InvalidInput("variables", f"must hold at most {MAX_VALUES} values in all")
        stack.extend((item, (*path, key)) for key, item in items)


def _snake(name: str) -> str:
    return _CAMEL_HUMP.sub("_", name).lower()


def _spelled(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def check_value(value: Any, name: str, path: str) -> None:
    """Refuse ``value`` (the field ``name``, found at ``path``) if it breaks a limit."""
    if value is None or isinstance(value, _SKIPPED):
        return
    if isinstance(value, str):
        check_text(value, path, limits.text_limit(name))
    elif isinstance(value, datetime):
        check_datetime(value, path)
    elif isinstance(value, date):
        check_date(value, path)
    elif isinstance(value, int):
        bounds = limits.int_range(name)
        if bounds is not None:
            check_int(value, path, bounds[1])
    elif isinstance(value, list):
        most = limits.list_limit(name)
        if len(value) > most:
            raise InvalidInput(path, f"must hold at most {most} items")
        for i, item in enumerate(value):
            check_value(item, name, f"{path}[{i}]")
    elif isinstance(value, dict):  # a JSON-like scalar
        for key, item in value.items():
            check_value(item, str(key), f"{path}.{key}")
    else:
        for python_name, graphql_name in _input_fields(type(value)):
            check_value(getattr(value, python_name), python_name, f"{path}.{graphql_name}")


@cache
def _input_fields(cls: type) -> tuple[tuple[str, str], ...]:
    """(Python name, GraphQL name) of each field of a Strawberry input type; none otherwise."""
    definition = getattr(cls, "__strawberry_definition__", None)
    if definition is None or not definition.is_input:
        return ()
    return tuple((f.python_name, _graphql_name(f)) for f in definition.fields)


def _graphql_name(item: Any) -> str:
    return item.graphql_name or to_camel_case(item.python_name)


class CheckedArguments(FieldExtension):
    """Checks a root field's arguments before its resolver (and anything it calls) runs."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def apply(self, field: StrawberryField) -> None:
        self.names = {a.python_name: _graphql_name(a) for a in field.arguments}

    def check(self, kwargs: dict[str, Any]) -> None:
        for python_name, value in kwargs.items():
            check_value(value, python_name, self.names.get(python_name, python_name))

    def resolve(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        self.check(kwargs)
        return next_(source, info, **kwargs)

    async def resolve_async(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        self.check(kwargs)
        return await next_(source, info, **kwargs)


def check_arguments_of(*root_types: type) -> None:
    """Give every field of the root types (Query, Mutation) a ``CheckedArguments``, once."""
    for root in root_types:
        fields: Iterable[StrawberryField] = root.__strawberry_definition__.fields  # type: ignore[attr-defined]
        for field in fields:
            if not any(isinstance(e, CheckedArguments) for e in field.extensions):
                field.extensions.append(CheckedArguments())


__all__ = ["CheckedArguments", "check_arguments_of", "check_value", "check_variables"]
