"""Arguments several fields share, with the words GraphiQL shows for them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

import strawberry
from strawberry.types.field import StrawberryField

ConsistentWith = Annotated[int | None, strawberry.argument(
    description="Wait (up to 5 s, else NOT_CAUGHT_UP) until the read models include this position."
)]
First = Annotated[int, strawberry.argument(
    description="How many to answer, 0 to 100 (more is BAD_USER_INPUT).")]
After = Annotated[str | None, strawberry.argument(
    description="Answer what follows this cursor (a page's endCursor); none: from the start.")]
INPUT = "What the mutation needs: see the input type's fields."


def describe_inputs(*root_types: type) -> None:
    """Give every mutation's ``input`` argument that has no words of its own ``INPUT``."""
    for root in root_types:
        fields: Iterable[StrawberryField] = root.__strawberry_definition__.fields  # type: ignore[attr-defined]
        for field in fields:
            for argument in field.arguments:
                if argument.python_name == "input" and not argument.description:
                    argument.description = INPUT
