"""Each read model's figures, driven by real commands and read through the query module."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from uuid import UUID, uuid4

import pytest
import pytest_asyncio

from program.application.sealing import open_reasons
from program.projections import projection_status
from program.projections.audit_trail import audit_trail
from program.projections.cohort_dashboard import (
    CohortView,
    OutcomeView,
    cohort_ids_for_facilitator,
    cohort_members,
    get_cohorts,
    list_cohorts,
)
from program.projections.consent_history import consent_history
from program.projections.facilitator_load import get_facilitators, list_facilitators
from program.projections.paging import InvalidQuery, Page
from program.projections.participant_state import get_participants
from program.projections.programme_overview import get_programmes, list_programmes
from program.projections.runner import ProjectionRunner
from test_projection_support import (  # noqa: F401  (fixtures)
    NOW,
    PURPOSE,
    TODAY,
    Story,
    admin,
    app,
    clock,
    repository,
    running,
)


@pytest_asyncio.fixture(scope="module")
async def runner(pool, store, repository, db_url) -> AsyncIterator[ProjectionRunner]:  # noqa: F811
    async with running(pool, store, repository, db_url) as r:
        yield r


@pytest.fixture
def story(app, clock) -> Story:  # noqa: F811
    clock.at = NOW
    return Story(app, clock)


async def settled(runner: ProjectionRunner, store) -> None:
    assert await runner.wait_for(await store.max_position(), timeout=10)


async def cohort_view(pool, runner, store, cohort_id: UUID, now=NOW) -> CohortView:
    await settled(runner, store)
    return (await get_cohorts(pool, [cohort_id], now=now))[cohort_id]


async def members(pool, cohort_id: UUID, first: int | None = None) -> tuple[tuple[UUID, ...], ...]:
    """(enrolled, waitlist) of a cohort, in order."""
    found = await cohort_members(pool, [(cohort_id, "ENROLLED"), (cohort_id, "WAITLISTED")], first)
    return found[(cohort_id, "ENROLLED")], found[(cohort_id, "WAITLISTED")]


# -- cohort dashboard ------------------------------------------------------------


async def test_waitlist_keeps_its_order_and_freed_places_promote_its_head(
    pool, store, runner, story
):
    programme = await story.programme()
    leads = (await story.facilitator("Lee"), await story.facilitator("Kim"))
    cohort = await story.cohort(programme, capacity=2, facilitators=leads)
    p = [await story.person(f"W{i}", programme_id=programme) for i in range(5)]
    assert await story.enrol(cohort, *p) == ["ENROLLED"] * 2 + ["WAITLISTED"] * 3

    view = await cohort_view(pool, runner, store, cohort)
    assert await members(pool, cohort) == ((p[0], p[1]), (p[2], p[3], p[4]))
    assert (view.enrolled_count, view.waitlist_count) == (2, 3)
    assert await members(pool, cohort, first=1) == ((p[0],), (p[2],))
    assert view.places_left == 0 and view.status == "OPEN" and view.format == "ENROLLED"
    assert [(f.facilitator_id, f.role) for f in view.facilitators] == [
        (leads[0], "LEAD"), (leads[1], "CO")]

    await story.app.withdraw_participant(admin(), cohort, p[0], "moved away")
    view = await cohort_view(pool, runner, store, cohort)
    assert await members(pool, cohort) == ((p[1], p[2]), (p[3], p[4]))
    assert (view.enrolled_count, view.waitlist_count) == (2, 2)

    await story.app.change_cohort_capacity(admin(), cohort, 3)
    await story.app.withdraw_participant(admin(), cohort, p[4], "no longer needed")
    view = await cohort_view(pool, runner, store, cohort)
    assert await members(pool, cohort) == ((p[1], p[2], p[3]), ())
    assert (view.enrolled_count, view.waitlist_count) == (3, 0)
    assert view.capacity == 3 and view.places_left == 0

    people = await get_participants(pool, p)
    assert [c.status for c in people[p[0]].cohorts] == ["WITHDRAWN"]
    assert [c.status for c in people[p[3]].cohorts] == ["ENROLLED"]
    assert [c.status for c in people[p[4]].cohorts] == ["WITHDRAWN"]
    assert people[p[3]].programme_ids == {programme}

    overview = (await get_programmes(pool, [programme]))[programme]
    assert (overview.enrolled, overview.waitlisted) == (3, 0)
    assert overview.cohorts_by_status == {"OPEN": 1} and overview.cohort_count == 1
    assert await cohort_ids_for_facilitator(pool, leads[1]) == [cohort]


# The lists each dashboard row keeps, computed afresh from the read model's tables: what
# the projection must have kept, batch after batch.
_LISTS = """
SELECT c.session_ids, c.session_starts, c.facilitator_ids, c.facilitator_roles,
       c.facilitator_since, c.absentee_ids, c.absentee_runs, c.enrolled_head, c.waitlist_head,
       ss.*, fs.*, ab.*,
       (SELECT array_agg(participant_id ORDER BY since) FROM (
          SELECT participant_id, since FROM rm_cohort_dashboard.members
          WHERE cohort_id = c.id AND standing = 'ENROLLED' ORDER BY since LIMIT 51) h
       ) AS enrolled_head_,
       (SELECT array_agg(participant_id ORDER BY since) FROM (
          SELECT participant_id, since FROM rm_cohort_dashboard.members
          WHERE cohort_id = c.id AND standing = 'WAITLISTED' ORDER BY since LIMIT 51) h
       ) AS waitlist_head_
FROM rm_cohort_dashboard.cohorts c
CROSS JOIN LATERAL (
    SELECT array_agg(s.id ORDER BY s.at, s.id) AS session_ids_,
           array_agg(s.at ORDER BY s.at, s.id) AS session_starts_
    FROM (SELECT (e->>0)::uuid AS id, (e->>1)::timestamptz AS at
          FROM jsonb_array_elements(c.sessions) e WHERE e->>1 IS NOT NULL) s) ss
CROSS JOIN LATERAL (
    SELECT array_agg(f.facilitator_id ORDER BY f.assigned_at, f.facilitator_id) AS facilitator_ids_,
           array_agg(f.role ORDER BY f.assigned_at, f.facilitator_id) AS facilitator_roles_,
           array_agg(f.assigned_at ORDER BY f.assigned_at, f.facilitator_id) AS facilitator_since_
    FROM rm_cohort_dashboard.facilitators f WHERE f.cohort_id = c.id) fs
CROSS JOIN LATERAL (
    SELECT array_agg(m.participant_id ORDER BY m.streak DESC, m.participant_id) AS absentee_ids_,
           array_agg(m.streak ORDER BY m.streak DESC, m.participant_id) AS absentee_runs_
    FROM rm_cohort_dashboard.members m WHERE m.cohort_id = c.id AND m.streak >= 3) ab
WHERE c.id = $1"""


async def test_the_lists_a_dashboard_keeps_follow_every_change_batch_after_batch(
    pool, store, runner, story
):
    # given a cohort whose waitlist outgrows the head a dashboard keeps, with its
    # facilitators changed, sessions moved and cancelled, and runs of absences that
    # start and end, each change in a batch of its own
    programme = await story.programme()
    cohort, people, s = await story.running_cohort(programme, people=4, capacity=3, sessions=4)
    waiting = [await story.person(f"W{i}", programme_id=programme) for i in range(55)]
    await story.enrol(cohort, *waiting)
    third = await story.facilitator("Ash")
    await story.app.assign_facilitator(admin(), cohort, third, "CO")
    view = await cohort_view(pool, runner, store, cohort)
    leads = [f.facilitator_id for f in view.facilitators]
    await story.app.unassign_facilitator(admin(), cohort, leads[0])
    for i in range(4):
        await story.attend(cohort, s[i], {people[0]: "ABSENT_UNEXCUSED",
                                          people[1]: "ABSENT_UNEXCUSED" if i else "PRESENT"})
    await story.app.reschedule_session(admin(), cohort, s[3],  # now the first
                                       NOW + timedelta(days=7, minutes=-1))
    await story.app.cancel_session(admin(), cohort, s[1], "room flooded")
    await story.app.withdraw_participant(admin(), cohort, people[2], "moved away")
    await story.app.withdraw_participant(admin(), cohort, waiting[3], "moved away")
    await settled(runner, store)

    # when the kept lists are read beside the lists computed from the tables
    row = await pool.fetchrow(_LISTS, cohort)

    # then each is the same
    kept = {k: row[k] for k in row.keys() if not k.endswith("_")}
    assert kept == {k: row[k + "_"] for k in kept}
    assert len(kept["waitlist_head"]) == 51
    view = await cohort_view(pool, runner, store, cohort)
    assert [f.facilitator_id for f in view.facilitators] == [leads[1], third]
    assert [x.id for x in view.sessions] == [s[3], s[0], s[2]]
    assert await members(pool, cohort, first=2) == (
        (people[0], people[1]), (waiting[0], waiting[1]))


async def test_moving_or_cancelling_a_session_recounts_the_runs_of_absences(
    pool, store, runner, story
):
    # given two people absent from the last three of four sessions, one of them from all four
    programme = await story.programme()
    cohort, (a, b, _), s = await story.running_cohort(programme, people=3, capacity=3,
                                                      sessions=4)
    for i in range(4):
        await story.attend(cohort, s[i], {a: "ABSENT_UNEXCUSED",
                                          b: "ABSENT_UNEXCUSED" if i else "PRESENT"})
    view = await cohort_view(pool, runner, store, cohort)
    assert [(x.participant_id, x.consecutive) for x in view.consecutive_absences] == [
        (a, 4), (b, 3)]

    # when the last session is moved to come first, its marks with it
    await story.app.reschedule_session(admin(), cohort, s[3], NOW + timedelta(days=7, minutes=-1))

    # then b's run is broken by the session b attended, now the latest but two
    view = await cohort_view(pool, runner, store, cohort)
    assert [(x.participant_id, x.consecutive) for x in view.consecutive_absences] == [(a, 4)]

    # and when a session is cancelled, its marks no longer count in anyone's run
    await story.app.cancel_session(admin(), cohort, s[1], "room flooded")
    view = await cohort_view(pool, runner, store, cohort)
    assert [(x.participant_id, x.consecutive) for x in view.consecutive_absences] == [(a, 3)]
    await story.app.cancel_session(admin(), cohort, s[2], "room flooded")
    view = await cohort_view(pool, runner, store, cohort)
    assert view.consecutive_absences == ()


async def test_three_absences_in_a_row_in_session_order_flag_a_person(pool, store, runner, story):
    programme = await story.programme()
    cohort, (a, b, c, d), s = await story.running_cohort(programme, people=4, capacity=4,
                                                         sessions=5)
    absent, present = "ABSENT_UNEXCUSED", "PRESENT"
    for i in range(3):
        await story.attend(cohort, s[i], {a: "ABSENT_EXCUSED", b: absent if i < 2 else present,
                                          c: present if i == 0 else absent})
    # d's marks arrive out of order: the latest three sessions by start time count.
    await story.attend(cohort, s[3], {d: absent, c: absent})
    await story.attend(cohort, s[2], {d: absent})
    await story.attend(cohort, s[1], {d: absent})
    await story.attend(cohort, s[0], {d: present})

    view = await cohort_view(pool, runner, store, cohort)
    assert {(x.participant_id, x.consecutive) for x in view.consecutive_absences} == {
        (a, 3), (c, 3), (d, 3)}
    assert view.attendance_recorded == 3 * 3 + 2 + 3
    assert view.attendance_present == 1 + 1 + 1
    assert view.attendance_rate == pytest.approx(3 / 14)

    await story.attend(cohort, s[2], {a: present})  # recorded again: replaces the mark
    await story.attend(cohort, s[4], {d: present})
    await story.app.withdraw_participant(admin(), cohort, c, "moved away")
    view = await cohort_view(pool, runner, store, cohort)
    assert view.consecutive_absences == ()
    assert (view.attendance_recorded, view.attendance_present) == (15, 5)

    assert view.next_session == view.sessions[0]
    later = await cohort_view(pool, runner, store, cohort, now=view.sessions[1].starts_at)
    assert later.next_session == view.sessions[2]
    assert [x.starts_at for x in view.sessions] == sorted(x.starts_at for x in view.sessions)

    overview = (await get_programmes(pool, [programme]))[programme]
    assert (overview.attendance_recorded, overview.attendance_present) == (15, 5)
    assert overview.attendance_rate == pytest.approx(5 / 15)
    assert overview.cohorts_by_status == {"RUNNING": 1}


async def test_outcomes_count_each_timepoint_and_average_the_change_of_people_with_both(
    pool, store, runner, story
):
    programme = await story.programme(measures=("HHI", "WEMWBS"))
    cohort, people, _ = await story.running_cohort(programme, people=3, capacity=3)
    for person, score in zip(people, (20, 30, 40), strict=True):
        await story.app.record_outcome(admin(), person, cohort, "HHI", "BASELINE", score)
    await story.app.record_outcome(admin(), people[0], cohort, "HHI", "FOLLOW_UP", 26)
    await story.app.record_outcome(admin(), people[1], cohort, "HHI", "FOLLOW_UP", 33)

    view = await cohort_view(pool, runner, store, cohort)
    outcomes = {o.measure: o for o in view.outcomes}
    assert list(outcomes) == ["HHI", "WEMWBS"]
    hhi = outcomes["HHI"]
    assert (hhi.baseline_count, hhi.follow_up_count, hhi.people) == (3, 2, 2)
    assert hhi.mean_change == pytest.approx(4.5)
    assert outcomes["WEMWBS"] == OutcomeView("WEMWBS", 0, 0, 0, None)


async def test_cohorts_list_by_start_date_with_filters_and_cursor(pool, store, runner, story):
    programme = await story.programme(name="Listing")
    cohorts = [await story.cohort(programme, name=f"C{i}") for i in range(3)]
    await story.app.cancel_cohort(admin(), cohorts[1], "venue closed")
    await settled(runner, store)
    first = await list_cohorts(pool, scope={programme}, first=2, now=NOW)
    assert first.has_next and len(first.items) == 2
    rest = await list_cohorts(pool, scope={programme}, first=2, after=first.end_cursor, now=NOW)
    assert not rest.has_next
    assert sorted(v.id for v in first.items + rest.items) == sorted(cohorts)
    cancelled = await list_cohorts(pool, scope=None, programme_id=programme, status="CANCELLED",
                                     first=10, now=NOW)
    assert [v.id for v in cancelled.items] == [cohorts[1]]
    sealed = cancelled.items[0].cancel_reason  # free text is sealed under the cohort's key
    assert "venue" not in sealed
    assert await open_reasons(story.app.keys, [(cohorts[1], sealed)]) == ["venue closed"]
    assert (await list_cohorts(pool, scope=set(), first=10, now=NOW)).items == ()
    with pytest.raises(InvalidQuery):
        await list_cohorts(pool, scope=None, first=1, after="not-a-cursor", now=NOW)


# -- facilitator load --------------------------------------------------------------


async def test_facilitator_load_counts_active_cohorts_upcoming_sessions_and_expiry(
    pool, store, runner, story
):
    programme = await story.programme(min_facilitators=1)
    sam = await story.facilitator("Sam", valid_until=TODAY + timedelta(days=10))
    one = await story.cohort(programme, facilitators=(sam,))
    two = await story.cohort(programme, facilitators=(sam,))
    await story.sessions(one, 3)  # NOW + 7, 14, 21 days
    await story.sessions(two, 1)
    await settled(runner, store)
    view = (await get_facilitators(pool, [sam], today=TODAY, now=NOW + timedelta(days=10)))[sam]
    assert view.status == "ACTIVE" and view.max_cohorts == 3
    assert view.active_cohort_count == 2 and set(view.active_cohort_ids) == {one, two}
    assert view.upcoming_sessions == 2
    assert {(c.kind, c.days_to_expiry, c.expired) for c in view.credentials} == {
        (k, 10, False) for k in ("BACKGROUND_CHECK", "PEER_SUPPORT_TRAINING", "SAFEGUARDING")}

    await story.app.cancel_cohort(admin(), one, "too few people")
    await settled(runner, store)
    later = TODAY + timedelta(days=12)
    view = (await get_facilitators(pool, [sam], today=later, now=NOW))[sam]
    assert view.active_cohort_count == 1 and view.upcoming_sessions == 1
    assert all(c.days_to_expiry == -2 and c.expired for c in view.credentials)

    await story.app.suspend_facilitator(admin(), sam, "complaint under review")
    await settled(runner, store)
    view = (await get_facilitators(pool, [sam], today=TODAY, now=NOW))[sam]
    assert view.status == "SUSPENDED" and "complaint" not in view.status_reason
    assert await open_reasons(story.app.keys, [(sam, view.status_reason)]) == [
        "complaint under review"]


async def test_facilitators_list_in_registration_order_page_by_page(pool, store, runner, story):
    zoe = await story.facilitator("Zoe")
    await settled(runner, store)
    seen, after, ciphertexts = [], None, {}
    while True:
        page = await list_facilitators(pool, first=2, after=after, today=TODAY, now=NOW)
        seen += [(v.registered_at, v.id) for v in page.items]
        ciphertexts.update({v.id: v.personal_data for v in page.items})
        if not page.has_next:
            break
        after = page.end_cursor
    everyone = await pool.fetchval("SELECT count(*) FROM rm_facilitator_load.facilitators")
    assert seen == sorted(seen) and len(set(seen)) == len(seen) == everyone
    zoe_id = UUID(str(zoe))
    plain = await story.app.personal_data([zoe_id], ciphertexts)
    assert plain[zoe_id]["display_name"] == "Zoe"


# -- participants and consent ---------------------------------------------------------


async def test_consent_history_answers_as_of_any_time_and_erasure_drops_the_ciphertext(
    pool, store, runner, story, clock  # noqa: F811
):
    programme = await story.programme()
    cohort, (alex, *_), _ = await story.running_cohort(programme, people=2)
    given_at = NOW
    clock.at = withdrawn_at = NOW + timedelta(days=30)
    await story.app.withdraw_consent(admin("manager-7"), alex, PURPOSE, "phone", "feels better")
    await settled(runner, store)

    person = (await get_participants(pool, [alex]))[alex]
    assert person.personal_data.startswith("aesgcm1:") and not person.erased
    (consent,) = person.consents
    assert (consent.purpose, consent.state, consent.notice_version) == (PURPOSE, "WITHDRAWN", "v1")
    assert [c.status for c in person.cohorts] == ["WITHDRAWN"]  # the policy ended the enrolment
    assert person.programme_ids == {programme}

    history = await consent_history(pool, alex)
    assert [(c.state, c.method, c.recorded_by, c.at) for c in history.changes] == [
        ("GIVEN", "paper-form", "admin-1", given_at),
        ("WITHDRAWN", "phone", "manager-7", withdrawn_at)]
    assert "better" not in history.changes[1].reason  # sealed under the person's key
    assert await open_reasons(story.app.keys, [(alex, history.changes[1].reason)]) == [
        "feels better"]
    assert history.changes[1].notice_id == "notice-1"  # the consent it ended
    assert history.changes[0].recipients == ("evaluator-a",)
    assert [s.state for s in history.states_as_of] == ["WITHDRAWN"]

    before = await consent_history(pool, alex, as_of=withdrawn_at - timedelta(seconds=1))
    assert [(s.state, s.valid_at) for s in before.states_as_of] == [("GIVEN", True)]
    after = await consent_history(pool, alex, as_of=withdrawn_at)
    assert [(s.state, s.valid_at) for s in after.states_as_of] == [("WITHDRAWN", False)]
    assert (await consent_history(pool, alex, as_of=given_at - timedelta(1))).states_as_of == ()
    assert (await consent_history(pool, alex, purpose="research")).changes == ()

    await story.app.erase_participant(admin(), alex)
    await settled(runner, store)
    erased = (await get_participants(pool, [alex]))[alex]
    assert erased.erased and erased.personal_data is None and erased.erased_at is not None
    assert len((await consent_history(pool, alex)).changes) == 2  # history stays


async def test_consent_given_again_under_a_new_notice_is_the_current_state(
    pool, store, runner, story
):
    alex = await story.person("Alex")
    await story.app.give_consent(admin(), alex, PURPOSE, "notice-2", "v2", "explicit-consent",
                                 "web-form", ["evaluator-b", "referrer-c"], TODAY + timedelta(90))
    await settled(runner, store)
    (consent,) = (await get_participants(pool, [alex], today=TODAY))[alex].consents
    assert (consent.state, consent.notice_id, consent.notice_version) == ("GIVEN", "notice-2", "v2")
    assert consent.recipients == ("evaluator-b", "referrer-c")
    assert consent.valid_until == TODAY + timedelta(90)
    assert consent.lawful_basis == "explicit-consent"


# -- audit trail ------------------------------------------------------------------------


async def test_audit_trail_filters_by_aggregate_actor_type_and_time_with_keyset_pages(
    pool, store, runner, story, clock  # noqa: F811
):
    programme = await story.programme()
    cohort, people, _ = await story.running_cohort(programme, people=2)
    clock.at = NOW + timedelta(days=1)
    marker = f"auditor-probe-{uuid4()}"
    withdrawal = await story.app.withdraw_consent(admin(marker), people[0], PURPOSE, "email")
    await settled(runner, store)

    mine = await audit_trail(pool, actor=marker, first=50)
    assert {(e.aggregate_type, e.event_type) for e in mine.items} == {
        ("Consent", "Withdrawn"), ("Cohort", "ParticipantWithdrawn"),
        ("Participant", "LeftCohort")}
    assert mine.items[-1].position == withdrawal.position
    assert len({e.correlation_id for e in mine.items}) == 1
    consent_event = next(e for e in mine.items if e.event_type == "Withdrawn")
    caused = [e for e in mine.items if e.event_type != "Withdrawn"]
    assert all(e.causation_id == consent_event.event_id for e in caused)
    assert all(e.role == "ADMIN" and e.command == "withdrawConsent" for e in mine.items)

    trail = await audit_trail(pool, aggregate_id=cohort, first=3)
    assert trail.has_next and all(e.aggregate_id == cohort for e in trail.items)
    rest = await audit_trail(pool, aggregate_id=cohort, first=100, after=trail.end_cursor)
    positions = [e.position for e in trail.items + rest.items]
    assert positions == sorted(positions) and len(positions) == len(set(positions))
    assert [e.originator_version for e in trail.items + rest.items] == list(
        range(1, len(positions) + 1))

    enrolled = await audit_trail(pool, aggregate_id=cohort, event_type="ParticipantEnrolled",
                                   first=10)
    same = await audit_trail(pool, aggregate_id=cohort,
                               event_type="Cohort.ParticipantEnrolled", first=10)
    assert len(enrolled.items) == 2 and same.items == enrolled.items
    at = mine.items[0].recorded_at
    window = await audit_trail(pool, since=at, until=at + timedelta(microseconds=1), first=50)
    assert {e.position for e in mine.items} <= {e.position for e in window.items}
    assert all(e.recorded_at == at for e in window.items)
    assert (await audit_trail(pool, actor="nobody", first=5)) == Page((), False, None)


async def test_projection_status_reports_every_read_model(pool, store, runner):
    await settled(runner, store)
    statuses = await projection_status(pool)
    assert len(statuses) == 7 and all(s.lag_events == 0 for s in statuses)


async def test_programmes_list_by_name_within_scope_and_status(pool, store, runner, story):
    ids = [await story.programme(name=f"Scoped {i}") for i in range(3)]
    await story.app.close_programme(admin(), ids[2])
    await settled(runner, store)
    page = await list_programmes(pool, scope=set(ids), first=2)
    assert [v.name for v in page.items] == ["Scoped 0", "Scoped 1"] and page.has_next
    page = await list_programmes(pool, scope=set(ids), first=2, after=page.end_cursor)
    assert [(v.name, v.status) for v in page.items] == [("Scoped 2", "CLOSED")]
    assert not page.has_next
    active = await list_programmes(pool, scope=set(ids), status="ACTIVE", first=10)
    assert [v.id for v in active.items] == ids[:2]
    view = active.items[0]
    assert view.outcome_measures == ("HHI", "WEMWBS")
    assert view.required_consent_purposes == (PURPOSE,)
    assert view.min_facilitators_per_cohort == 2 and view.attendance_rate is None


async def test_a_given_consent_past_its_valid_until_reads_expired_in_the_read_models(
    pool, store, runner, story, clock  # noqa: F811
):
    person = await story.person("Expiring", valid_until=TODAY + timedelta(days=3))
    await settled(runner, store)

    on_time = (await get_participants(pool, [person], today=TODAY))[person]
    later = (await get_participants(pool, [person], today=TODAY + timedelta(days=4)))[person]
    history = await consent_history(pool, person, as_of=NOW + timedelta(days=4))

    assert [c.state for c in on_time.consents] == ["GIVEN"]
    assert [c.state for c in later.consents] == ["EXPIRED"]
    assert [s.state for s in history.states_as_of] == ["EXPIRED"]


async def test_enrol_when_required_consent_expired_is_refused_like_a_withdrawn_one(
    story, clock  # noqa: F811
):
    from program.domain import ConsentRequired

    programme = await story.programme()
    cohort = await story.cohort(programme)
    person = await story.person("Lapsed", valid_until=TODAY + timedelta(days=1),
                                programme_id=programme)
    clock.at = NOW + timedelta(days=2)
    with pytest.raises(ConsentRequired):
        await story.app.enrol_participant(admin(), cohort, person)


async def test_corrections_show_in_the_dashboards(pool, store, runner, story, clock):  # noqa: F811
    programme = await story.programme()
    cohort, (a, *_), sessions = await story.running_cohort(programme, people=2, capacity=2)
    await story.attend(cohort, sessions[0], {a: "ABSENT_UNEXCUSED"})
    await story.app.record_outcome(admin(), a, cohort, "HHI", "BASELINE", 20)
    clock.at = NOW + timedelta(days=400)
    await story.app.correct_attendance(admin(), cohort, sessions[0], a, "PRESENT", "was late")
    await story.app.amend_outcome(admin(), a, cohort, "HHI", "BASELINE", 22, "typo")
    moved = NOW + timedelta(days=500)
    await story.app.reschedule_session(admin(), cohort, sessions[1], moved)
    await story.app.cancel_session(admin(), cohort, sessions[2], "room flooded")
    await story.app.update_programme(admin(), programme, "Fortnightly now")
    clock.at = NOW

    view = await cohort_view(pool, runner, store, cohort)
    assert (view.attendance_present, view.attendance_recorded) == (1, 1)
    assert [s.id for s in view.sessions] == [sessions[0], sessions[1]]  # the cancelled one gone
    assert view.sessions[1].starts_at == moved
    (programme_view,) = (await get_programmes(pool, [programme])).values()
    assert programme_view.description == "Fortnightly now"
