"""Who sees what of a record: personal data, staff contacts and small outcome cells.

These are rules about the caller, not about the programme, so they live in the API.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from program.application.context import Actor, Role

MIN_CELL = 5  # outcome figures over fewer people than this are suppressed


def may_see_personal_data(actor: Actor, programme_ids: Iterable[UUID]) -> bool:
    """Names and contacts of a participant: admins, and managers of a programme the
    person is or was in."""
    if actor.role is Role.ADMIN:
        return True
    return actor.role is Role.PROGRAMME_MANAGER and bool(set(programme_ids) & actor.programme_ids)


def may_see_staff_name(actor: Actor) -> bool:
    """Facilitators' names: everyone who works with them; never auditors."""
    return actor.role in (Role.ADMIN, Role.PROGRAMME_MANAGER, Role.FACILITATOR)


def may_see_staff_contact(actor: Actor, facilitator_id: UUID) -> bool:
    return actor.role in (Role.ADMIN, Role.PROGRAMME_MANAGER) or (
        actor.role is Role.FACILITATOR and actor.facilitator_id == facilitator_id
    )


@dataclass(frozen=True)
class Cell:
    value: int | float | None
    suppressed: bool


def cell(value: int | float | None, people: int, actor: Actor, *, zero_is_safe: bool = True) -> Cell:
    """A figure computed over ``people``; hidden from all but admins when too few."""
    if actor.role is Role.ADMIN or people >= MIN_CELL or (zero_is_safe and people == 0):
        return Cell(value, False)
    return Cell(None, value is not None)
