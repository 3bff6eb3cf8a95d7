"""GraphQL at ``/graphql`` (Strawberry on Litestar), GraphiQL in the browser."""

from __future__ import annotations

from typing import Any


def graphql_route_handlers() -> list[Any]:
    """The Litestar handlers ``create_app`` mounts."""
    from strawberry.litestar import make_graphql_controller

    from program.api.graphql.context import context_getter
    from program.api.graphql.schema import schema

    controller = make_graphql_controller(
        schema,
        path="/graphql",
        context_getter=context_getter,
        graphql_ide="graphiql",
    )
    return [controller]
