"""The questions partner commands and feed reads ask the access policy (``policy.RULES``:
ADMIN manages partners; a PARTNER reads only its own feed, endpoints, attempts and the
catalogue, and may replay its own endpoints; AUDITOR and ADMIN read the disclosure log).
"""

from __future__ import annotations

from uuid import UUID

from program.application import policy
from program.application.context import Actor
from program.application.policy import Act, Forbidden


def require_manage_partners(actor: Actor) -> None:
    policy.require(actor, Act.MANAGE_PARTNERS)


def require_partner_read(actor: Actor, partner_id: UUID) -> None:
    """A partner's settings, endpoints and attempts."""
    policy.require(actor, Act.READ_PARTNER, policy.partner(partner_id))


def require_replay(actor: Actor, partner_id: UUID) -> None:
    policy.require(actor, Act.REPLAY_WEBHOOK, policy.partner(partner_id))


def require_feed(actor: Actor) -> UUID:
    """The partner whose feed the caller reads: its own, named by its token."""
    policy.require(actor, Act.READ_OWN_FEED)
    try:
        return UUID(actor.partner_id or "")
    except ValueError:
        raise Forbidden(f"{actor.role.value} token names no partner feed") from None


def require_catalogue(actor: Actor) -> None:
    policy.require(actor, Act.READ_CATALOGUE)


def require_disclosure_log(actor: Actor) -> None:
    policy.require(actor, Act.READ_DISCLOSURES)
