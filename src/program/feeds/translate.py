"""From internal domain events to public facts: which catalogue type, about whom, in
which cohort, with what small payload. Partners never see internal events; this is
the one place that decides what of an event may leave, field by field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from program.domain.cohort import Cohort
from program.domain.consent import Consent
from program.domain.participant import Participant
from program.domain.partner import FEED_TYPE_PREFIX, Partner

T = FEED_TYPE_PREFIX


@dataclass(frozen=True)
class Fact:
    """One public event before it is addressed to a partner."""

    type: str
    cohort_id: UUID | None = None
    participant_id: UUID | None = None
    data: dict[str, Any] = field(default_factory=dict)


def _cohort_fact(kind: str, extra: dict[str, Any] | None = None, *, person: bool = True) -> Any:
    def translate(e: Any) -> Fact:
        data = dict(extra or {})
        for name, key in (("session_id", "sessionId"), ("status", "status"),
                          ("position", "position"), ("started_on", "startedOn")):
            if hasattr(e, name):
                value = getattr(e, name)
                data[key] = value if isinstance(value, (int, float)) else str(value)
        return Fact(T + kind, e.originator_id, e.participant_id if person else None, data)
    return translate


def _outcome(e: Any) -> Fact:
    return Fact(T + "outcome.recorded.v1", e.cohort_id, e.originator_id,
                {"measure": e.measure, "timepoint": str(e.timepoint), "score": float(e.score)})


# Topic -> how its event becomes a fact (events not listed never leave).
FACTS: dict[str, Any] = {
    get_topic(Cohort.ParticipantEnrolled): _cohort_fact("participant.enrolled.v1",
                                                        {"fromWaitlist": False}),
    get_topic(Cohort.ParticipantPromoted): _cohort_fact("participant.enrolled.v1",
                                                        {"fromWaitlist": True}),
    get_topic(Cohort.ParticipantWaitlisted): _cohort_fact("participant.waitlisted.v1"),
    get_topic(Cohort.ParticipantWithdrawn): _cohort_fact("participant.left.v1"),
    get_topic(Cohort.AttendanceRecorded): _cohort_fact("attendance.recorded.v1"),
    get_topic(Cohort.Started): _cohort_fact("cohort.started.v1", person=False),
    get_topic(Cohort.Completed): _cohort_fact("cohort.completed.v1", person=False),
    get_topic(Cohort.Cancelled): _cohort_fact("cohort.cancelled.v1", person=False),
    get_topic(Participant.OutcomeRecorded): _outcome,
}
COHORT_PLANNED = get_topic(Cohort.Planned)
ERASED = get_topic(Participant.Erased)
CONSENT_OPENED = get_topic(Consent.Opened)
CONSENT_GIVEN = get_topic(Consent.Given)
CONSENT_ENDED = {get_topic(Consent.Withdrawn): "WITHDRAWN", get_topic(Consent.Revoked): "REVOKED",
                 get_topic(Consent.Expired): "EXPIRED"}
CONSENT_REFUSED = get_topic(Consent.Refused)
PARTNER_TOPIC_PREFIX = get_topic(Partner) + "."

INTERESTING = frozenset(
    {*FACTS, COHORT_PLANNED, ERASED, CONSENT_OPENED, CONSENT_GIVEN, CONSENT_REFUSED,
     *CONSENT_ENDED}
)


def interesting(topic: str) -> bool:
    return topic in INTERESTING or topic.startswith(PARTNER_TOPIC_PREFIX)


def partner_event(topic: str) -> str | None:
    """``Registered``, ``Updated``, ``WebhookEndpointAdded``… for a Partner event."""
    return topic[len(PARTNER_TOPIC_PREFIX):] if topic.startswith(PARTNER_TOPIC_PREFIX) else None
