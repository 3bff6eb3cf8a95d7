"""Fixtures for domain unit tests: the store's JSON mapper, so tests can check
that every event (and snapshot) survives serialisation unchanged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper

from program.store.mapping import create_mapper


# Exact types only: a StrEnum member or a tuple would encode, but decode as
# something else (plain str, list), so the decoded event would differ.
_SCALARS = (str, int, float, bool, type(None), UUID, date, Decimal)


def assert_plain(value: Any, path: str = "event") -> None:
    if type(value) is list:
        for i, item in enumerate(value):
            assert_plain(item, f"{path}[{i}]")
    elif type(value) is dict:
        for key, item in value.items():
            assert type(key) is str, f"{path} has a non-str key {key!r}"
            assert_plain(item, f"{path}.{key}")
    elif type(value) is datetime:
        assert value.utcoffset() is not None, f"{path} is a naive datetime"
    else:
        assert type(value) in _SCALARS, f"{path} is a {type(value).__name__}"


@pytest.fixture(scope="session")
def mapper() -> Mapper[UUID]:
    """The mapper the event store itself uses."""
    return create_mapper()


@pytest.fixture
def round_trip(mapper: Mapper[UUID]) -> Callable[[Any], Any]:
    """Encode and decode one event; assert it comes back equal and plain."""

    def _round_trip(domain_event: Any) -> Any:
        assert_plain(vars(domain_event), type(domain_event).__qualname__)
        decoded = mapper.to_domain_event(mapper.to_stored_event(domain_event))
        assert type(decoded) is type(domain_event)
        assert decoded == domain_event
        assert vars(decoded) == vars(domain_event)
        return decoded

    return _round_trip


@pytest.fixture
def snapshot_round_trip(mapper: Mapper[UUID]) -> Callable[[Aggregate], Aggregate]:
    """Snapshot an aggregate through the mapper and rebuild it."""

    def _snapshot_round_trip(aggregate: Aggregate) -> Aggregate:
        snapshot = type(aggregate).Snapshot.take(aggregate)
        decoded = mapper.to_domain_event(mapper.to_stored_event(snapshot))
        restored = decoded.mutate(None)
        assert restored == aggregate
        return restored

    return _snapshot_round_trip
