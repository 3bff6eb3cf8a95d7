"""Cohort: one run of a group (PLANNED -> OPEN -> RUNNING -> COMPLETED, or
CANCELLED), with enrolment, a FIFO waitlist, facilitators, sessions and
attendance.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from itertools import islice
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from program.domain import cohort_errors as err
from program.domain.errors import InvalidInput, InvalidTransition
from program.domain.values import (
    AttendanceStatus,
    CohortFormat,
    CohortStatus,
    EnrolmentOutcome,
    FacilitatorRole,
    optional_text,
    parse_enum,
    require_date,
    require_int,
    require_text,
    require_utc,
    require_uuid,
)

ENDED = (CohortStatus.COMPLETED, CohortStatus.CANCELLED)


def _require_capacity(capacity: object) -> int:
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise err.InvalidCapacity(capacity, "must be a whole number of at least 1")
    return require_int(capacity, "capacity")  # the input limit: BAD_USER_INPUT past it


def _plan_capacity(format: CohortFormat, capacity: object) -> int | None:
    """Optional (unlimited) for drop-ins, where it is only informational."""
    if capacity is None and format == CohortFormat.DROP_IN:
        return None
    if capacity is None:
        raise err.InvalidCapacity(capacity, "an ENROLLED cohort needs a capacity")
    return _require_capacity(capacity)


def _mark_key(session_id: UUID, participant_id: UUID) -> str:
    return f"{session_id}:{participant_id}"


class Cohort(Aggregate):
    """Decides enrolment, waitlisting, promotion, starting and attendance.

    Members are kept in insertion-ordered dicts keyed by ``str(participant_id)``, so
    checking, adding and removing one person costs the same in a cohort of ten as in
    one with a waitlist of thousands (lists made each of those a scan). Version 2 of
    the state; snapshots of version 1 (lists of UUIDs) are upcast when loaded.
    """

    @staticmethod
    def upcast_v1_v2(state: dict[str, object]) -> None:
        for name in ("_enrolled", "_waitlist"):
            state[name] = dict.fromkeys(str(p) for p in state[name])  # type: ignore[attr-defined]

    # v3 keeps the start date, cancelled sessions and attendance marks (for corrections).
    class_version = 3

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state["_starts_on"] = None  # unknown to an older snapshot: the date rules are skipped
        state["_cancelled_sessions"] = []
        state["_marks"] = {}

    @classmethod
    def plan(
        cls,
        programme_id: UUID,
        name: str,
        format: str,
        capacity: int | None,
        starts_on: date,
        venue: str | None = None,
        min_facilitators: int = 2,
    ) -> Cohort:
        cohort_format = parse_enum(CohortFormat, format, "format")
        return cls(
            programme_id=require_uuid(programme_id, "programme_id"),
            name=require_text(name, "name"),
            format=cohort_format.value,
            capacity=_plan_capacity(cohort_format, capacity),
            starts_on=require_date(starts_on, "starts_on"),
            venue=optional_text(venue, "venue"),
            min_facilitators=require_int(min_facilitators, "min_facilitators"),
        )

    @event("Planned")
    def __init__(
        self,
        programme_id: UUID,
        name: str,
        format: str,
        capacity: int | None,
        starts_on: date,
        venue: str | None,
        min_facilitators: int,
    ) -> None:
        self._programme_id = programme_id
        self._format = CohortFormat(format)
        self._capacity = capacity
        self._min_facilitators = min_facilitators
        self._status = CohortStatus.PLANNED
        # Keys are str(UUID) so a snapshot of this state is JSON-encodable; the
        # enrolled and waitlist dicts keep their order (enrolment order, head first).
        self._enrolled: dict[str, None] = {}
        self._waitlist: dict[str, None] = {}
        self._facilitators: dict[str, FacilitatorRole] = {}
        self._sessions: dict[str, datetime] = {}
        self._starts_on: date | None = starts_on
        self._cancelled_sessions: list[str] = []
        self._marks: dict[str, str] = {}  # "session:participant" -> status

    # --- state for decisions -------------------------------------------------

    @property
    def programme_id(self) -> UUID:
        return self._programme_id

    @property
    def status(self) -> CohortStatus:
        return CohortStatus(self._status)

    @property
    def format(self) -> CohortFormat:
        return CohortFormat(self._format)

    @property
    def capacity(self) -> int | None:
        return self._capacity

    @property
    def min_facilitators(self) -> int:
        return self._min_facilitators

    @property
    def enrolled(self) -> list[UUID]:
        """A copy, in enrolment order: for reading, not for deciding per command."""
        return [UUID(p) for p in self._enrolled]

    @property
    def waitlist(self) -> list[UUID]:
        """A copy, head first: for reading, not for deciding per command."""
        return [UUID(p) for p in self._waitlist]

    @property
    def enrolled_count(self) -> int:
        return len(self._enrolled)

    @property
    def waitlist_count(self) -> int:
        return len(self._waitlist)

    @property
    def state_size(self) -> int:
        """How many people the state holds: the store snapshots a large cohort less often."""
        return len(self._enrolled) + len(self._waitlist)

    def is_enrolled(self, participant_id: UUID) -> bool:
        return str(participant_id) in self._enrolled

    def is_waitlisted(self, participant_id: UUID) -> bool:
        return str(participant_id) in self._waitlist

    def is_member(self, participant_id: UUID) -> bool:
        """Enrolled or waiting."""
        key = str(participant_id)
        return key in self._enrolled or key in self._waitlist

    def waitlist_head(self, n: int = 1) -> list[UUID]:
        """The first ``n`` people waiting, head first."""
        return [UUID(p) for p in islice(self._waitlist, max(n, 0))]

    @property
    def facilitators(self) -> dict[UUID, FacilitatorRole]:
        return {UUID(k): FacilitatorRole(v) for k, v in self._facilitators.items()}

    @property
    def sessions(self) -> dict[UUID, datetime]:
        return {UUID(k): v for k, v in self._sessions.items()}

    @property
    def starts_on(self) -> date | None:
        return self._starts_on

    def is_cancelled(self, session_id: UUID) -> bool:
        return str(session_id) in self._cancelled_sessions

    # --- lifecycle -----------------------------------------------------------

    def open_enrolment(self) -> None:
        if self._status != CohortStatus.PLANNED:
            raise InvalidTransition("Cohort", self._status, CohortStatus.OPEN)
        self._open_enrolment()

    def start(self, on: date, eligible_facilitator_ids: Iterable[UUID]) -> None:
        """The service says which facilitators are eligible on ``on``; the
        cohort counts those among its own assigned facilitators."""
        on = require_date(on, "on")
        startable = [CohortStatus.OPEN]
        if self._format == CohortFormat.DROP_IN:
            startable.append(CohortStatus.PLANNED)
        if self._status not in startable:
            raise InvalidTransition("Cohort", self._status, CohortStatus.RUNNING)
        if self._starts_on is not None and on < self._starts_on:
            raise err.CohortNotYetDue(cohort_id=self.id, starts_on=self._starts_on,
                                      action="start", on=on)
        eligible = {str(fid) for fid in eligible_facilitator_ids}
        counted = sorted(k for k in self._facilitators if k in eligible)
        if len(counted) < self._min_facilitators:
            raise err.NotEnoughFacilitators(
                cohort_id=self.id, required=self._min_facilitators, eligible=len(counted)
            )
        self._start(started_on=on, facilitator_ids=[UUID(k) for k in counted])

    def complete(self) -> None:
        if self._status != CohortStatus.RUNNING:
            raise InvalidTransition("Cohort", self._status, CohortStatus.COMPLETED)
        self._complete()

    def cancel(self, reason: str) -> None:
        """``reason`` is ciphertext under the cohort's key (it may speak of people)."""
        reason = require_text(reason, "reason_ciphertext")
        if self._status in ENDED:
            raise InvalidTransition("Cohort", self._status, CohortStatus.CANCELLED)
        self._cancel(reason=reason)

    @event("EnrolmentOpened")
    def _open_enrolment(self) -> None:
        self._status = CohortStatus.OPEN

    @event("Started")
    def _start(self, started_on: date, facilitator_ids: list[UUID]) -> None:
        self._status = CohortStatus.RUNNING

    @event("Completed")
    def _complete(self) -> None:
        self._status = CohortStatus.COMPLETED

    @event("Cancelled")
    def _cancel(self, reason: str) -> None:
        self._status = CohortStatus.CANCELLED

    # --- enrolment -----------------------------------------------------------

    def change_capacity(self, capacity: int) -> None:
        """Promotes from the waitlist into any places the change frees."""
        self._require_enrolled_format("change capacity")
        self._require_not_ended("change capacity")
        capacity = _require_capacity(capacity)
        if capacity < len(self._enrolled):
            raise err.CapacityBelowEnrolled(capacity=capacity, enrolled=len(self._enrolled))
        if capacity == self._capacity:
            return
        self._change_capacity(capacity=capacity)
        self._promote_into_free_places()

    def enrol(self, participant_id: UUID) -> EnrolmentOutcome:
        """Enrols, or waitlists when full or when others are already waiting."""
        participant_id = require_uuid(participant_id, "participant_id")
        self._require_enrolled_format("enrol participants")
        if self._status not in (CohortStatus.OPEN, CohortStatus.RUNNING):
            raise err.CohortNotOpen(cohort_id=self.id, status=self._status)
        if self.is_member(participant_id):
            standing = "waitlisted" if self.is_waitlisted(participant_id) else "enrolled"
            raise err.AlreadyEnrolled(
                cohort_id=self.id, participant_id=participant_id, standing=standing
            )
        if self._waitlist or len(self._enrolled) >= (self._capacity or 0):
            position = len(self._waitlist) + 1
            self._waitlist_participant(participant_id=participant_id, position=position)
            return EnrolmentOutcome.WAITLISTED
        self._enrol(participant_id=participant_id)
        return EnrolmentOutcome.ENROLLED

    def withdraw(self, participant_id: UUID, reason: str | None = None) -> None:
        """Allowed in any state; nobody has to give a reason. A freed place is
        refilled only while the cohort has not ended."""
        participant_id = require_uuid(participant_id, "participant_id")
        reason = optional_text(reason, "reason_ciphertext")  # the person's key, or a system note
        if not self.is_member(participant_id):
            raise err.NotEnrolled(cohort_id=self.id, participant_id=participant_id)
        was_waitlisted = self.is_waitlisted(participant_id)
        self._withdraw(
            participant_id=participant_id, reason=reason, was_waitlisted=was_waitlisted
        )
        if not was_waitlisted and self._status not in ENDED:
            self._promote_into_free_places()

    def _promote_into_free_places(self) -> None:
        while self._waitlist and len(self._enrolled) < (self._capacity or 0):
            self._promote(participant_id=UUID(next(iter(self._waitlist))))

    @event("CapacityChanged")
    def _change_capacity(self, capacity: int) -> None:
        self._capacity = capacity

    @event("ParticipantEnrolled")
    def _enrol(self, participant_id: UUID) -> None:
        self._enrolled[str(participant_id)] = None

    @event("ParticipantWaitlisted")
    def _waitlist_participant(self, participant_id: UUID, position: int) -> None:
        self._waitlist[str(participant_id)] = None

    @event("ParticipantPromoted")
    def _promote(self, participant_id: UUID) -> None:
        key = str(participant_id)
        del self._waitlist[key]
        self._enrolled[key] = None

    @event("ParticipantWithdrawn")
    def _withdraw(
        self, participant_id: UUID, reason: str | None, was_waitlisted: bool
    ) -> None:
        key = str(participant_id)
        if was_waitlisted:
            del self._waitlist[key]
        else:
            del self._enrolled[key]

    # --- facilitators, sessions, attendance ----------------------------------

    def assign_facilitator(self, facilitator_id: UUID, role: str) -> None:
        facilitator_id = require_uuid(facilitator_id, "facilitator_id")
        facilitator_role = parse_enum(FacilitatorRole, role, "role")
        self._require_not_ended("assign facilitators")
        if str(facilitator_id) in self._facilitators:
            raise err.FacilitatorAlreadyAssigned(cohort_id=self.id, facilitator_id=facilitator_id)
        self._assign_facilitator(facilitator_id=facilitator_id, role=facilitator_role.value)

    def unassign_facilitator(self, facilitator_id: UUID) -> None:
        """Does nothing if the facilitator is not assigned."""
        facilitator_id = require_uuid(facilitator_id, "facilitator_id")
        if str(facilitator_id) in self._facilitators:
            self._unassign_facilitator(facilitator_id=facilitator_id)

    def schedule_session(self, session_id: UUID, starts_at: datetime) -> None:
        session_id = require_uuid(session_id, "session_id")
        starts_at = require_utc(starts_at, "starts_at")
        self._require_not_ended("schedule sessions")
        if str(session_id) in self._sessions:
            raise InvalidInput("session_id", f"{session_id} is already scheduled")
        self._require_on_or_after_start(starts_at, "schedule a session")
        self._schedule_session(session_id=session_id, starts_at=starts_at)

    def reschedule_session(self, session_id: UUID, starts_at: datetime) -> None:
        session_id = self._live_session(session_id, "reschedule it")
        starts_at = require_utc(starts_at, "starts_at")
        self._require_not_ended("reschedule sessions")
        self._require_on_or_after_start(starts_at, "schedule a session")
        self._reschedule_session(session_id=session_id, starts_at=starts_at,
                                 previous_starts_at=self._sessions[str(session_id)])

    def cancel_session(self, session_id: UUID, reason: str | None) -> None:
        """``reason`` is ciphertext (or None): free text may hold health information."""
        session_id = self._live_session(session_id, "cancel it again")
        reason = None if reason is None else require_text(reason, "reason_ciphertext")
        self._require_not_ended("cancel sessions")
        self._cancel_session(session_id=session_id, reason=reason)

    def record_attendance(
        self, session_id: UUID, participant_id: UUID, status: str, now: datetime | None = None
    ) -> None:
        """Recording again for the same session and person replaces the mark. ``now``
        (the service's clock) refuses a session that has not started yet."""
        session_id = require_uuid(session_id, "session_id")
        participant_id = require_uuid(participant_id, "participant_id")
        attendance = parse_enum(AttendanceStatus, status, "status")
        if self._status != CohortStatus.RUNNING:
            raise err.AttendanceNotAllowed(cohort_id=self.id, status=self._status)
        self._live_session(session_id, "record attendance")
        starts_at = self._sessions[str(session_id)]
        if now is not None and starts_at > require_utc(now, "now"):
            raise err.SessionNotStarted(session_id=session_id, starts_at=starts_at)
        if self._format == CohortFormat.ENROLLED and not self.is_enrolled(participant_id):
            raise err.NotEnrolled(cohort_id=self.id, participant_id=participant_id)
        self._record_attendance(
            session_id=session_id, participant_id=participant_id, status=attendance.value
        )

    def correct_attendance(
        self, session_id: UUID, participant_id: UUID, status: str, reason: str | None
    ) -> None:
        """Replace a recorded mark (also after the cohort ended); ``reason`` is ciphertext."""
        session_id = require_uuid(session_id, "session_id")
        participant_id = require_uuid(participant_id, "participant_id")
        attendance = parse_enum(AttendanceStatus, status, "status")
        reason = None if reason is None else require_text(reason, "reason_ciphertext")
        previous = self._marks.get(_mark_key(session_id, participant_id))
        if previous is None:
            raise err.AttendanceNotRecorded(session_id=session_id, participant_id=participant_id)
        if previous == attendance.value:
            return
        self._correct_attendance(session_id=session_id, participant_id=participant_id,
                                 status=attendance.value, previous_status=previous,
                                 reason=reason)

    def _live_session(self, session_id: UUID, action: str) -> UUID:
        session_id = require_uuid(session_id, "session_id")
        if str(session_id) not in self._sessions:
            raise err.SessionNotFound(cohort_id=self.id, session_id=session_id)
        if str(session_id) in self._cancelled_sessions:
            raise err.SessionCancelled(cohort_id=self.id, session_id=session_id, action=action)
        return session_id

    def _require_on_or_after_start(self, starts_at: datetime, action: str) -> None:
        if self._starts_on is not None and starts_at.date() < self._starts_on:
            raise err.CohortNotYetDue(cohort_id=self.id, starts_on=self._starts_on,
                                      action=action, on=starts_at.date())

    @event("FacilitatorAssigned")
    def _assign_facilitator(self, facilitator_id: UUID, role: str) -> None:
        self._facilitators[str(facilitator_id)] = FacilitatorRole(role)

    @event("FacilitatorUnassigned")
    def _unassign_facilitator(self, facilitator_id: UUID) -> None:
        del self._facilitators[str(facilitator_id)]

    @event("SessionScheduled")
    def _schedule_session(self, session_id: UUID, starts_at: datetime) -> None:
        self._sessions[str(session_id)] = starts_at

    @event("SessionRescheduled")
    def _reschedule_session(
        self, session_id: UUID, starts_at: datetime, previous_starts_at: datetime
    ) -> None:
        self._sessions[str(session_id)] = starts_at

    @event("SessionCancelled")
    def _cancel_session(self, session_id: UUID, reason: str | None) -> None:
        self._cancelled_sessions.append(str(session_id))

    @event("AttendanceRecorded")
    def _record_attendance(self, session_id: UUID, participant_id: UUID, status: str) -> None:
        self._marks[_mark_key(session_id, participant_id)] = status

    @event("AttendanceCorrected")
    def _correct_attendance(
        self, session_id: UUID, participant_id: UUID, status: str, previous_status: str,
        reason: str | None,
    ) -> None:
        self._marks[_mark_key(session_id, participant_id)] = status

    def _require_enrolled_format(self, action: str) -> None:
        if self._format == CohortFormat.DROP_IN:
            raise err.CohortIsDropIn(cohort_id=self.id, action=action)

    def _require_not_ended(self, action: str) -> None:
        if self._status in ENDED:
            raise err.CohortEnded(cohort_id=self.id, status=self._status, action=action)
