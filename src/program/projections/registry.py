"""Every read model the program keeps, by name."""

from __future__ import annotations

from collections.abc import Iterable

from program.projections.base import Projection


class UnknownProjection(KeyError):
    """No read model has this name."""


def all_projections() -> list[Projection]:
    from program.projections.readmodels.audit_trail import AuditTrailProjection
    from program.projections.readmodels.cohort_dashboard import CohortDashboardProjection
    from program.projections.readmodels.consent_history import ConsentHistoryProjection
    from program.projections.readmodels.facilitator_load import FacilitatorLoadProjection
    from program.projections.readmodels.participant_search import ParticipantSearchProjection
    from program.projections.readmodels.participant_state import ParticipantStateProjection
    from program.projections.readmodels.programme_overview import ProgrammeOverviewProjection

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
