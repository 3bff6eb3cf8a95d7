"""Errors of the Cohort aggregate (kept in their own module only for size;
import them from ``program.domain.cohort`` or ``program.domain``)."""

from __future__ import annotations

from program.domain.errors import DomainError, InvalidInput


class CohortNotOpen(DomainError):
    code = "COHORT_NOT_OPEN"
    template = "Cohort {cohort_id} is {status}; enrolment needs it OPEN or RUNNING."


class CohortIsDropIn(DomainError):
    code = "COHORT_IS_DROP_IN"
    template = "Cohort {cohort_id} is a drop-in group: cannot {action}."


class CohortEnded(DomainError):
    code = "COHORT_ENDED"
    template = "Cohort {cohort_id} is {status}: cannot {action}."


class AlreadyEnrolled(DomainError):
    code = "ALREADY_ENROLLED"
    template = "Participant {participant_id} is already {standing} in cohort {cohort_id}."


class NotEnrolled(DomainError):
    code = "NOT_ENROLLED"
    template = "Participant {participant_id} is not enrolled in cohort {cohort_id}."


class InvalidCapacity(InvalidInput):
    code = "INVALID_CAPACITY"

    def __init__(self, capacity: object, problem: str) -> None:
        super().__init__("capacity", f"{capacity!r}: {problem}")


class CapacityBelowEnrolled(DomainError):
    code = "CAPACITY_BELOW_ENROLLED"
    template = "Capacity {capacity} is below the {enrolled} people already enrolled."


class NotEnoughFacilitators(DomainError):
    code = "NOT_ENOUGH_FACILITATORS"
    template = (
        "Cohort {cohort_id} needs {required} active facilitators with valid "
        "credentials on the start date; {eligible} of those assigned qualify."
    )


class FacilitatorAlreadyAssigned(DomainError):
    code = "FACILITATOR_ALREADY_ASSIGNED"
    template = "Facilitator {facilitator_id} is already assigned to cohort {cohort_id}."


class SessionNotFound(DomainError):
    code = "SESSION_NOT_FOUND"
    template = "Cohort {cohort_id} has no session {session_id}."


class AttendanceNotAllowed(DomainError):
    code = "ATTENDANCE_NOT_ALLOWED"
    template = "Cohort {cohort_id} is {status}; attendance is recorded only while RUNNING."


class CohortNotYetDue(DomainError):
    code = "BEFORE_START_DATE"
    template = "Cohort {cohort_id} starts on {starts_on}: it cannot {action} before then ({on})."


class SessionNotStarted(DomainError):
    code = "SESSION_NOT_STARTED"
    template = "Session {session_id} starts at {starts_at}: attendance is recorded once it has started."


class SessionCancelled(DomainError):
    code = "SESSION_CANCELLED"
    template = "Session {session_id} of cohort {cohort_id} was cancelled: cannot {action}."


class AttendanceNotRecorded(DomainError):
    code = "ATTENDANCE_NOT_RECORDED"
    template = "No attendance of {participant_id} at session {session_id} to correct."


class FacilitatorNotAssigned(DomainError):
    code = "FACILITATOR_NOT_ASSIGNED"
    template = "Facilitator {facilitator_id} is not assigned to cohort {cohort_id}."
