"""Consent receipts: what a person agreed to (or refused, withdrew…), signed by the log.

A receipt holds the fields of ISO/IEC TS 27560 (consent record) and of the Kantara
Consent Receipt v1.1, about one consent change, plus that change's place in the
transparency log: its position, its chain hash (the Merkle leaf) and a
``c2sp.org/tlog-proof@v1`` inclusion proof against a signed checkpoint.

The file is a JSON object ``{"receipt": {…}, "jws": "<header>..<signature>"}``: the
JWS (RFC 7515) is EdDSA (Ed25519) with a *detached, unencoded* payload (RFC 7515
appendix F, RFC 7797 ``"b64": false``), the payload being the RFC 8785 canonical JSON
of ``receipt``: the signature is over those very bytes. So the receipt stays readable,
any JSON layout of it verifies alike, and changing any field of it breaks the signature.

The key is the log's own Ed25519 key: an auditor needs one public key, the one
``GET /ledger/key`` publishes, for checkpoints, proofs and receipts alike. The two
uses cannot be confused: a JWS signing input (``base64url.base64url``) has no newline,
while every note the log signs is at least three lines (canonical JSON writes a newline
inside a string as ``\n``, never as the character itself).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid5

import jwt
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from jwt.api_jws import PyJWS

from program.transparency.checkpoint import InclusionProof
from program.transparency.note import NoteError, Signer, Verifier, b64, b64decode

KANTARA_VERSION = "KI-CR-v1.1.0"
SCHEMA_VERSION = "program.consent-receipt/1"
MEDIA_TYPE = "consent-receipt+jws"
MAX_RECEIPT_BYTES = 1 << 20
# Never change: receipt ids derive from it (uuid5 of NAMESPACE_URL and
# "urn:program:consent-receipt").
RECEIPT_NAMESPACE = UUID("12d05e33-edc8-5284-80a3-c40fadcb208b")
_JWS = PyJWS(algorithms=["EdDSA"])


class ReceiptError(ValueError):
    """A receipt is malformed, altered, or not signed by the expected key."""


@dataclass(frozen=True)
class Controller:
    """Who is responsible for the data, and what they say about it (from the settings)."""

    name: str
    contact: str
    jurisdiction: str
    policy_url: str | None
    retention: str
    withdrawal: str
    data_categories: tuple[str, ...]
    sensitive_categories: tuple[str, ...] = ("health",)


@dataclass(frozen=True)
class ConsentChangeFacts:
    """One consent change as the log recorded it, with the notice it stood under."""

    participant_id: UUID
    consent_id: UUID
    version: int
    position: int
    event_id: str | None
    purpose: str
    state: str
    at: datetime
    method: str | None
    language: str | None
    notice_id: str | None
    notice_version: str | None
    notice_hash: str | None
    lawful_basis: str | None
    recipients: tuple[str, ...] = field(default_factory=tuple)
    valid_until: date | None = None


def receipt_id(consent_id: UUID, version: int) -> UUID:
    """The same change always has the same receipt id, however often it is issued."""
    return uuid5(RECEIPT_NAMESPACE, f"{consent_id}:{version}")


def build(facts: ConsentChangeFacts, controller: Controller, issued_at: datetime,
          proof: InclusionProof, leaf: bytes) -> dict[str, Any]:
    """The receipt's fields (JSON values only)."""
    notice_hash = ({"alg": "sha-256", "value": facts.notice_hash}
                   if facts.notice_hash else None)
    recipients = list(facts.recipients)
    return {
        "version": KANTARA_VERSION,
        "schemaVersion": SCHEMA_VERSION,
        "consentReceiptID": str(receipt_id(facts.consent_id, facts.version)),
        "iat": int(issued_at.timestamp()),
        "issuedAt": issued_at.isoformat(),
        "jurisdiction": controller.jurisdiction,
        "language": facts.language,
        "piiPrincipalId": str(facts.participant_id),
        "piiControllers": [{"piiController": controller.name, "contact": controller.contact,
                            "piiControllerUrl": controller.policy_url}],
        "policyUrl": controller.policy_url,
        "notice": {"id": facts.notice_id, "version": facts.notice_version,
                   "language": facts.language, "hash": notice_hash},
        "services": [{"service": facts.purpose, "purposes": [{
            "purpose": facts.purpose, "purposeCategory": [facts.purpose],
            "consentType": "EXPLICIT", "piiCategory": list(controller.data_categories),
            "primaryPurpose": True, "termination": controller.retention,
            "thirdPartyDisclosure": bool(recipients), "thirdPartyName": recipients,
        }]}],
        "sensitive": bool(controller.sensitive_categories),
        "spiCat": list(controller.sensitive_categories),
        "purposes": [facts.purpose],
        "lawfulBasis": facts.lawful_basis,
        "dataCategories": list(controller.data_categories),
        "recipients": recipients,
        "retention": controller.retention,
        "withdrawal": controller.withdrawal,
        "state": facts.state,
        "stateAt": facts.at.isoformat(),
        "consentTimestamp": int(facts.at.timestamp()),
        "collectionMethod": facts.method,
        "validUntil": facts.valid_until.isoformat() if facts.valid_until else None,
        "event": {"consentId": str(facts.consent_id), "version": facts.version,
                  "position": facts.position, "eventId": facts.event_id, "leaf": b64(leaf)},
        "tlogProof": proof.format(),
    }


def key_id(verifier: Verifier) -> str:
    """The JWS ``kid``: the signed-note key's name and id, as in its verifier key."""
    return f"{verifier.name}+{verifier.key_id.hex()}"


def sign(receipt: dict[str, Any], signer: Signer) -> dict[str, Any]:
    """The receipt file's object: the receipt and its detached JWS."""
    token = _JWS.encode(
        rfc8785.dumps(receipt), signer.private_key, algorithm="EdDSA",
        headers={"typ": MEDIA_TYPE, "kid": key_id(signer.verifier)}, is_payload_detached=True,
    )
    return {"receipt": receipt, "jws": token}


def to_text(document: dict[str, Any]) -> str:
    """The receipt file as people read it (any JSON layout verifies alike)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def verify(text: str | bytes, verifier: Verifier, origin: str | None = None) -> dict[str, Any]:
    """The receipt, once its signature and its inclusion proof both hold; raises otherwise."""
    document = _parse(text)
    receipt, token = document["receipt"], document["jws"]
    header = _header(token)
    if header.get("alg") != "EdDSA" or header.get("kid") != key_id(verifier):
        raise ReceiptError("the receipt is not signed with EdDSA by this key")
    if header.get("b64") is not False or header.get("crit") != ["b64"] or set(header) - {
            "alg", "b64", "crit", "kid", "typ"}:
        raise ReceiptError("the receipt's JWS header is not the one receipts use "
                           '(alg, kid, typ, "b64": false, "crit": ["b64"])')
    try:
        _JWS.decode_complete(token, Ed25519PublicKey.from_public_bytes(verifier.public_key),
                             algorithms=["EdDSA"], detached_payload=rfc8785.dumps(receipt))
    except (jwt.InvalidTokenError, rfc8785.CanonicalizationError, ValueError) as exc:
        raise ReceiptError(f"the receipt's signature does not verify ({type(exc).__name__})") from None
    _check_proof(receipt, verifier, origin)
    return receipt


def _parse(text: str | bytes) -> dict[str, Any]:
    if isinstance(text, bytes):
        if len(text) > MAX_RECEIPT_BYTES:
            raise ReceiptError("the receipt file is too large")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ReceiptError("the receipt file is not UTF-8") from None
    try:
        document = json.loads(text, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError) as exc:
        raise ReceiptError(f"the receipt file is not JSON: {exc}") from None
    if not isinstance(document, dict) or set(document) != {"receipt", "jws"}:
        raise ReceiptError('a receipt file is {"receipt": {…}, "jws": "…"} and nothing else')
    if not isinstance(document["receipt"], dict) or not isinstance(document["jws"], str):
        raise ReceiptError("the receipt must be an object and its jws a string")
    return document


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("a key appears twice in one object")
    return dict(pairs)


def _header(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3 or parts[1] != "":
        raise ReceiptError("the jws must be a detached compact JWS: <header>..<signature>")
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except ValueError:
        raise ReceiptError("the JWS header is not base64url JSON") from None
    if not isinstance(header, dict):
        raise ReceiptError("the JWS header is not a JSON object")
    return header


def _check_proof(receipt: dict[str, Any], verifier: Verifier, origin: str | None) -> None:
    """The signed receipt names an event (position, leaf) the signed log holds."""
    event = receipt.get("event")
    if not isinstance(event, dict) or not isinstance(receipt.get("tlogProof"), str):
        raise ReceiptError("the receipt names no event and carries no proof")
    position, leaf_text = event.get("position"), event.get("leaf")
    if type(position) is not int or position < 1 or not isinstance(leaf_text, str):
        raise ReceiptError("the receipt's event has no valid position or leaf")
    try:
        leaf = b64decode(leaf_text, "the event's leaf")
        proof = InclusionProof.parse(receipt["tlogProof"])
        if proof.index != position - 1:
            raise ReceiptError(f"the proof is for entry {proof.index}, not position {position}")
        if proof.extra is not None and proof.extra != leaf:
            raise ReceiptError("the proof's extra data is not the receipt's leaf")
        proof.verify(verifier, leaf, origin)
    except NoteError as exc:
        raise ReceiptError(f"the receipt's inclusion proof does not verify: {exc}") from None
