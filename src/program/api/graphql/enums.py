"""GraphQL enums: the API's own classes, with members taken from the ubiquitous language.

Each closed set the API sends or receives is an enum here. Those the domain defines are
mirrored (their own class, so the domain never carries Strawberry state) with the
domain's members, so the two lists cannot drift apart; every member needs its words
here, and a member without them stops the import. The audit trail's event types are
built from the events the domain declares (``program.domain.event_types``), the public
feed's from its catalogue.
"""

from __future__ import annotations

import re
from enum import Enum

import strawberry

from program.application.context import Role as _Role
from program.domain import values
from program.domain.event_types import EVENT_TYPES
from program.domain.partner import FEED_TYPE_PREFIX, PUBLIC_EVENT_TYPES
from program.domain.partner import PartnerStatus as _PartnerStatus
from program.feeds.catalogue import schema_of

# Every enum of the schema by its GraphQL name: the valid names an error can list.
REGISTRY: dict[str, type[Enum]] = {}


def _enum(name: str, description: str, members: dict[str, tuple[str, str]]) -> type[Enum]:
    """A GraphQL enum of ``members`` (GraphQL name: (value, description))."""
    built = Enum(name, {key: strawberry.enum_value(value, description=words)  # type: ignore[misc]
                        for key, (value, words) in members.items()})
    built.__module__ = __name__
    REGISTRY[name] = built
    return strawberry.enum(built, description=description)  # type: ignore[no-any-return]


def _mirror(source: type[Enum], description: str, words: dict[str, str]) -> type[Enum]:
    """The domain's ``source`` as a GraphQL enum: its members, with ``words`` for each."""
    names = [m.name for m in source]
    if sorted(words) != sorted(names):
        raise TypeError(f"{source.__name__}: describe exactly {', '.join(names)} "
                        f"(given: {', '.join(words)})")
    return _enum(source.__name__, description,
                 {m.name: (m.value, words[m.name]) for m in source})


ProgrammeStatus = _mirror(values.ProgrammeStatus, "Where a programme is in its life.", {
    "DRAFT": "Created; its catalogue may change, and it takes no cohorts until activated.",
    "ACTIVE": "Running: cohorts are planned and people enrolled.",
    "CLOSED": "Closed for good: nothing new is planned in it.",
})
CohortStatus = _mirror(values.CohortStatus, "Where a cohort is in its life.", {
    "PLANNED": "Planned; enrolment is not open yet.",
    "OPEN": "Open for enrolment; not started.",
    "RUNNING": "Started: sessions are held and attendance recorded.",
    "COMPLETED": "Ran to its end.",
    "CANCELLED": "Cancelled before it completed.",
})
CohortFormat = _mirror(values.CohortFormat, "How people join a cohort.", {
    "ENROLLED": "Fixed membership: a capacity, and a first-come waitlist when full.",
    "DROP_IN": "Anyone of the programme may attend a session without enrolling.",
})
FacilitatorRole = _mirror(values.FacilitatorRole, "A facilitator's part in a cohort.", {
    "LEAD": "Leads the cohort's sessions.",
    "CO": "Co-facilitates beside the lead.",
})
FacilitatorStatus = _mirror(values.FacilitatorStatus, "Where a volunteer facilitator stands.", {
    "APPLIED": "Registered; not in training yet.",
    "IN_TRAINING": "Training to facilitate.",
    "ACTIVE": "May be assigned to cohorts (while their credentials are valid).",
    "SUSPENDED": "Paused; activating them again reinstates them.",
    "RETIRED": "Left for good.",
})
CredentialKind = _mirror(values.CredentialKind, "A credential a facilitator holds until it expires.", {
    "PEER_SUPPORT_TRAINING": "Peer-support training: needed to be activated and for a cohort "
                             "to start.",
    "SAFEGUARDING": "Safeguarding training.",
    "BACKGROUND_CHECK": "A background (criminal record) check.",
})
AttendanceStatus = _mirror(values.AttendanceStatus, "A person's mark at one session.", {
    "PRESENT": "Attended.",
    "ABSENT_EXCUSED": "Absent, with notice or a reason.",
    "ABSENT_UNEXCUSED": "Absent without notice.",
})
Timepoint = _mirror(values.Timepoint, "When an outcome measure was taken.", {
    "BASELINE": "At the start of the cohort.",
    "FOLLOW_UP": "After the cohort, to compare with the baseline.",
})
ConsentState = _mirror(values.ConsentState, "Where a consent stands (W3C DPV consent states).", {
    "GIVEN": "Given, and in force until its validUntil (if any).",
    "REFUSED": "Asked for under a notice, and declined.",
    "WITHDRAWN": "Taken back by the person.",
    "REVOKED": "Ended by someone other than the person.",
    "EXPIRED": "Given, but past its validUntil.",
})
LawfulBasis = _mirror(values.LawfulBasis, (
    "The GDPR basis for processing under a consent. Receipts and exports spell it as DPV "
    "does (explicit-consent, legitimate-interest…)."), {
    "CONSENT": "The person's consent (Art. 6(1)(a)); DPV consent.",
    "EXPLICIT_CONSENT": "The person's explicit consent, as special-category (health) data "
                        "needs (Art. 9(2)(a)); DPV explicit-consent.",
    "LEGITIMATE_INTEREST": "The controller's legitimate interests (Art. 6(1)(f)); DPV "
                           "legitimate-interest.",
    "PUBLIC_TASK": "A task in the public interest (Art. 6(1)(e)); DPV public-task.",
    "VITAL_INTEREST": "The vital interests of the person or another (Art. 6(1)(d)); DPV "
                      "vital-interest.",
    "LEGAL_OBLIGATION": "A legal obligation of the controller (Art. 6(1)(c)); DPV "
                        "legal-obligation.",
    "CONTRACT": "A contract with the person (Art. 6(1)(b)); DPV contract.",
})
ConsentMethod = _mirror(values.ConsentMethod, (
    "How a consent change was collected. A change recorded, before this was a closed set, "
    "with a method outside it reads as null."), {
    "PAPER_FORM": "A paper form the person filled in or signed.",
    "WEB_FORM": "An online form.",
    "EMAIL": "An email from the person.",
    "PHONE": "A phone call, noted by whoever took it.",
    "IN_PERSON": "Said face to face, noted by whoever heard it.",
})
PartnerStatus = _mirror(_PartnerStatus, "Whether a partner's feed carries events.", {
    "ACTIVE": "Its feed carries what the person's consent allows.",
    "SUSPENDED": "Nothing is disclosed until it is reinstated.",
    "RETIRED": "The partnership ended for good.",
})
Role = _mirror(_Role, "What a bearer token's holder may do (README \"Who may do what\").", {
    "ADMIN": "Everything.",
    "PROGRAMME_MANAGER": "Runs the programmes named in its token, and acts for their people.",
    "FACILITATOR": "Schedules sessions and records attendance in the cohorts it is "
                   "assigned to.",
    "AUDITOR": "Reads dashboards, consent histories, the audit trail and the transparency "
               "log; changes nothing and sees no names.",
    "PARTNER": "Reads its own partner feed.",
})
EnrolmentStatus = _enum("EnrolmentStatus", (
    "A person's place in a cohort as the read model keeps it (WITHDRAWN is history)."), {
    "ENROLLED": ("ENROLLED", "Has a place in the cohort."),
    "WAITLISTED": ("WAITLISTED", "Waits for a place, in order of arrival."),
    "WITHDRAWN": ("WITHDRAWN", "Left the cohort or its waitlist."),
})


def _screaming(*words: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", "".join(words)).upper()


AuditEventType = _enum("AuditEventType", (
    "An event the domain records, as the audit trail's filter takes it: "
    "COHORT_PARTICIPANT_ENROLLED is aggregateType Cohort, eventType ParticipantEnrolled."), {
    _screaming(*t.split(".")): (t, f"{t}: aggregateType {t.split('.')[0]}, eventType "
                                   f"{t.split('.')[1]}.")
    for t in EVENT_TYPES
})


def _public_words(event_type: str) -> str:
    return f"{event_type}: {schema_of(event_type)['description']}"


PublicEventType = _enum("PublicEventType", (
    "A type of the public event catalogue a partner may subscribe to; its value is the "
    "CloudEvents type (PARTICIPANT_ENROLLED_V1 is org.program.participant.enrolled.v1)."), {
    t.removeprefix(FEED_TYPE_PREFIX).replace(".", "_").upper(): (t, _public_words(t))
    for t in PUBLIC_EVENT_TYPES
})
WebhookEndpointState = _enum("WebhookEndpointState", "Where a webhook endpoint stands.", {
    "ENABLED": ("ENABLED", "Delivering."),
    "FAILING": ("FAILING", "Delivering, but the last attempt failed; retried on schedule."),
    "DISABLED": ("DISABLED", "Not delivering (disabled by hand, or after the last retry); "
                             "keeps its place."),
    "REMOVED": ("REMOVED", "Removed, its secrets shredded."),
})
WebhookOutcome = _enum("WebhookOutcome", "What came of one webhook request.", {
    "DELIVERED": ("delivered", "Acknowledged with a 2xx status."),
    "FAILED": ("failed", "Refused, timed out or unreachable; retried on schedule."),
    "GONE": ("gone", "Answered 410 Gone: the endpoint is disabled."),
    "THROTTLED": ("throttled", "Answered 429 Too Many Requests; retried after it."),
})
DisclosureChannel = _enum("DisclosureChannel", "How an event reached (or did not reach) a "
                          "partner.", {
    "FEED": ("feed", "Judged when the partner's feed was built (withheld there)."),
    "WEBHOOK": ("webhook", "A webhook request."),
    "SSE": ("sse", "The server-sent events stream."),
    "PULL": ("pull", "A pull of the feed over HTTP."),
    "GRAPHQL": ("graphql", "The partnerEvents subscription."),
})
DisclosureOutcome = _enum("DisclosureOutcome", "Whether an event was disclosed to a partner.", {
    "DISCLOSED": ("DISCLOSED", "Disclosed, under the consent named."),
    "WITHHELD": ("WITHHELD", "Withheld: no consent covered it (see reason)."),
})


def to_enum(enum_cls: type[Enum], value: object) -> Enum | None:
    """A read-model value as the API enum (unknown values become None rather than failing)."""
    if value is None:
        return None
    try:
        return enum_cls(str(value))
    except ValueError:
        return None


def valid_names(enum_name: str) -> list[str] | None:
    """The GraphQL names of the schema's enum ``enum_name``, in order; None if not one."""
    found = REGISTRY.get(enum_name)
    return None if found is None else [m.name for m in found]
