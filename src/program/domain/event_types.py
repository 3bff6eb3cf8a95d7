"""The event types the domain records, named as the store's topics and the audit trail
name them (``Aggregate.Event``): the one list the audit trail's filters are checked
against, so a new event is filterable the day it is declared.
"""

from __future__ import annotations

from inspect import isclass

from eventsourcing.domain import Aggregate

from program.domain.cohort import Cohort
from program.domain.consent import Consent
from program.domain.facilitator import Facilitator
from program.domain.maintenance import ProjectionMaintenance
from program.domain.participant import Participant
from program.domain.partner import Partner
from program.domain.programme import Programme

AGGREGATES: tuple[type[Aggregate], ...] = (
    Programme, Cohort, Facilitator, Participant, Consent, Partner, ProjectionMaintenance)


def recorded_by(aggregate: type[Aggregate]) -> list[type[Aggregate.Event]]:
    """The event classes an aggregate records, in the order it declares them.

    eventsourcing gives every aggregate a ``Created`` class; one created by an event of
    its own (``Cohort.Planned``) never records it, so it is left out there.
    """
    classes = [c for name, c in vars(aggregate).items()
               if name != "Event" and isclass(c) and issubclass(c, Aggregate.Event)]
    created = [c for c in classes if issubclass(c, Aggregate.Created)]
    if len(created) > 1:
        classes = [c for c in classes if c.__name__ != "Created"]
    return classes


EVENT_TYPES: tuple[str, ...] = tuple(
    event.__qualname__ for aggregate in AGGREGATES for event in recorded_by(aggregate))
