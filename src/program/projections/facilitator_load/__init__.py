"""Facilitator load: each facilitator with their cohorts, upcoming sessions and credentials."""

from program.projections.facilitator_load.projection import FacilitatorLoadProjection
from program.projections.facilitator_load.queries import get_facilitators, list_facilitators
from program.projections.facilitator_load.views import (
    CredentialView,
    FacilitatorCohortView,
    FacilitatorView,
)

__all__ = [
    "CredentialView", "FacilitatorCohortView", "FacilitatorLoadProjection", "FacilitatorView",
    "get_facilitators", "list_facilitators"
]
