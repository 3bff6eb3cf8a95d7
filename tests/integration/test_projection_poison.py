"""Logs that already hold values PostgreSQL's text and jsonb refuse still project fully."""

from __future__ import annotations

import base64
import random
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from program.application.services import Application
from program.projections.cohort_dashboard import get_cohorts
from program.projections.facilitator_load import get_facilitators
from program.projections.programme_overview import get_programmes
from program.projections.rebuild import rebuild
from program.store.eventstore import EventStore
from program.store.keys import KeyStore
from program.store.mapping import create_mapper
from program.store.repository import Repository
from test_projection_support import (  # noqa: F401  (fixtures)
    NOW,
    TODAY,
    Story,
    admin,
    app,
    caught_up,
    clock,
    repository,
    running,
)

NUL = "~NUL~"  # placeholders the boundary accepts, swapped for poison as the event is stored
HUGE = "~HUGE~"
_HUGE = base64.b64encode(random.Random(6).randbytes(750_000))  # 1 MB that does not compress
# A consent method is one of a closed set now, but an older log may hold anything there.
POISONED_METHOD = "in-person"


class Poisoning:
    """A mapper that stores what an old log may hold: a NUL, or a 1 MB value."""

    def __init__(self) -> None:
        self.mapper = create_mapper()

    def to_stored_event(self, domain_event: Any) -> Any:
        stored = self.mapper.to_stored_event(domain_event)
        state = stored.state.replace(NUL.encode(), b"\\u0000").replace(HUGE.encode(), _HUGE)
        state = state.replace(b'"in-person"', b'"in\\u0000person"')
        return type(stored)(stored.originator_id, stored.originator_version, stored.topic, state)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.mapper, name)


@pytest.fixture
def story(app, clock) -> Story:  # noqa: F811
    return Story(app, clock)


@pytest.fixture
def poisoned(store: EventStore, pool: asyncpg.Pool, clock) -> Story:  # noqa: F811
    return Story(Application(Repository(store, Poisoning()), KeyStore(pool), clock=clock), clock)


async def poison_everything(story: Story) -> dict[str, Any]:
    """Every text field the issue names, with a NUL in it and, where indexed, 1 MB."""
    a = story.app
    programme = await story.programme(name=f"Hope{NUL}group")
    huge = await story.programme(name=f"Huge {HUGE}")
    await a.create_programme(admin(), f"Desc{NUL}", f"long{NUL}text", [f"purpose{NUL}"], [], 2)
    facilitator = await story.facilitator(name=f"Sam{NUL}")
    await story.facilitator(name=f"Big{HUGE}")
    cohort = await story.cohort(programme, name=f"Tues{NUL}day")
    planned = (await a.plan_cohort(admin(), programme, "Wed", "ENROLLED", 3,
                                   TODAY + timedelta(days=7), f"Hall{NUL}"))["cohort_id"]
    await a.cancel_cohort(admin(), planned, f"no{NUL}room")
    # Purposes come from the catalogue of the person's programme: declare the poisoned ones.
    catalogue = (await a.create_programme(admin(), "Catalogue", "", None, [], 2,
                                          [f"research{NUL}", f"p{HUGE}"]))["programme_id"]
    await a.activate_programme(admin(), catalogue)
    person = await story.person(name="Alex", programme_id=catalogue)
    await a.give_consent(admin(), person, f"research{NUL}", f"notice{NUL}", "v1", "consent",
                         POISONED_METHOD, [f"eval{NUL}"], TODAY + timedelta(days=9), f"en{NUL}")
    await a.give_consent(admin(), person, f"p{HUGE}", "n", "v1", "consent", "web-form",
                         [f"r{HUGE}"], None, "en")
    await a.withdraw_consent(admin(), person, f"research{NUL}", POISONED_METHOD, f"why{NUL}")
    return {"programme": programme, "huge": huge, "facilitator": facilitator, "cohort": cohort,
            "person": person}


async def test_a_log_holding_nul_and_huge_values_projects_fully(
    pool, store, repository, db_url, poisoned, story  # noqa: F811
):
    ids = await poison_everything(poisoned)
    after = await story.programme(name="After the poison")
    async with running(pool, store, repository, db_url) as runner:
        head = await caught_up(runner, store)
        assert all(getattr(s, "failure", None) is None for s in await runner.status())
    programmes = await get_programmes(pool, [ids["programme"], ids["huge"], after])
    assert programmes[ids["programme"]].name == "Hopegroup"
    assert len(programmes[ids["huge"]].name) <= 600
    assert programmes[after].name == "After the poison"
    cohorts = await get_cohorts(pool, [ids["cohort"]], now=NOW)
    assert cohorts[ids["cohort"]].name == "Tuesday"
    facilitators = await get_facilitators(pool, [ids["facilitator"]], today=TODAY, now=NOW)
    # A facilitator's name is ciphertext in the log: no poison reaches the read model.
    assert facilitators[ids["facilitator"]].personal_data.startswith("aesgcm1:")
    assert await pool.fetchval("SELECT count(*) FROM rm_audit_trail.entries") == head

    live = await pool.fetch("SELECT * FROM rm_consent_history.changes ORDER BY position")
    await rebuild(pool, store, repository)  # a rebuild applies the same events alike
    assert await pool.fetch("SELECT * FROM rm_consent_history.changes ORDER BY position") == live
