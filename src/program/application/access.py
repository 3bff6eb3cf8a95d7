"""Who may do what: role and scope checks shared by every command and query."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from program.application.context import Actor, Role


class Forbidden(Exception):
    """The caller's role or scope does not allow this."""

    code = "FORBIDDEN"


def require_role(actor: Actor, *roles: Role) -> None:
    if actor.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise Forbidden(f"role {actor.role.value} may not do this (needs one of: {allowed})")


def may_manage(actor: Actor, programme_id: UUID) -> bool:
    if actor.role is Role.ADMIN:
        return True
    return actor.role is Role.PROGRAMME_MANAGER and programme_id in actor.programme_ids


def require_programme(actor: Actor, programme_id: UUID) -> None:
    """Only an admin or a manager of this programme."""
    if not may_manage(actor, programme_id):
        raise Forbidden(f"not allowed to manage programme {programme_id}")


def facilitates(actor: Actor, facilitator_ids: Iterable[UUID]) -> bool:
    return (
        actor.role is Role.FACILITATOR
        and actor.facilitator_id is not None
        and actor.facilitator_id in set(facilitator_ids)
    )


def require_cohort_work(actor: Actor, programme_id: UUID, facilitator_ids: Iterable[UUID]) -> None:
    """Sessions and attendance: an admin, the programme's manager, or an assigned facilitator."""
    if may_manage(actor, programme_id) or facilitates(actor, facilitator_ids):
        return
    raise Forbidden("only the programme's managers or the cohort's facilitators may do this")


def require_person(actor: Actor, programme_ids: Iterable[UUID]) -> None:
    """Acting on a person: an admin, or a manager of a programme they are in (or of
    any programme while they are in none yet, as after registration)."""
    if actor.role is Role.ADMIN:
        return
    programmes = set(programme_ids)
    if actor.role is Role.PROGRAMME_MANAGER and (
        not programmes or programmes & set(actor.programme_ids)
    ):
        return
    raise Forbidden("not allowed to act for a person outside your programmes")
