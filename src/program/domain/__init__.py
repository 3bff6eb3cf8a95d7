"""The domain layer: aggregates, their events, value types and domain errors.

Imports only the standard library and ``eventsourcing.domain``.
"""

from program.domain.errors import DomainError, InvalidInput, InvalidTransition
from program.domain.values import (
    DEFAULT_CONSENT_PURPOSE,
    AttendanceStatus,
    CohortFormat,
    CohortStatus,
    ConsentMethod,
    ConsentState,
    CredentialKind,
    EnrolmentOutcome,
    FacilitatorRole,
    FacilitatorStatus,
    LawfulBasis,
    ProgrammeStatus,
    Timepoint,
)
from program.domain.programme import Programme, ProgrammeNotActive
from program.domain.cohort_errors import (
    AlreadyEnrolled,
    AttendanceNotAllowed,
    CapacityBelowEnrolled,
    CohortEnded,
    CohortIsDropIn,
    CohortNotOpen,
    FacilitatorAlreadyAssigned,
    InvalidCapacity,
    NotEnoughFacilitators,
    NotEnrolled,
    SessionNotFound,
    CohortNotYetDue,
    SessionNotStarted,
    SessionCancelled,
    AttendanceNotRecorded,
    FacilitatorNotAssigned,
)
from program.domain.cohort import Cohort
from program.domain.facilitator import (
    Facilitator,
    FacilitatorAtCapacity,
    FacilitatorErased,
    FacilitatorNotEligible,
    FacilitatorRetired,
    TrainingRequired,
)
from program.domain.catalogue import ScoreOutOfRange, UnknownMeasure, UnknownPurpose
from program.domain.participant import (
    OutcomeAlreadyRecorded,
    OutcomeNotRecorded,
    Participant,
    ParticipantErased,
)
from program.domain.maintenance import (
    MAINTENANCE_NAMESPACE,
    EventAlreadySkipped,
    ProjectionMaintenance,
)
from program.domain.consent import (
    CONSENT_NAMESPACE,
    Consent,
    ConsentNotGiven,
    ConsentRequired,
    InvalidConsentChange,
)
from program.domain.partner import (
    PUBLIC_EVENT_TYPES,
    Partner,
    PartnerRetired,
    PartnerStatus,
    TooManyEndpoints,
    UnknownEndpoint,
)

__all__ = [
    # aggregates
    "Programme",
    "Cohort",
    "Facilitator",
    "Participant",
    "Consent",
    "Partner",
    "ProjectionMaintenance",
    # values
    "DEFAULT_CONSENT_PURPOSE",
    "CONSENT_NAMESPACE",
    "MAINTENANCE_NAMESPACE",
    "AttendanceStatus",
    "CohortFormat",
    "CohortStatus",
    "ConsentMethod",
    "ConsentState",
    "CredentialKind",
    "EnrolmentOutcome",
    "FacilitatorRole",
    "FacilitatorStatus",
    "LawfulBasis",
    "ProgrammeStatus",
    "Timepoint",
    "PartnerStatus",
    "PUBLIC_EVENT_TYPES",
    # errors
    "DomainError",
    "InvalidInput",
    "InvalidTransition",
    "ProgrammeNotActive",
    "AlreadyEnrolled",
    "AttendanceNotAllowed",
    "CapacityBelowEnrolled",
    "CohortEnded",
    "CohortIsDropIn",
    "CohortNotOpen",
    "FacilitatorAlreadyAssigned",
    "InvalidCapacity",
    "NotEnoughFacilitators",
    "NotEnrolled",
    "SessionNotFound",
    "FacilitatorAtCapacity",
    "FacilitatorErased",
    "FacilitatorNotEligible",
    "FacilitatorRetired",
    "OutcomeAlreadyRecorded",
    "ParticipantErased",
    "UnknownMeasure",
    "ConsentRequired",
    "InvalidConsentChange",
    "PartnerRetired",
    "TooManyEndpoints",
    "UnknownEndpoint",
    "EventAlreadySkipped",
    "CohortNotYetDue",
    "SessionNotStarted",
    "SessionCancelled",
    "AttendanceNotRecorded",
    "TrainingRequired",
    "ScoreOutOfRange",
    "UnknownPurpose",
    "OutcomeNotRecorded",
    "ConsentNotGiven",
    "FacilitatorNotAssigned",
]
