"""Who may do what: the one access policy, asked by every command and every read.

Each role has one table, ``RULES[role]``, from an act to the rule that decides it for
one target (a programme, a cohort, a person or a facilitator). An act missing from a
role's table is never allowed. The questions below (``may_enrol``…) are what handlers
and resolvers ask; a question about a command that touches several aggregates checks
each of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from program.application.context import Actor, Role


class Forbidden(Exception):
    """The caller's role or scope does not allow this."""

    code = "FORBIDDEN"


class Act(StrEnum):
    CREATE_PROGRAMME = "create programmes"
    RUN_PROGRAMME = "run this programme and its cohorts"
    REGISTER_PERSON = "register people into this programme"
    ACT_FOR_PERSON = "act for this person"
    ERASE_PERSON = "erase people"
    REGISTER_FACILITATOR = "register facilitators"
    ACT_ON_FACILITATOR = "act on this facilitator"
    WORK_IN_COHORT = "schedule sessions and record attendance in this cohort"
    READ_PROGRAMME = "read this programme"
    READ_COHORT = "read this cohort"
    READ_PERSON = "read this person's consent state and history"
    READ_PERSONAL_DATA = "see this person's name and contact details"
    FIND_PEOPLE = "find people and see their display names"
    READ_REASONS = "read the free-text reasons recorded about this record"
    READ_FACILITATOR = "read this facilitator"
    READ_STAFF_NAME = "see facilitators' names"
    READ_STAFF_CONTACT = "see this facilitator's contact details"
    READ_SMALL_CELLS = "see outcome figures over fewer than five people"
    READ_AUDIT_TRAIL = "read the audit trail"
    READ_PROJECTIONS = "read the projections' status"
    READ_LEDGER = "read the transparency log's checkpoints and proofs"
    ISSUE_CHECKPOINT = "sign a checkpoint of the transparency log now"
    READ_CONSENT_RECEIPT = "get a signed receipt of this person's consent changes"
    EXPORT_SUBJECT_DATA = "export everything held about this person (subject access)"
    EXPORT_RECORDS = "export consent histories and the audit trail in bulk"
    MAINTAIN_PROJECTIONS = "skip or retry an event a read model cannot apply"
    MANAGE_PARTNERS = "manage partners and their webhook endpoints"
    READ_PARTNER = "read this partner, its webhook endpoints and attempts"
    REPLAY_WEBHOOK = "replay this partner's webhooks"
    READ_OWN_FEED = "read its own partner feed"
    READ_CATALOGUE = "read the public event catalogue"
    READ_DISCLOSURES = "read the disclosure log"


@dataclass(frozen=True)
class Target:
    """What a rule needs to know about the thing acted on."""

    programme_ids: frozenset[UUID] = frozenset()  # its programme(s); a person's: is or was in
    facilitator_ids: frozenset[UUID] = frozenset()  # a cohort's facilitators, or the facilitator
    partner_id: UUID | None = None  # a partner, its endpoints and its feed


NOTHING = Target()


def programme(programme_id: UUID) -> Target:
    return Target(programme_ids=frozenset({programme_id}))


def cohort(programme_id: UUID, facilitator_ids: Iterable[UUID] = ()) -> Target:
    return Target(frozenset({programme_id}), frozenset(facilitator_ids))


def person(programme_ids: Iterable[UUID]) -> Target:
    """A person: the programme registered into and those of every cohort joined."""
    return Target(programme_ids=frozenset(programme_ids))


def facilitator(facilitator_id: UUID, serves: Iterable[UUID] = ()) -> Target:
    """A facilitator and the programmes of the cohorts they serve now."""
    return Target(frozenset(serves), frozenset({facilitator_id}))


def partner(partner_id: UUID) -> Target:
    return Target(partner_id=partner_id)


Rule = Callable[[Actor, Target], bool]


def anyone(actor: Actor, target: Target) -> bool:
    return True


def in_scope(actor: Actor, target: Target) -> bool:
    """The target belongs to one of the actor's programmes."""
    return bool(target.programme_ids & actor.programme_ids)


def in_scope_or_unassigned(actor: Actor, target: Target) -> bool:
    """A facilitator serving one of the actor's programmes, or serving none yet."""
    return not target.programme_ids or in_scope(actor, target)


def own_partner(actor: Actor, target: Target) -> bool:
    """The actor is the partner acted on (a PARTNER token names its partner)."""
    return actor.partner_id is not None and actor.partner_id == str(target.partner_id)


def assigned(actor: Actor, target: Target) -> bool:
    """The actor is one of the target's facilitators (or is the facilitator)."""
    return actor.facilitator_id is not None and actor.facilitator_id in target.facilitator_ids


RULES: dict[Role, dict[Act, Rule]] = {
    Role.ADMIN: {act: anyone for act in Act},
    Role.PROGRAMME_MANAGER: {
        Act.RUN_PROGRAMME: in_scope,
        Act.REGISTER_PERSON: in_scope,
        Act.ACT_FOR_PERSON: in_scope,
        Act.REGISTER_FACILITATOR: anyone,
        Act.ACT_ON_FACILITATOR: in_scope_or_unassigned,
        Act.WORK_IN_COHORT: in_scope,
        Act.READ_PROGRAMME: in_scope,
        Act.READ_COHORT: in_scope,
        Act.READ_PERSON: in_scope,
        Act.READ_PERSONAL_DATA: in_scope,
        Act.FIND_PEOPLE: in_scope,
        Act.READ_REASONS: in_scope_or_unassigned,
        Act.READ_CONSENT_RECEIPT: in_scope,
        Act.READ_FACILITATOR: anyone,
        Act.READ_STAFF_NAME: anyone,
        Act.READ_STAFF_CONTACT: in_scope_or_unassigned,  # of those serving their programmes
        Act.READ_PROJECTIONS: anyone,
    },
    Role.FACILITATOR: {
        Act.WORK_IN_COHORT: assigned,
        Act.READ_COHORT: assigned,
        Act.FIND_PEOPLE: assigned,  # the people of their cohorts, by display name only
        Act.READ_FACILITATOR: assigned,  # themself, or a co-facilitator of their cohort
        Act.READ_STAFF_NAME: anyone,
        Act.READ_STAFF_CONTACT: assigned,  # their own only
    },
    Role.AUDITOR: {
        Act.READ_PROGRAMME: anyone,
        Act.READ_COHORT: anyone,
        Act.READ_PERSON: anyone,
        Act.READ_FACILITATOR: anyone,
        Act.READ_AUDIT_TRAIL: anyone,
        Act.READ_PROJECTIONS: anyone,
        Act.READ_LEDGER: anyone,
        Act.READ_CATALOGUE: anyone,
        Act.READ_DISCLOSURES: anyone,
        Act.READ_CONSENT_RECEIPT: anyone,
        Act.EXPORT_RECORDS: anyone,
    },
    Role.PARTNER: {  # its own feed, endpoints, attempts and the catalogue; nothing else
        Act.READ_OWN_FEED: anyone,
        Act.READ_PARTNER: own_partner,
        Act.REPLAY_WEBHOOK: own_partner,
        Act.READ_CATALOGUE: anyone,
    },
}


def allows(actor: Actor, act: Act, target: Target = NOTHING) -> bool:
    rule = RULES[actor.role].get(act)
    return rule is not None and rule(actor, target)


def role_may(actor: Actor, act: Act) -> bool:
    """Whether the actor's role may ever do this, to any target."""
    return act in RULES[actor.role]


def require(actor: Actor, act: Act, target: Target = NOTHING) -> None:
    if not allows(actor, act, target):
        raise Forbidden(f"{actor.role.value} may not {act.value}")


def require_role_may(actor: Actor, act: Act) -> None:
    """Checked before loading anything: a role that may never do this learns nothing more."""
    if not role_may(actor, act):
        raise Forbidden(f"{actor.role.value} may not {act.value}")


def readable_programmes(actor: Actor) -> frozenset[UUID] | None:
    """Programmes whose records the actor may list; None means all of them."""
    rule = RULES[actor.role].get(Act.READ_PROGRAMME)
    if rule is anyone:
        return None
    if rule is in_scope:
        return actor.programme_ids
    raise Forbidden(f"{actor.role.value} may not {Act.READ_PROGRAMME.value}")


def require_reads_every(actor: Actor, act: Act) -> None:
    """Listing every record of a kind needs a rule that allows any target."""
    if RULES[actor.role].get(act) is not anyone:
        raise Forbidden(f"{actor.role.value} may not list every record to {act.value}")


@dataclass(frozen=True)
class CohortReach:
    """Which cohorts a list may show: all, those of some programmes, or those a
    facilitator is assigned to."""

    programme_ids: frozenset[UUID] | None = None
    facilitator_id: UUID | None = None
    only_assigned: bool = False


@dataclass(frozen=True)
class PeopleReach:
    """Whom a people list may show: everyone, the people of some programmes, or (for a
    facilitator) the people now in the cohorts they are assigned to, by display name."""

    programme_ids: frozenset[UUID] | None = None
    facilitator_id: UUID | None = None
    display_names_only: bool = False


def findable_people(actor: Actor) -> PeopleReach:
    rule = RULES[actor.role].get(Act.FIND_PEOPLE)
    if rule is anyone:
        return PeopleReach()
    if rule is in_scope:
        return PeopleReach(programme_ids=actor.programme_ids)
    if rule is assigned:
        return PeopleReach(facilitator_id=actor.facilitator_id, display_names_only=True)
    raise Forbidden(f"{actor.role.value} may not {Act.FIND_PEOPLE.value}")


def may_read_reasons(actor: Actor, about: Target) -> bool:
    return allows(actor, Act.READ_REASONS, about)


def readable_cohorts(actor: Actor) -> CohortReach:
    rule = RULES[actor.role].get(Act.READ_COHORT)
    if rule is anyone:
        return CohortReach()
    if rule is in_scope:
        return CohortReach(programme_ids=actor.programme_ids)
    if rule is assigned:
        return CohortReach(facilitator_id=actor.facilitator_id, only_assigned=True)
    raise Forbidden(f"{actor.role.value} may not {Act.READ_COHORT.value}")


# -- the questions commands ask -----------------------------------------------------------


def may_enrol(actor: Actor, who: Target, into: Target) -> bool:
    """Enrol (or withdraw) this person into this cohort: both must be in the actor's reach."""
    return allows(actor, Act.RUN_PROGRAMME, into) and allows(actor, Act.ACT_FOR_PERSON, who)


def may_record_outcome(actor: Actor, who: Target, of: Target) -> bool:
    return may_enrol(actor, who, of)


def may_record_attendance(actor: Actor, in_cohort: Target, who: Target | None) -> bool:
    """``who`` is None for an enrolled cohort (its members were checked on enrolment); in
    a drop-in cohort the person must already belong to its programme, or the actor must
    be one who may act for them."""
    if not allows(actor, Act.WORK_IN_COHORT, in_cohort):
        return False
    return (
        who is None
        or bool(who.programme_ids & in_cohort.programme_ids)
        or allows(actor, Act.ACT_FOR_PERSON, who)
    )


def may_assign_facilitator(actor: Actor, to: Target, who: Target) -> bool:
    return allows(actor, Act.RUN_PROGRAMME, to) and allows(actor, Act.ACT_ON_FACILITATOR, who)


# -- the questions reads ask --------------------------------------------------------------


def may_see_personal_data(actor: Actor, who: Target) -> bool:
    return allows(actor, Act.READ_PERSONAL_DATA, who)


def may_see_staff_name(actor: Actor) -> bool:
    return role_may(actor, Act.READ_STAFF_NAME)


def may_see_staff_contact(actor: Actor, facilitator_id: UUID, serves: Iterable[UUID] = ()) -> bool:
    """``serves``: the programmes of the cohorts the facilitator is assigned to."""
    return allows(actor, Act.READ_STAFF_CONTACT, facilitator(facilitator_id, serves))


def visible_assignments(actor: Actor, facilitator_id: UUID,
                        programme_ids: Iterable[UUID | None]) -> set[UUID | None]:
    """Of a facilitator's assignments' programmes, those whose cohorts the actor may see
    in the record: all of them for the facilitator themself, else those of programmes
    the actor may read (a manager does not learn of other programmes' cohorts)."""
    wanted = set(programme_ids)
    if actor.facilitator_id is not None and actor.facilitator_id == facilitator_id:
        return wanted
    known = [p for p in wanted if p is not None]
    return set(visible_programmes(actor, known))


def may_see_small_cells(actor: Actor) -> bool:
    return role_may(actor, Act.READ_SMALL_CELLS)


def visible_programmes(actor: Actor, programme_ids: Iterable[UUID]) -> list[UUID]:
    """Of a record's programmes, those the actor may read about."""
    return [p for p in programme_ids if allows(actor, Act.READ_PROGRAMME, programme(p))]
