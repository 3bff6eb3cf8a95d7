"""Participant: a pseudonymous person. Personal data arrives already encrypted
(an opaque ciphertext string); the domain never sees plaintext.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from program.domain.catalogue import UnknownMeasure, check_score
from program.domain.errors import DomainError
from program.domain.values import (
    Timepoint,
    parse_enum,
    require_score,
    require_text,
    require_uuid,
)


class OutcomeAlreadyRecorded(DomainError):
    code = "OUTCOME_ALREADY_RECORDED"
    template = (
        "Participant {participant_id} already has a {timepoint} {measure} score "
        "for cohort {cohort_id}."
    )


class OutcomeNotRecorded(DomainError):
    code = "OUTCOME_NOT_RECORDED"
    template = (
        "Participant {participant_id} has no {timepoint} {measure} score for cohort "
        "{cohort_id} to amend."
    )


class ParticipantErased(DomainError):
    code = "PARTICIPANT_ERASED"
    template = "Participant {participant_id} has been erased: cannot {action}."


def _outcome_key(cohort_id: UUID, measure: str, timepoint: str) -> str:
    # Neither a UUID nor a timepoint contains ':', so the key is unambiguous.
    return f"{cohort_id}:{timepoint}:{measure}"


class Participant(Aggregate):
    """Tracks the programmes a person is or was in, cohort memberships and outcome
    scores; refuses everything once erased."""

    # v2 keeps ``_programmes`` (every programme the person is or was in); v3 the current
    # ciphertext, onto which a rectification of some fields is merged.
    class_version = 3

    class Registered(Aggregate.Created):
        """v2 names the programme the person was registered into."""

        class_version = 2
        personal_data: str
        programme_id: UUID | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["programme_id"] = None  # registered before people belonged to a programme

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """A v1 snapshot knows only the programmes of cohorts not yet left."""
        state["_programmes"] = sorted({str(p) for p in state["_cohorts"].values()})

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state["_personal_data"] = None  # an older snapshot: a rectification replaces it whole

    @classmethod
    def register(cls, participant_id: UUID, personal_data: str, programme_id: UUID) -> Participant:
        """The id comes from outside: the service needs it first, to create the
        person's data key and encrypt ``personal_data`` under it."""
        return cls._create(
            cls.Registered,
            id=require_uuid(participant_id, "participant_id"),
            personal_data=require_text(personal_data, "personal_data"),
            programme_id=require_uuid(programme_id, "programme_id"),
        )

    @event(Registered)
    def __init__(self, personal_data: str, programme_id: UUID | None) -> None:
        self._erased = False
        # Keys are str(UUID) so a snapshot of this state is JSON-encodable.
        self._cohorts: dict[str, UUID] = {}
        self._outcomes: dict[str, float] = {}
        self._programmes: list[str] = [str(programme_id)] if programme_id else []
        self._personal_data: str | None = personal_data

    @property
    def erased(self) -> bool:
        return self._erased

    @property
    def personal_data(self) -> str | None:
        """The current ciphertext (None once erased)."""
        return None if self._erased else self._personal_data

    @property
    def cohorts(self) -> dict[UUID, UUID]:
        """Cohort id -> programme id, for every cohort joined and not left."""
        return {UUID(k): v for k, v in self._cohorts.items()}

    @property
    def programme_ids(self) -> frozenset[UUID]:
        """The programme registered into and those of every cohort joined, left or not."""
        return frozenset(UUID(p) for p in self._programmes)

    def is_member_of(self, cohort_id: UUID) -> bool:
        return str(cohort_id) in self._cohorts

    def cohort_ids_in(self, programme_id: UUID) -> list[UUID]:
        return [UUID(k) for k, v in self._cohorts.items() if v == programme_id]

    def outcome(self, cohort_id: UUID, measure: str, timepoint: str) -> float | None:
        return self._outcomes.get(_outcome_key(cohort_id, measure, timepoint))

    def update_personal_data(self, personal_data: str) -> None:
        """Replaces the ciphertext (rectification)."""
        personal_data = require_text(personal_data, "personal_data")
        self.require_not_erased("update personal data")
        self._update_personal_data(personal_data=personal_data)

    def join_cohort(self, cohort_id: UUID, programme_id: UUID) -> None:
        """Does nothing if already joined (enrolled or waitlisted)."""
        cohort_id = require_uuid(cohort_id, "cohort_id")
        programme_id = require_uuid(programme_id, "programme_id")
        self.require_not_erased("join a cohort")
        if str(cohort_id) not in self._cohorts:
            self._join_cohort(cohort_id=cohort_id, programme_id=programme_id)

    def leave_cohort(self, cohort_id: UUID) -> None:
        """Does nothing if not in that cohort."""
        cohort_id = require_uuid(cohort_id, "cohort_id")
        self.require_not_erased("leave a cohort")
        if str(cohort_id) in self._cohorts:
            self._leave_cohort(cohort_id=cohort_id)

    def record_outcome(
        self,
        cohort_id: UUID,
        measure: str,
        timepoint: str,
        score: Decimal | float,
        ranges: Mapping[str, list[float] | None],
    ) -> None:
        """``ranges`` is the programme's catalogue of measures and their valid ranges."""
        cohort_id, measure, point, value = self._outcome_args(cohort_id, measure, timepoint, score)
        self.require_not_erased("record outcomes")
        check_score(ranges, measure, value)
        if _outcome_key(cohort_id, measure, point.value) in self._outcomes:
            raise OutcomeAlreadyRecorded(
                participant_id=self.id, cohort_id=cohort_id, measure=measure, timepoint=point
            )
        self._record_outcome(
            cohort_id=cohort_id, measure=measure, timepoint=point.value, score=value
        )

    def amend_outcome(
        self,
        cohort_id: UUID,
        measure: str,
        timepoint: str,
        score: Decimal | float,
        ranges: Mapping[str, list[float] | None],
        reason: str,
    ) -> None:
        """Correct a recorded score; the original stays in the history. ``reason`` is
        ciphertext (free text may hold health information)."""
        cohort_id, measure, point, value = self._outcome_args(cohort_id, measure, timepoint, score)
        reason = require_text(reason, "reason_ciphertext")
        self.require_not_erased("amend outcomes")
        check_score(ranges, measure, value)
        previous = self._outcomes.get(_outcome_key(cohort_id, measure, point.value))
        if previous is None:
            raise OutcomeNotRecorded(
                participant_id=self.id, cohort_id=cohort_id, measure=measure, timepoint=point
            )
        self._amend_outcome(cohort_id=cohort_id, measure=measure, timepoint=point.value,
                            score=value, previous_score=previous, reason=reason)

    @staticmethod
    def _outcome_args(
        cohort_id: UUID, measure: str, timepoint: str, score: Decimal | float
    ) -> tuple[UUID, str, Timepoint, float]:
        return (require_uuid(cohort_id, "cohort_id"), require_text(measure, "measure"),
                parse_enum(Timepoint, timepoint, "timepoint"), require_score(score, "score"))

    def erase(self) -> None:
        """Marks the person erased; the service destroys their data key."""
        self.require_not_erased("erase again")
        self._erase()

    def record_data_export(self, format: str) -> None:
        """A subject-access export of everything held about the person was made (the
        actor is in the event's metadata); allowed after erasure too."""
        self._record_data_export(format=require_text(format, "format"))

    def require_not_erased(self, action: str = "record anything more about them") -> None:
        """Guard for services acting on other aggregates about this person."""
        if self._erased:
            raise ParticipantErased(participant_id=self.id, action=action)

    @event("PersonalDataUpdated")
    def _update_personal_data(self, personal_data: str) -> None:
        self._personal_data = personal_data

    @event("JoinedCohort")
    def _join_cohort(self, cohort_id: UUID, programme_id: UUID) -> None:
        self._cohorts[str(cohort_id)] = programme_id
        if str(programme_id) not in self._programmes:
            self._programmes.append(str(programme_id))

    @event("LeftCohort")
    def _leave_cohort(self, cohort_id: UUID) -> None:
        del self._cohorts[str(cohort_id)]

    @event("OutcomeRecorded")
    def _record_outcome(
        self, cohort_id: UUID, measure: str, timepoint: str, score: float
    ) -> None:
        self._outcomes[_outcome_key(cohort_id, measure, timepoint)] = score

    @event("OutcomeAmended")
    def _amend_outcome(
        self, cohort_id: UUID, measure: str, timepoint: str, score: float,
        previous_score: float, reason: str,
    ) -> None:
        self._outcomes[_outcome_key(cohort_id, measure, timepoint)] = score

    @event("Erased")
    def _erase(self) -> None:
        self._erased = True
        self._personal_data = None

    @event("DataExported")
    def _record_data_export(self, format: str) -> None:
        pass  # only the audit trail needs it
