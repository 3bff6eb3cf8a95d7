"""The CloudEvents 1.0 envelope of a feed event (structured JSON, via the CloudEvents SDK).

``id`` is derived from the partner, the stored event and the public type, so it is the
same on every redelivery and differs between partners (two partners cannot join their
feeds on it). ``sequence`` is an Integer extension attribute: the partner's own
gap-free position.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from program.feeds.catalogue import SCHEMA_BASE, short

SOURCE = "urn:program:feeds"
BATCH_CONTENT_TYPE = "application/cloudevents-batch+json"
EVENT_CONTENT_TYPE = "application/cloudevents+json"
_ID_NAMESPACE = UUID("b3f4a7a2-53f1-4bd6-8f0e-4c6f1d2b9a10")  # never change: ids derive from it
_format = JSONFormat()


def feed_event_id(partner_id: UUID, source_event_id: UUID, event_type: str) -> str:
    return str(uuid5(_ID_NAMESPACE, f"{partner_id}:{source_event_id}:{event_type}"))


def envelope(
    *,
    partner_id: UUID,
    source_event_id: UUID,
    event_type: str,
    time: datetime,
    sequence: int,
    subject: str | None,
    data: dict[str, Any],
) -> tuple[str, bytes]:
    """The event's id and its structured-mode JSON."""
    event_id = feed_event_id(partner_id, source_event_id, event_type)
    attributes: dict[str, Any] = {
        "id": event_id,
        "source": SOURCE,
        "type": event_type,
        "time": time,
        "sequence": sequence,
        "datacontenttype": "application/json",
        "dataschema": SCHEMA_BASE + short(event_type) + ".json",
    }
    if subject is not None:
        attributes["subject"] = subject
    return event_id, _format.write(CloudEvent(attributes, data))


def batch(bodies: list[bytes]) -> bytes:
    """A JSON array of structured events (``application/cloudevents-batch+json``)."""
    return b"[" + b",".join(bodies) + b"]"
