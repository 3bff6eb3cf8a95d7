"""Programme overview: each programme with its cohorts by status, places and attendance."""

from program.projections.programme_overview.projection import ProgrammeOverviewProjection
from program.projections.programme_overview.queries import get_programmes, list_programmes
from program.projections.programme_overview.views import ProgrammeView

__all__ = ["ProgrammeOverviewProjection", "ProgrammeView", "get_programmes", "list_programmes"]
