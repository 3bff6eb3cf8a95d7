"""GraphQL objects from read-model views, by the view's type.

Each type module registers how its own objects are built from its views, so a resolver
in one type module can answer objects of another (a cohort's participants, a person's
cohorts) without importing that module: the two would import each other. Their
annotations name such types lazily (``strawberry.lazy``); ``lookups`` asks the access
policy and returns the view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from strawberry.types import Info

V = TypeVar("V")

_BUILDERS: dict[type, Callable[..., object]] = {}


def register(view_type: type[V], build: Callable[[V, Info], object]) -> None:
    _BUILDERS[view_type] = build


def wrap(view: object | None, info: Info) -> object | None:
    """The GraphQL object for a view (``None`` for none)."""
    if view is None:
        return None
    for cls in type(view).__mro__:
        if cls in _BUILDERS:
            return _BUILDERS[cls](view, info)
    raise LookupError(f"no GraphQL type registered for {type(view).__name__}")
