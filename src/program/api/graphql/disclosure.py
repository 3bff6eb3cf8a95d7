"""What of a record is shown: small outcome cells suppressed; who may see names and
contacts is the access policy's question (``program.application.policy``)."""

from __future__ import annotations

from dataclasses import dataclass

from program.application.context import Actor
from program.application.policy import may_see_small_cells

MIN_CELL = 5  # outcome figures over fewer people than this are suppressed


@dataclass(frozen=True)
class Cell:
    value: int | float | None
    suppressed: bool


def cell(value: int | float | None, people: int, actor: Actor, *, zero_is_safe: bool = True) -> Cell:
    """A figure computed over ``people``; hidden from all but admins when too few."""
    if may_see_small_cells(actor) or people >= MIN_CELL or (zero_is_safe and people == 0):
        return Cell(value, False)
    return Cell(None, value is not None)
