"""Who may ask what over GraphQL: role gates checked in every resolver before any work.

The application checks scope again for commands; these gates make sure read-only roles
(AUDITOR, PARTNER) never reach a command and that every query field is guarded.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from program.application.access import Forbidden, may_manage, require_role
from program.application.context import Actor, Role

ADMIN = (Role.ADMIN,)
MANAGERS = (Role.ADMIN, Role.PROGRAMME_MANAGER)
CREW = (Role.ADMIN, Role.PROGRAMME_MANAGER, Role.FACILITATOR)
DASHBOARD_READERS = (Role.ADMIN, Role.PROGRAMME_MANAGER, Role.AUDITOR)
OVERSIGHT = (Role.ADMIN, Role.AUDITOR)

__all__ = [
    "ADMIN", "CREW", "DASHBOARD_READERS", "MANAGERS", "OVERSIGHT",
    "Forbidden", "require_role", "programme_scope", "require_programme_read",
    "require_cohort_read", "require_person_read",
]


def programme_scope(actor: Actor) -> frozenset[UUID] | None:
    """Programmes the actor may read; None means all of them."""
    if actor.role in (Role.ADMIN, Role.AUDITOR):
        return None
    if actor.role is Role.PROGRAMME_MANAGER:
        return actor.programme_ids
    raise Forbidden(f"role {actor.role.value} may not read programmes")


def require_programme_read(actor: Actor, programme_id: UUID) -> None:
    scope = programme_scope(actor)
    if scope is not None and programme_id not in scope:
        raise Forbidden(f"not allowed to read programme {programme_id}")


def require_cohort_read(actor: Actor, programme_id: UUID, facilitator_ids: Iterable[UUID]) -> None:
    """Dashboards of a cohort: admins, auditors, its programme's managers, its facilitators."""
    if actor.role in (Role.ADMIN, Role.AUDITOR) or may_manage(actor, programme_id):
        return
    if actor.role is Role.FACILITATOR and actor.facilitator_id in set(facilitator_ids):
        return
    raise Forbidden("not allowed to read this cohort")


def require_person_read(actor: Actor, programme_ids: Iterable[UUID]) -> None:
    """A person's consent state and history: admins, auditors, and managers of a
    programme the person is or was in (or of any programme, while the person is in none,
    so that consent can be recorded before enrolment)."""
    if actor.role in (Role.ADMIN, Role.AUDITOR):
        return
    if actor.role is Role.PROGRAMME_MANAGER:
        programmes = set(programme_ids)
        if not programmes or programmes & actor.programme_ids:
            return
    raise Forbidden("not allowed to read this person")
