"""The consent rule of a feed, as the builder applies it. When an event leaves, the same
rule is applied by PostgreSQL (``disclose.JUDGING``); ``tests/integration/
test_feed_verdicts.py`` holds the two to the same answers, so change them together.

An event about a person may reach a partner only while a consent of that person for a
purpose the partner serves is GIVEN, unexpired on the day, and names the partner among
its recipients; and only while the partner is active and scoped to the programme.
Notices of withdrawal and erasure (GDPR Art. 19) need no consent: they exist to stop
processing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from program.domain.consent import Consent
from program.domain.partner import PartnerStatus


@dataclass
class PartnerRow:
    """A partner as feeds need it (built from its events)."""

    partner_id: UUID
    name: str
    status: str
    purposes: list[str]
    programme_ids: set[UUID]
    event_types: set[str]
    head: int = 0

    @property
    def retired(self) -> bool:
        return self.status == PartnerStatus.RETIRED

    @property
    def active(self) -> bool:
        return self.status == PartnerStatus.ACTIVE


@dataclass
class ConsentRow:
    """A person's consent for one purpose as feeds need it."""

    consent_id: UUID
    participant_id: UUID
    purpose: str
    version: int
    state: str | None = None
    recipients: list[str] = field(default_factory=list)
    valid_until: date | None = None

    @classmethod
    def opened(cls, participant_id: UUID, purpose: str, version: int) -> ConsentRow:
        return cls(Consent.create_id(participant_id, purpose), participant_id, purpose, version)

    def covers(self, partner_id: UUID, on: date) -> bool:
        return (self.state == "GIVEN" and str(partner_id) in self.recipients
                and (self.valid_until is None or self.valid_until >= on))


@dataclass(frozen=True)
class Verdict:
    """Disclose (under a consent, or as a notice) or withhold, and why."""

    allowed: bool
    consent: ConsentRow | None = None
    reason: str | None = None


NOTICE = Verdict(True)


def authorise(partner: PartnerRow, consents: Iterable[ConsentRow], on: date) -> Verdict:
    """The first consent, in the order of the partner's purposes, that covers it."""
    by_purpose = {c.purpose: c for c in consents}
    for purpose in partner.purposes:
        consent = by_purpose.get(purpose)
        if consent is not None and consent.covers(partner.partner_id, on):
            return Verdict(True, consent)
    wanted = ", ".join(partner.purposes)
    return Verdict(False, reason=f"no GIVEN, unexpired consent naming this partner for: {wanted}")


def in_scope(partner: PartnerRow, programme_id: UUID | None) -> bool:
    return programme_id is not None and programme_id in partner.programme_ids
