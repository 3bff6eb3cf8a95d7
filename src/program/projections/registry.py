"""Every read model the program keeps, by name."""

from __future__ import annotations

from collections.abc import Iterable

from program.projections.base import Projection


class UnknownProjection(KeyError):
    """No read model has this name."""


def all_projections() -> list[Projection]:
    from program.projections.audit_trail.projection import AuditTrailProjection
    from program.projections.cohort_dashboard.projection import CohortDashboardProjection
    from program.projections.consent_history.projection import ConsentHistoryProjection
    from program.projections.facilitator_load.projection import FacilitatorLoadProjection
    from program.projections.participant_search.projection import ParticipantSearchProjection
    from program.projections.participant_state.projection import ParticipantStateProjection
    from program.projections.programme_overview.projection import ProgrammeOverviewProjection

    return [
        ProgrammeOverviewProjection(),
        CohortDashboardProjection(),
        FacilitatorLoadProjection(),
        ParticipantStateProjection(),
        ConsentHistoryProjection(),
        AuditTrailProjection(),
        ParticipantSearchProjection(),
    ]


def names() -> list[str]:
    return [p.name for p in all_projections()]


def select(wanted: Iterable[str] | None = None) -> list[Projection]:
    """The named projections (all when ``wanted`` is None or empty), in registry order."""
    everything = all_projections()
    if not wanted:
        return everything
    wanted = list(wanted)
    known = {p.name for p in everything}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise UnknownProjection(", ".join(unknown))
    return [p for p in everything if p.name in wanted]
