"""Per-request DataLoaders: each batches every lookup of one kind into one statement."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Hashable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from strawberry.dataloader import DataLoader

from program.api.graphql.once import once
from program.projections.cohort_dashboard import (
    CohortDashboardProjection,
    CohortView,
    Dashboards,
    cohort_members,
    get_dashboards,
)
from program.projections.facilitator_load import (
    FacilitatorLoadProjection,
    FacilitatorView,
    get_facilitators,
)
from program.projections.participant_state import (
    ParticipantStateProjection,
    ParticipantView,
    get_participants,
)
from program.projections.programme_overview import (
    ProgrammeOverviewProjection,
    ProgrammeView,
    get_programmes,
)
from program.store.reads import Reader

if TYPE_CHECKING:
    from program.bootstrap import Services

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class RequestLoader(DataLoader[K, V]):
    """A DataLoader that can also read one key at once."""

    async def load_now(self, key: K) -> V:
        """The value without waiting a turn of the event loop for other keys to batch
        with: for a query's only root field, which nothing runs beside. Kept for the rest
        of the request as ``load`` keeps it."""
        cached = self.cache_map.get(key)
        if cached is not None:
            return await cached
        value = (await self.load_fn([key]))[0]
        kept = asyncio.get_running_loop().create_future()  # as ``prime`` keeps it
        kept.set_result(value)
        self.cache_map.set(key, kept)
        return value


def _loader(owner: Loaders, fetch: Callable[[Loaders, list[K]], Awaitable[Mapping[K, V]]]
            ) -> RequestLoader[K, V | None]:
    """A loader reaching back to its ``Loaders`` weakly: a cycle between them would keep
    every request's loaders, with all they read, until a garbage collection, and
    collecting hundreds of requests' worth at once was the longest pause a request met."""
    owner_ref = weakref.ref(owner)

    async def load(keys: list[K]) -> list[V | None]:
        loaders = owner_ref()
        if loaders is None:  # the request is over
            raise RuntimeError("the request's loaders are gone")
        found = await fetch(loaders, keys)
        return [found.get(k) for k in keys]

    return RequestLoader(load_fn=load)


class Loaders:
    """One request's loaders; ``now`` is fixed per request so every field agrees on it.

    ``reads`` records what they read, for the result cache: per read model, the entities
    (a cohort dashboard reads its cohort's rows and its programme's), or None for any
    row of it."""

    def __init__(self, services: Services, now: datetime) -> None:
        self.services = services
        self.now = now
        self.today: date = now.date()
        self.reads: dict[str, set[str] | None] = {}
        self._dashboards: list[Dashboards] = []  # what the cohorts loader read, with heads

    @property
    def reader(self) -> Reader:
        """Where the loaders' single read statements go: the read lane, if there is one."""
        return self.services.reads or self.services.pool

    # Each loader is made when first used: a query touches one or two of them.

    @once
    def programmes(self) -> RequestLoader[UUID, ProgrammeView | None]:
        return _loader(self, lambda me, ids: me._all(ProgrammeOverviewProjection.name,
                                                     get_programmes(me.reader, ids)))

    @once
    def cohorts(self) -> RequestLoader[UUID, CohortView | None]:
        return _loader(self, Loaders._cohorts)

    @once
    def facilitators(self) -> RequestLoader[UUID, FacilitatorView | None]:
        return _loader(self, lambda me, ids: me._all(FacilitatorLoadProjection.name, get_facilitators(
            me.reader, ids, today=me.today, now=me.now)))

    @once
    def participants(self) -> RequestLoader[UUID, ParticipantView | None]:
        return _loader(self, lambda me, ids: me._all(ParticipantStateProjection.name, get_participants(
            me.reader, ids, today=me.today)))

    @once
    def personal_data(self) -> RequestLoader[tuple[UUID, str], dict[str, Any] | None]:
        return _loader(self, Loaders._decrypt)

    @once
    def members(self) -> RequestLoader[tuple[UUID, str, int | None], tuple[UUID, ...] | None]:
        """(cohort id, ENROLLED or WAITLISTED, first) -> those people in order."""
        return _loader(self, Loaders._members)

    async def _members(
        self, keys: list[tuple[UUID, str, int | None]]
    ) -> dict[tuple[UUID, str, int | None], tuple[UUID, ...]]:
        """One statement per distinct ``first`` (a query usually asks with one)."""
        self._read(CohortDashboardProjection.name, [cid for cid, _, _ in keys])
        out: dict[tuple[UUID, str, int | None], tuple[UUID, ...]] = {}
        for first in dict.fromkeys(k[2] for k in keys):
            pairs = [(cid, standing) for cid, standing, f in keys if f == first]
            found = await cohort_members(self.reader, pairs, first)
            out.update({(cid, standing, first): people for (cid, standing), people in found.items()})
        return out

    async def _cohorts(self, ids: list[UUID]) -> Mapping[UUID, CohortView]:
        found = await get_dashboards(self.reader, ids, now=self.now)
        self._read(CohortDashboardProjection.name,
                   [*ids, *(v.programme_id for v in found.cohorts.values())])
        self._dashboards.append(found)
        return found.cohorts

    def known_members(self, cohort_id: UUID, standing: str, first: int | None
                      ) -> tuple[UUID, ...] | None:
        """A cohort's people as read with its dashboard, when that read holds them."""
        for dashboards in self._dashboards:
            if (people := dashboards.members(cohort_id, standing, first)) is not None:
                return people
        return None

    def _read(self, model: str, ids: list[UUID] | None) -> None:
        if ids is None:
            self.reads[model] = None
        elif (known := self.reads.setdefault(model, set())) is not None:
            known.update(str(i) for i in ids)

    async def _all(self, model: str, fetch: Awaitable[V]) -> V:
        self._read(model, None)
        return await fetch

    def read_sets(self) -> dict[str, frozenset[str] | None]:
        return {m: None if ids is None else frozenset(ids) for m, ids in self.reads.items()}

    async def _decrypt(self, keys: list[tuple[UUID, str]]) -> dict[tuple[UUID, str], Any]:
        ids = [pid for pid, _ in keys]
        plain = await self.services.application.personal_data(ids, dict(keys))
        return {(pid, ct): plain.get(pid) for pid, ct in keys}
