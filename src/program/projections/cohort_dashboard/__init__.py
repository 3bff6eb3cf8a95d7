"""Cohort dashboard: each cohort with its places, staff, sessions, attendance and outcomes."""

from program.projections.cohort_dashboard.projection import CohortDashboardProjection
from program.projections.cohort_dashboard.queries import (
    cohort_ids_for_facilitator,
    Dashboards,
    cohort_members,
    get_cohorts,
    get_dashboards,
    list_cohorts,
)
from program.projections.cohort_dashboard.views import (
    AbsenceView,
    CohortFacilitatorView,
    CohortView,
    OutcomeView,
    SessionView,
)

__all__ = [
    "AbsenceView", "CohortDashboardProjection", "CohortFacilitatorView", "CohortView",
    "Dashboards", "OutcomeView", "SessionView", "cohort_ids_for_facilitator", "cohort_members",
    "get_cohorts", "get_dashboards", "list_cohorts"
]
