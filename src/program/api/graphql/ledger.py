"""Query fields and the mutation of the transparency log and consent receipts.

The same texts as the HTTP routes (``program.api.ledger``), for auditors and admins;
receipts also for the managers of the person's programmes. Signing a checkpoint on
demand is for admins only.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import strawberry
from strawberry.types import Info

from program.api.graphql import cache
from program.api.graphql.context import GraphQLContext, context_of
from program.api.graphql.errors import BadInput
from program.api.graphql.mutations.base import _checked_key
from program.api.graphql.mutations.payloads import Payload
from program.api.graphql.types.ledger import (
    ConsentReceipt,
    LedgerCheckpoint,
    LedgerConsistencyProof,
    LedgerInclusionProof,
)
from program.application import policy
from program.application.policy import Act
from program.transparency.note import b64


def _reader(info: Info) -> GraphQLContext:
    ctx = context_of(info)
    policy.require_role_may(ctx.actor, Act.READ_LEDGER)
    return ctx


def _size(value: int | None, name: str = "size") -> int | None:
    if value is not None and value < 1:
        raise BadInput(f"{name} must be at least 1")
    return value


Size = Annotated[int | None, strawberry.argument(
    description="The size (number of events) of a kept checkpoint; default: the latest.")]
Position = Annotated[int, strawberry.argument(
    description="A global log position (1 is the first event).")]


@strawberry.type
class LedgerQueries:
    @strawberry.field(description="The latest signed checkpoint, or the kept one of that size.")
    async def ledger_checkpoint(self, info: Info, size: Size = None) -> LedgerCheckpoint:
        ctx = _reader(info)
        return LedgerCheckpoint.from_kept(await ctx.services.ledger.current(_size(size)))

    @strawberry.field(description=(
        "The verifier key of checkpoints and consent receipts (C2SP signed-note format: "
        "name+key id+base64 key), as GET /ledger/key serves it."))
    async def ledger_key(self, info: Info) -> str:
        return str(_reader(info).services.ledger.verifier)

    @strawberry.field(description=(
        "The inclusion proof of the event at a global position against the latest (or a "
        "kept) checkpoint."))
    async def ledger_inclusion_proof(self, info: Info, position: Position,
                                     size: Size = None) -> LedgerInclusionProof:
        ctx = _reader(info)
        proof, leaf = await ctx.services.ledger.inclusion_proof(_size(position, "position"),
                                                                _size(size))
        return LedgerInclusionProof(position=position, index=proof.index,
                                    checkpoint_size=_checkpoint_size(proof.checkpoint_note),
                                    leaf=b64(leaf), proof=proof.format())

    @strawberry.field(description="A consistency proof between two sizes of the log.")
    async def ledger_consistency_proof(
        self, info: Info,
        from_size: Annotated[int, strawberry.argument(description="The older, smaller size.")],
        to_size: Annotated[int, strawberry.argument(description="The newer, larger size.")],
    ) -> LedgerConsistencyProof:
        ctx = _reader(info)
        hashes = [b64(h) for h in await ctx.services.ledger.consistency_proof(
            _size(from_size, "fromSize"), _size(to_size, "toSize"))]
        return LedgerConsistencyProof(from_size=from_size, to_size=to_size, hashes=hashes,
                                      text="".join(f"{h}\n" for h in hashes))

    @strawberry.field(description=(
        "A signed receipt of one change of a person's consent for a purpose (by its "
        "position; default: the latest change). Signs a checkpoint first when none covers "
        "the change yet."))
    async def consent_receipt(
        self, info: Info,
        participant_id: Annotated[UUID, strawberry.argument(description="The person.")],
        purpose: Annotated[str, strawberry.argument(description="The purpose consented to.")],
        position: Annotated[int | None, strawberry.argument(
            description="The change's global log position; default: the latest change.")
        ] = None,
    ) -> ConsentReceipt:
        ctx = context_of(info)
        issued = await ctx.services.receipts.issue(ctx.actor, participant_id, purpose,
                                                   _size(position, "position"))
        return ConsentReceipt.from_issued(issued)


def _checkpoint_size(note: str) -> int:
    from program.transparency.checkpoint import Checkpoint

    return Checkpoint.parse(note.partition("\n\n")[0] + "\n").size


@strawberry.input(description="Signs a checkpoint of the log's head now.")
class IssueCheckpointInput:
    idempotency_key: str | None = strawberry.field(
        default=None, description="Accepted for symmetry: signing the head twice signs once.")


@strawberry.type
class CheckpointPayload(Payload):
    checkpoint: LedgerCheckpoint


@strawberry.type
class LedgerMutations:
    @strawberry.mutation(description=(
        "Sign a checkpoint of the log's head now (admins), unless the latest kept one "
        "covers it; position is the checkpoint's size."))
    async def issue_checkpoint(self, info: Info, input: IssueCheckpointInput) -> CheckpointPayload:
        ctx = context_of(info)
        policy.require(ctx.actor, Act.ISSUE_CHECKPOINT)
        _checked_key(input.idempotency_key)
        kept = await ctx.services.ledger.issue()
        cache.results.invalidate()
        return CheckpointPayload(position=kept.size, replayed=False,
                                 checkpoint=LedgerCheckpoint.from_kept(kept))
