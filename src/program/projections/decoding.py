"""Decode stored events for projections, fast and faithfully.

The mapper builds a domain event through an object hook called for every JSON object:
about 8 µs an event. For event classes that cannot upcast (``class_version`` 1, as the
mapper would check) the state is parsed in one C call and only the transcoded values
(``{"_type_": …, "_data_": …}``) are converted, with the same transcodings the mapper
uses: about 2 µs. Anything else (an upcastable class, a cipher or a compressor, a
transcoder without named transcodings) goes through the mapper.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import resolve_topic

try:  # asyncpg's UUID: built and hashed in C, equal to and hashing as uuid.UUID
    from asyncpg.pgproto.pgproto import UUID as FastUUID
except ImportError:  # pragma: no cover
    from uuid import UUID as FastUUID  # type: ignore[assignment]

try:  # msgspec (a dependency of litestar) parses JSON several times faster
    from msgspec.json import Decoder as _MsgspecDecoder

    _fast_loads = _MsgspecDecoder().decode

    def _loads(data: bytes) -> Any:
        try:
            return _fast_loads(data)
        except ValueError:  # msgspec refuses an escaped unpaired surrogate; json does not
            return json.loads(data.decode())

except ImportError:  # pragma: no cover
    def _loads(data: bytes) -> Any:
        return json.loads(data.decode())


class EventView:
    """A stored event's fields as read-only attributes, like the mapper's domain event."""

    __slots__ = ("__dict__",)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("stored events are read-only")

    def __repr__(self) -> str:
        return f"EventView({self.__dict__!r})"


_new = object.__new__
_set = object.__setattr__


def _decode(value: Any, names: dict[str, Callable[[Any], Any]]) -> Any:
    kind = type(value)
    if kind is dict:
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            return names[value["_type_"]](value["_data_"])
        return {k: _decode(v, names) for k, v in value.items()}
    if kind is list:
        return [_decode(v, names) for v in value]
    return value


def _decoders(transcoder: Any) -> dict[str, Callable[[Any], Any]] | None:
    """Each named transcoding's decode, as a C function where it is one already."""
    from eventsourcing.persistence import DatetimeAsISO, UUIDAsHex

    from program.store.mapping import DateAsISO

    names = getattr(transcoder, "names", None)
    if names is None:
        return None
    exact: dict[type, Callable[[Any], Any]] = {
        UUIDAsHex: FastUUID, DatetimeAsISO: datetime.fromisoformat, DateAsISO: date.fromisoformat,
    }
    return {name: exact.get(type(t), t.decode) for name, t in names.items()}


def _view(data: dict[str, Any], names: dict[str, Callable[[Any], Any]], originator_id: Any,
          originator_version: int) -> EventView:
    for key, value in data.items():  # replaces values only: the dict keeps its size
        kind = type(value)
        if kind is dict or kind is list:
            data[key] = _decode(value, names)
    data["originator_id"] = originator_id
    data["originator_version"] = originator_version
    view = _new(EventView)
    _set(view, "__dict__", data)
    return view


class EventDecoder:
    """``decode(…)`` gives an object with the event's fields, like the mapper's event."""

    def __init__(self, mapper: Any) -> None:
        self.mapper = mapper
        self._names = _decoders(getattr(mapper, "transcoder", None))
        if getattr(mapper, "cipher", None) or getattr(mapper, "compressor", None):
            self._names = None
        self._fast: dict[str, bool] = {}

    def decode(self, topic: str, state: bytes, originator_id: Any, originator_version: int) -> Any:
        fast = self._fast.get(topic)
        if fast is None:
            fast = self._fast[topic] = self._can_read_directly(topic)
        if fast:
            data = _loads(state)
            if "class_version" not in data:
                return _view(data, self._names, originator_id, originator_version)  # type: ignore[arg-type]
        return self.mapper.to_domain_event(
            StoredEvent(originator_id, originator_version, topic, state)
        )

    def _can_read_directly(self, topic: str) -> bool:
        if self._names is None:
            return False
        try:
            cls = resolve_topic(topic)
        except Exception:  # an unknown topic: let the mapper raise its own error
            return False
        return getattr(cls, "class_version", 1) == 1
