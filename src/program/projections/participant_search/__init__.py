"""Participant search: a keyed blind index of people's names and emails, and who is where."""

from program.projections.participant_search.projection import ParticipantSearchProjection, index_key
from program.projections.participant_search.queries import Found, cursor_of, find_participants
from program.projections.participant_search.tokens import matches, query_tokens

__all__ = [
    "Found", "ParticipantSearchProjection", "cursor_of", "find_participants", "index_key",
    "matches", "query_tokens",
]
