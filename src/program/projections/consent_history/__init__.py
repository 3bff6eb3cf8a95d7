"""Consent history: every consent change per person, and the state as of any moment."""

from program.projections.consent_history.projection import ConsentHistoryProjection
from program.projections.consent_history.queries import consent_history
from program.projections.consent_history.views import ConsentChangeView, ConsentHistoryView

__all__ = [
    "ConsentChangeView", "ConsentHistoryProjection", "ConsentHistoryView", "consent_history"
]
