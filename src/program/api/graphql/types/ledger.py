"""The transparency log and consent receipts, in the standard texts the HTTP routes serve."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from program.api.graphql.enums import ConsentState, to_enum
from program.application.receipts import IssuedReceipt
from program.store.checkpoints import KeptCheckpoint
from program.transparency.checkpoint import Checkpoint
from program.transparency.note import b64


@strawberry.type(description="A signed checkpoint of the log (C2SP tlog-checkpoint in a signed note).")
class LedgerCheckpoint:
    origin: str
    size: int = strawberry.field(description="The number of events it covers.")
    root_hash: str = strawberry.field(description="The Merkle tree's root (RFC 9162), base64.")
    issued_at: datetime
    note: str = strawberry.field(description=(
        "The signed note itself, as GET /ledger/checkpoint serves it: check it with "
        "`program audit verify-checkpoint` and the key of ledgerKey."))

    @classmethod
    def from_kept(cls, kept: KeptCheckpoint) -> LedgerCheckpoint:
        origin = Checkpoint.parse(kept.note.partition("\n\n")[0] + "\n").origin
        return cls(origin=origin, size=kept.size, root_hash=b64(kept.root),
                   issued_at=kept.issued_at, note=kept.note)


@strawberry.type(description="That one event is in the log under a signed checkpoint.")
class LedgerInclusionProof:
    position: int
    index: int = strawberry.field(description="The Merkle tree's entry index: position - 1.")
    checkpoint_size: int
    leaf: str = strawberry.field(description=(
        "The event's chain hash (base64): the leaf data, the same as the audit trail's hash."))
    proof: str = strawberry.field(description=(
        "A c2sp.org/tlog-proof@v1 file, as GET /ledger/proof/{position} serves it: check it "
        "with `program audit verify-proof`."))


@strawberry.type(description="That the log of one size only grew into the log of another.")
class LedgerConsistencyProof:
    from_size: int
    to_size: int
    hashes: list[str] = strawberry.field(description="RFC 9162 consistency proof, base64 each.")
    text: str = strawberry.field(description=(
        "One base64 hash a line, as GET /ledger/consistency serves it (the --proof file of "
        "`program audit verify-consistency`)."))


@strawberry.type(description=(
    "A consent receipt (ISO/IEC TS 27560, Kantara Consent Receipt v1.1) of one consent "
    "change, signed as a JWS (EdDSA over RFC 8785 canonical JSON) with the log's key and "
    "carrying the tlog proof of the consent event."
))
class ConsentReceipt:
    receipt_id: str
    position: int = strawberry.field(description="The consent change's place in the log.")
    state: ConsentState | None
    jws: str = strawberry.field(description="Detached compact JWS over the canonical receipt.")
    receipt: JSON = strawberry.field(description="The receipt's fields.")
    document: str = strawberry.field(description=(
        "The receipt file (JSON: receipt and jws) to hand to the person; check it with "
        "`program audit verify-receipt FILE --key KEY`."))

    @classmethod
    def from_issued(cls, r: IssuedReceipt) -> ConsentReceipt:
        return cls(receipt_id=r.receipt_id, position=r.position,
                   state=to_enum(ConsentState, r.state),  # type: ignore[arg-type]
                   jws=r.document["jws"], receipt=r.document["receipt"], document=r.text)
