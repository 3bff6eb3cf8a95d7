"""Participant state: each person's current consent per purpose and their cohorts."""

from program.projections.participant_state.projection import ParticipantStateProjection
from program.projections.participant_state.queries import get_participants
from program.projections.participant_state.views import (
    ConsentStateView,
    ParticipantCohortView,
    ParticipantView,
)

__all__ = [
    "ConsentStateView", "ParticipantCohortView", "ParticipantStateProjection",
    "ParticipantView", "get_participants"
]
