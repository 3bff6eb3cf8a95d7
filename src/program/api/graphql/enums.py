"""GraphQL enums: the API's own classes, with members taken from the ubiquitous language.

Each mirrors the domain's enum (its own class, so the domain never carries Strawberry
state) but takes its members from it, so the two lists cannot drift apart.
"""

from __future__ import annotations

from enum import Enum

import strawberry

from program.application.context import Role as _Role
from program.domain import values


def _mirror(source: type[Enum]) -> type[Enum]:
    mirrored = Enum(source.__name__, {m.name: m.value for m in source})  # type: ignore[misc]
    mirrored.__module__ = __name__
    return strawberry.enum(mirrored)  # type: ignore[no-any-return]


ProgrammeStatus = _mirror(values.ProgrammeStatus)
CohortStatus = _mirror(values.CohortStatus)
CohortFormat = _mirror(values.CohortFormat)
FacilitatorRole = _mirror(values.FacilitatorRole)
FacilitatorStatus = _mirror(values.FacilitatorStatus)
CredentialKind = _mirror(values.CredentialKind)
AttendanceStatus = _mirror(values.AttendanceStatus)
Timepoint = _mirror(values.Timepoint)
ConsentState = _mirror(values.ConsentState)
Role = _mirror(_Role)


@strawberry.enum
class EnrolmentStatus(Enum):
    """A person's place in a cohort as the read model keeps it (WITHDRAWN is history)."""

    ENROLLED = "ENROLLED"
    WAITLISTED = "WAITLISTED"
    WITHDRAWN = "WITHDRAWN"


def to_enum(enum_cls: type[Enum], value: object) -> Enum | None:
    """A read-model value as the API enum (unknown values become None rather than failing)."""
    if value is None:
        return None
    try:
        return enum_cls(str(value))
    except ValueError:
        return None
