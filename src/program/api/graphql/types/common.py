"""Relay-style connections and the small value types several dashboards share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import strawberry

from program.api.graphql.enums import CohortStatus
from program.projections.paging import Page

T = TypeVar("T")
V = TypeVar("V")
# A resolver's result: the value when it is at hand, else something to await for it.
MaybeAwaitable = T | Awaitable[T]


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field(description="The nodes of this page, without their cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def connection(page: Page[V], node: Callable[[V], T]) -> Connection[T]:
    """A connection from a read-model page; each edge's cursor resumes after its node."""
    edges = [Edge(cursor=c, node=node(v)) for c, v in zip(page.cursors, page.items, strict=True)]
    return Connection(edges=edges, page_info=PageInfo(has_next_page=page.has_next,
                                                      end_cursor=page.end_cursor))


@strawberry.type(description="Attendance marks: present over recorded.")
class Attendance:
    present: int
    recorded: int
    rate: float | None = strawberry.field(description="present / recorded; null before any mark")


@strawberry.type(description="How many cohorts are in one status.")
class StatusCount:
    status: CohortStatus
    count: int
