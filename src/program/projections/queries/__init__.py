"""Read-model queries the API codes against.

Each takes an asyncpg pool or connection first and returns frozen dataclasses from
``program.projections.views``. Lists are keyset-paginated: ``first`` items after the
opaque cursor ``after`` (an ``end_cursor`` from the previous page), as ``Page``.
A cursor or page size that is not valid raises ``InvalidQuery`` (code BAD_USER_INPUT).
"""

from program.projections.queries.audit import audit_trail, projection_status
from program.projections.queries.cohorts import (
    cohort_ids_for_facilitator,
    cohort_members,
    get_cohorts,
    list_cohorts,
)
from program.projections.queries.paging import InvalidQuery
from program.projections.queries.people import (
    consent_history,
    get_facilitators,
    get_participants,
    list_facilitators,
)
from program.projections.queries.programmes import get_programmes, list_programmes
from program.projections.views import *  # noqa: F403
from program.projections.views import __all__ as _views

__all__ = [
    "InvalidQuery", "audit_trail", "cohort_ids_for_facilitator", "cohort_members",
    "consent_history",
    "get_cohorts", "get_facilitators", "get_participants", "get_programmes", "list_cohorts",
    "list_facilitators", "list_programmes", "projection_status", *_views,
]
