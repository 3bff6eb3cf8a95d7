"""Every event name a projection handles is one the domain records, or once recorded.

Projections dispatch on the stored event's kind (``Cohort.ParticipantEnrolled``, the
topic after the module). Rename an event class and a projection keyed on its old name
would skip it silently: this test names the projection and the kind instead. The same
goes for a kind a projection compares against inside ``apply`` (``e.kind == "…"``): every
string in a projection module shaped like ``Aggregate.Event`` must be a kind too.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re

from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.utils import _topic_cache, get_topic

import program.domain
from program.projections.base import Projection, kind_of
from program.projections.registry import all_projections


def _is_event(obj: object) -> bool:
    return isinstance(obj, type) and issubclass(obj, DomainEvent) and obj.__name__ != "Event"


def _aggregates(module: object) -> list[type[Aggregate]]:
    return [c for c in vars(module).values() if isinstance(c, type) and issubclass(c, Aggregate)
            and c.__module__ == module.__name__]  # type: ignore[attr-defined]


def domain_event_kinds() -> set[str]:
    """The kind of every event class an aggregate in ``program.domain`` defines, and of
    every old topic registered for a renamed or moved one (still in the log)."""
    kinds = set()
    for info in pkgutil.iter_modules(program.domain.__path__):
        module = importlib.import_module(f"{program.domain.__name__}.{info.name}")
        for cls in _aggregates(module):
            kinds.update(kind_of(get_topic(e)) for e in vars(cls).values() if _is_event(e))
    kinds.update(kind_of(topic) for topic, obj in list(_topic_cache.items())
                 if topic.startswith(f"{program.domain.__name__}.") and _is_event(obj))
    return kinds


def unknown_kinds(projection: Projection, known: set[str]) -> list[str]:
    return sorted(set(projection.handles or ()) - known)


def named_kinds(source: str, aggregates: set[str]) -> set[str]:
    """Every string constant in ``source`` that reads ``<an aggregate>.<Name>``."""
    shape = re.compile(rf"^(?:{'|'.join(map(re.escape, sorted(aggregates)))})\.[A-Z]\w*$")
    return {node.value for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and shape.match(node.value)}


def test_domain_event_kinds_when_collected_include_every_aggregate() -> None:
    kinds = domain_event_kinds()
    for expected in ("Programme.Created", "Cohort.ParticipantEnrolled", "Consent.Given"):
        assert expected in kinds
    assert {k.partition(".")[0] for k in kinds} >= {
        "Programme", "Cohort", "Facilitator", "Participant", "Consent"}


def test_projections_when_checked_handle_only_event_names_the_domain_has() -> None:
    known = domain_event_kinds()
    unknown = {p.name: unknown_kinds(p, known) for p in all_projections()}
    assert {name: kinds for name, kinds in unknown.items() if kinds} == {}


def test_projection_when_it_handles_a_renamed_event_is_caught() -> None:
    class Stale(Projection):
        name = "stale"
        handles = frozenset({"Cohort.ParticipantEnrolled", "Cohort.ParticipantEnroled"})

    assert unknown_kinds(Stale(), domain_event_kinds()) == ["Cohort.ParticipantEnroled"]


def test_projection_modules_when_read_name_only_event_kinds_the_domain_has() -> None:
    known = domain_event_kinds()
    aggregates = {k.partition(".")[0] for k in known}
    unknown = {}
    for projection in all_projections():
        source = inspect.getsource(inspect.getmodule(type(projection)))  # type: ignore[arg-type]
        if stray := sorted(named_kinds(source, aggregates) - known):
            unknown[projection.name] = stray
    assert unknown == {}


def test_a_misspelt_kind_inside_apply_when_read_is_caught() -> None:
    source = 'def apply(e):\n    if e.kind == "Consent.Opend":\n        return "Consent.Given"\n'
    assert named_kinds(source, {"Consent"}) - domain_event_kinds() == {"Consent.Opend"}
