"""Given / when / then helpers for aggregate unit tests."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest
from eventsourcing.domain import Aggregate

from program.domain import DomainError

A = TypeVar("A", bound=Aggregate)
E = TypeVar("E", bound=DomainError)

_ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic"}


def given(aggregate: A) -> A:
    """The given commands ran; collect their events so 'then' sees only new ones."""
    aggregate.collect_events()
    return aggregate


def then(aggregate: Aggregate) -> list[tuple[str, dict[str, Any]]]:
    """The new events, as (event name, attributes without the envelope)."""
    return [summary(e) for e in aggregate.collect_events()]


def summary(domain_event: Any) -> tuple[str, dict[str, Any]]:
    data = {k: v for k, v in vars(domain_event).items() if k not in _ENVELOPE}
    return type(domain_event).__name__, data


def names(events: Sequence[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


def event_classes(aggregate_cls: type[Aggregate]) -> set[str]:
    """Names of every event class the aggregate defines.

    Skips the base ``Event`` and the ``Created`` class every subclass inherits
    from ``Aggregate`` unchanged when its own created event has another name.
    """
    inherited = {f.name for f in dataclasses.fields(Aggregate.Created)}
    return {
        name
        for name, value in vars(aggregate_cls).items()
        if isinstance(value, type)
        and issubclass(value, aggregate_cls.Event)
        and name != "Event"
        and not (name == "Created" and {f.name for f in dataclasses.fields(value)} == inherited)
    }


def _state(aggregate: Aggregate) -> dict[str, Any]:
    return copy.deepcopy({k: v for k, v in vars(aggregate).items() if k != "_pending_events"})


@contextmanager
def rejected(aggregate: Aggregate, error: type[E]) -> Iterator[pytest.ExceptionInfo[E]]:
    """Then the command raises ``error``, triggers no event and changes nothing."""
    before = _state(aggregate)
    with pytest.raises(error) as info:
        yield info
    assert aggregate.collect_events() == []
    assert _state(aggregate) == before
    assert info.value.code == error.code
