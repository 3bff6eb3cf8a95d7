"""Who may do what with partner feeds: the questions partner commands and feed reads ask.

ADMIN manages partners; a PARTNER reads only its own feed, attempts and catalogue (and
may replay its own endpoints); AUDITOR and ADMIN read the disclosure log.
"""

from __future__ import annotations

from uuid import UUID

from program.application.access import Forbidden
from program.application.context import Actor, Role

CATALOGUE_READERS = (Role.ADMIN, Role.AUDITOR, Role.PARTNER)
DISCLOSURE_READERS = (Role.ADMIN, Role.AUDITOR)


def own_partner(actor: Actor, partner_id: UUID) -> bool:
    return actor.role is Role.PARTNER and actor.partner_id == str(partner_id)


def require_manage_partners(actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        raise Forbidden(f"{actor.role.value} may not manage partners")


def require_partner_read(actor: Actor, partner_id: UUID) -> None:
    """A partner's settings, endpoints and attempts: ADMIN, or that partner."""
    if actor.role is Role.ADMIN or own_partner(actor, partner_id):
        return
    raise Forbidden(f"{actor.role.value} may not read this partner")


def require_replay(actor: Actor, partner_id: UUID) -> None:
    require_partner_read(actor, partner_id)


def require_feed(actor: Actor) -> UUID:
    """The partner whose feed the caller reads: only a PARTNER, only its own."""
    if actor.role is not Role.PARTNER or not actor.partner_id:
        raise Forbidden(f"{actor.role.value} has no partner feed")
    try:
        return UUID(actor.partner_id)
    except ValueError:
        raise Forbidden("the token names no valid partner") from None


def require_catalogue(actor: Actor) -> None:
    if actor.role not in CATALOGUE_READERS:
        raise Forbidden(f"{actor.role.value} may not read the event catalogue")


def require_disclosure_log(actor: Actor) -> None:
    if actor.role not in DISCLOSURE_READERS:
        raise Forbidden(f"{actor.role.value} may not read the disclosure log")
