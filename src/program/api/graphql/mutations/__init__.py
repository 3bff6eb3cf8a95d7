"""The Mutation type: one mutation per command."""

from __future__ import annotations

import strawberry

from program.api.graphql.mutations.corrections import CorrectionMutations
from program.api.graphql.ledger import LedgerMutations
from program.api.graphql.subject import SubjectAccessMutations
from program.api.graphql.mutations.people import FacilitatorMutations, ParticipantMutations
from program.api.graphql.mutations.programmes import CohortMutations, ProgrammeMutations
from program.api.graphql.mutations.sessions import SessionMutations


@strawberry.type
class Mutation(
    ProgrammeMutations,
    CohortMutations,
    FacilitatorMutations,
    ParticipantMutations,
    SessionMutations,
    CorrectionMutations,
    LedgerMutations,
    SubjectAccessMutations,
):
    """Every command of the programme; each returns the ids it touched and the new position."""


__all__ = ["Mutation"]
