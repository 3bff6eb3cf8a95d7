"""A dashboard read by id carries the head of its lists of people: which answers it holds."""

from __future__ import annotations

from uuid import UUID, uuid4

from program.projections.cohort_dashboard import Dashboards
from program.projections.cohort_dashboard.queries import HEAD

COHORT = uuid4()


def _dashboards(enrolled: int, waitlisted: int) -> tuple[Dashboards, list[UUID], list[UUID]]:
    people = [uuid4() for _ in range(enrolled)]
    waiting = [uuid4() for _ in range(waitlisted)]
    # the query reads at most HEAD + 1 of each list
    heads = {(COHORT, "ENROLLED"): tuple(people[:HEAD + 1]),
             (COHORT, "WAITLISTED"): tuple(waiting[:HEAD + 1])}
    return Dashboards({}, heads), people, waiting


def test_given_a_short_list_when_asked_for_all_or_a_few_then_the_head_answers() -> None:
    dashboards, people, waiting = _dashboards(12, 3)
    assert dashboards.members(COHORT, "ENROLLED", None) == tuple(people)
    assert dashboards.members(COHORT, "WAITLISTED", None) == tuple(waiting)
    assert dashboards.members(COHORT, "WAITLISTED", 2) == tuple(waiting[:2])
    assert dashboards.members(COHORT, "WAITLISTED", 0) == ()
    assert dashboards.members(COHORT, "ENROLLED", 500) == tuple(people)


def test_given_an_empty_list_when_asked_then_the_head_answers_nobody() -> None:
    dashboards, _, _ = _dashboards(0, 0)
    assert dashboards.members(COHORT, "WAITLISTED", None) == ()


def test_given_a_list_longer_than_the_head_when_asked_for_all_or_too_many_then_it_does_not_answer(
) -> None:
    dashboards, people, _ = _dashboards(0, HEAD + 5)
    assert dashboards.members(COHORT, "WAITLISTED", None) is None
    assert dashboards.members(COHORT, "WAITLISTED", HEAD + 1) is None


def test_given_a_list_longer_than_the_head_when_asked_for_at_most_the_head_then_it_answers() -> None:
    dashboards, _, waiting = _dashboards(0, HEAD + 5)
    assert dashboards.members(COHORT, "WAITLISTED", HEAD) == tuple(waiting[:HEAD])
    assert dashboards.members(COHORT, "WAITLISTED", 3) == tuple(waiting[:3])


def test_given_a_cohort_not_read_when_asked_then_it_does_not_answer() -> None:
    dashboards, _, _ = _dashboards(3, 3)
    assert dashboards.members(uuid4(), "ENROLLED", None) is None
