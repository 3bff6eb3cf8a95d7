"""Consent receipts: one signed receipt for any consent change, built from the log itself.

A receipt is built from the stored event and the consent as it stood at that version
(not from a read model, so it never lags), carries the inclusion proof of that event
against a signed checkpoint (one is signed on demand when none covers it yet), and is
signed with the log's key (``program.transparency.receipt``). Receipts are not stored:
the same change always gets the same receipt id, and issuing one again only renews the
issue time and, maybe, the checkpoint it is proven against.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from program.application import policy
from program.application.context import Actor, Clock, SystemClock
from program.application.policy import Act
from program.domain.consent import Consent
from program.domain.participant import Participant
from program.store.checkpoints import CheckpointLog
from program.store.repository import Repository
from program.transparency import receipt as receipts
from program.transparency.receipt import ConsentChangeFacts, Controller

CHANGES = {"Given": "GIVEN", "Refused": "REFUSED", "Withdrawn": "WITHDRAWN",
           "Revoked": "REVOKED", "Expired": "EXPIRED"}

# What the program holds about a person, for the receipt's data categories.
DATA_CATEGORIES = (
    "identity: name",
    "contact details: email, phone",
    "referral source",
    "participation: registration, enrolments, waitlist, attendance",
    "health: outcome scores (special category)",
    "consent records",
)


class ReceiptNotFound(Exception):
    """No consent change at that position of that person's consent."""

    code = "NOT_FOUND"


@dataclass(frozen=True)
class IssuedReceipt:
    receipt_id: str
    position: int
    state: str
    document: dict[str, Any]  # {"receipt": …, "jws": …}

    @property
    def text(self) -> str:
        return receipts.to_text(self.document)


class ConsentReceipts:
    """Issues signed consent receipts to those the access policy lets read them."""

    def __init__(self, repository: Repository, ledger: CheckpointLog, controller: Controller,
                 clock: Clock | None = None) -> None:
        self.repository = repository
        self.ledger = ledger
        self.controller = controller
        self.clock: Clock = clock or SystemClock()

    async def issue(self, actor: Actor, participant_id: UUID, purpose: str,
                    position: int | None = None) -> IssuedReceipt:
        """The receipt of one change (``position``) of a person's consent for a purpose,
        or of its latest change."""
        policy.require_role_may(actor, Act.READ_CONSENT_RECEIPT)
        person = await self.repository.get(participant_id, Participant)
        self.repository.release(person)
        policy.require(actor, Act.READ_CONSENT_RECEIPT, policy.person(person.programme_ids))
        return await self.for_change(participant_id, purpose, position)

    async def all_of(self, participant_id: UUID, purposes: list[str]) -> list[IssuedReceipt]:
        """Every change of every consent of one person (the caller is already authorised)."""
        out = []
        for purpose in purposes:
            for position, version in await self.repository.store.positions_of(
                    Consent.create_id(participant_id, purpose)):
                if version > 1:  # version 1 opens the stream; every later one is a change
                    out.append(await self.for_change(participant_id, purpose, position))
        return sorted(out, key=lambda r: r.position)

    async def for_change(self, participant_id: UUID, purpose: str,
                         position: int | None) -> IssuedReceipt:
        consent_id = Consent.create_id(participant_id, purpose)
        if position is None:
            rows = await self.repository.store.positions_of(consent_id)
            if len(rows) < 2:
                raise ReceiptNotFound(f"no consent to {purpose!r} is recorded for this person")
            position = rows[-1][0]
        row = await self.repository.store.read_position(position)
        kind = row.topic.rpartition(".")[2] if row is not None else None
        if row is None or row.originator_id != consent_id or kind not in CHANGES:
            raise ReceiptNotFound(f"position {position} is not a change of this person's "
                                  f"consent to {purpose!r}")
        event = self.repository.to_domain_event(row)
        consent = await self.repository.get(consent_id, Consent, version=row.originator_version)
        facts = _facts(participant_id, consent, event, CHANGES[kind], row.position,
                       row.metadata.get("event_id"))
        covering = await self.ledger.latest()
        if covering is None or covering.size < position:
            covering = await self.ledger.issue()
        proof, leaf = await self.ledger.inclusion_proof(position, covering.size)
        now: datetime = self.clock.now()
        claims = receipts.build(facts, self.controller, now, proof, leaf)
        return IssuedReceipt(claims["consentReceiptID"], position, facts.state,
                             receipts.sign(claims, self.ledger.signer))


def _facts(participant_id: UUID, consent: Consent, event: Any, state: str, position: int,
           event_id: str | None) -> ConsentChangeFacts:
    """A change that carries no notice of its own (withdrawn, revoked, expired) is shown
    with the notice, basis, recipients and validity it ended."""
    return ConsentChangeFacts(
        participant_id=participant_id, consent_id=consent.id, version=consent.version,
        position=position, event_id=event_id, purpose=consent.purpose, state=state,
        at=event.at, method=getattr(event, "method", None),
        language=getattr(event, "language", None) or consent.language,
        notice_id=consent.notice_id, notice_version=consent.notice_version,
        notice_hash=consent.notice_hash,
        lawful_basis=consent.lawful_basis, recipients=tuple(consent.recipients),
        valid_until=consent.valid_until,
    )
