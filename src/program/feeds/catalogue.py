"""The public event catalogue: one JSON Schema per versioned type, and an AsyncAPI 3.0
document describing the channels. This is the contract partners code against; a type
never changes once published (a change is a new ``.v2`` type beside it).

Payloads are small and carry no name, contact detail or free text: a person appears
only as the partner's pseudonym (``participant``, also the CloudEvents ``subject``).
"""

from __future__ import annotations

from typing import Any

from program.domain.partner import FEED_TYPE_PREFIX, PUBLIC_EVENT_TYPES

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_BASE = "/feeds/schemas/"
PSEUDONYM = {"type": "string", "pattern": "^psn_[a-z2-7]{26}$",
             "description": "The person, as this partner's stable pseudonym."}
UUID_ = {"type": "string", "format": "uuid"}
_COHORT = {"programmeId": UUID_, "cohortId": UUID_}

_DATA: dict[str, tuple[str, dict[str, Any]]] = {
    "participant.enrolled.v1": (
        "A person took a place in a cohort (directly, or promoted from its waitlist).",
        {"participant": PSEUDONYM, **_COHORT, "fromWaitlist": {"type": "boolean"}}),
    "participant.waitlisted.v1": (
        "A person joined a full cohort's waitlist.",
        {"participant": PSEUDONYM, **_COHORT, "position": {"type": "integer", "minimum": 1}}),
    "participant.left.v1": (
        "A person left a cohort or its waitlist (withdrawn, or their consent ended).",
        {"participant": PSEUDONYM, **_COHORT}),
    "attendance.recorded.v1": (
        "Attendance of a person at one session.",
        {"participant": PSEUDONYM, **_COHORT, "sessionId": UUID_,
         "status": {"enum": ["PRESENT", "ABSENT_EXCUSED", "ABSENT_UNEXCUSED"]}}),
    "outcome.recorded.v1": (
        "An outcome score (e.g. Herth Hope Index) at a timepoint.",
        {"participant": PSEUDONYM, **_COHORT,
         "measure": {"type": "string", "maxLength": 200},
         "timepoint": {"enum": ["BASELINE", "FOLLOW_UP"]},
         "score": {"type": "number", "minimum": 0}}),
    "consent.withdrawn.v1": (
        "GDPR Art. 19 notice: a consent this partner received data under has ended "
        "(withdrawn by the person, revoked or expired). Stop processing and delete.",
        {"participant": PSEUDONYM, "purpose": {"type": "string", "maxLength": 200},
         "change": {"enum": ["WITHDRAWN", "REVOKED", "EXPIRED"]}}),
    "participant.erased.v1": (
        "GDPR Art. 17/19 notice: the person was erased. Delete what you hold about them.",
        {"participant": PSEUDONYM}),
    "cohort.started.v1": ("A cohort began running.",
                          {**_COHORT, "startedOn": {"type": "string", "format": "date"}}),
    "cohort.completed.v1": ("A cohort finished.", dict(_COHORT)),
    "cohort.cancelled.v1": ("A cohort was cancelled.", dict(_COHORT)),
}
_REQUIRED_OPTIONAL = {"fromWaitlist"}

ENVELOPE: dict[str, Any] = {
    "type": "object",
    "required": ["specversion", "id", "source", "type", "time", "sequence",
                 "datacontenttype", "dataschema", "data"],
    "properties": {
        "specversion": {"const": "1.0"},
        "id": {"type": "string", "minLength": 1},
        "source": {"type": "string", "minLength": 1},
        "type": {"type": "string"},
        "time": {"type": "string", "format": "date-time"},
        "subject": PSEUDONYM,
        "sequence": {"type": "integer", "minimum": 1,
                     "description": "This partner's own gap-free position of the event."},
        "datacontenttype": {"const": "application/json"},
        "dataschema": {"type": "string"},
    },
}


def short(event_type: str) -> str:
    return event_type.removeprefix(FEED_TYPE_PREFIX)


def schema_of(event_type: str) -> dict[str, Any]:
    """The JSON Schema of one whole CloudEvent of this type (envelope and data)."""
    description, props = _DATA[short(event_type)]
    data = {"type": "object", "additionalProperties": False, "properties": props,
            "required": [k for k in props if k not in _REQUIRED_OPTIONAL]}
    schema = {
        "$schema": SCHEMA_DIALECT,
        "$id": SCHEMA_BASE + short(event_type) + ".json",
        "title": event_type,
        "description": description,
        **ENVELOPE,
        "additionalProperties": False,
    }
    schema["properties"] = {**ENVELOPE["properties"], "type": {"const": event_type}, "data": data}
    return schema


def schemas() -> dict[str, dict[str, Any]]:
    return {t: schema_of(t) for t in PUBLIC_EVENT_TYPES}


def asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every channel and message."""
    messages = {
        short(t).replace(".", "_"): {
            "name": t, "title": t, "summary": _DATA[short(t)][0],
            "contentType": "application/cloudevents+json",
            "payload": {"$ref": f"#/components/schemas/{short(t).replace('.', '_')}"},
        }
        for t in PUBLIC_EVENT_TYPES
    }
    channels = {
        "webhook": {"address": "{partnerWebhookUrl}",
                    "description": "POSTed as application/cloudevents-batch+json, signed per "
                                   "Standard Webhooks, in order per endpoint.",
                    "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in messages}},
        "stream": {"address": "/feeds/stream",
                   "description": "Server-sent events; resume with Last-Event-ID (= sequence).",
                   "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in messages}},
        "pull": {"address": "/feeds/events",
                 "description": "GET ?after=SEQUENCE&limit=N: a page as "
                                "application/cloudevents-batch+json.",
                 "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in messages}},
    }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "program partner feeds", "version": "1.0.0",
                 "description": "Consent-filtered, pseudonymous events about the people a "
                                "partner works with, as CloudEvents 1.0."},
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": {
            "receiveWebhook": {"action": "receive", "channel": {"$ref": "#/channels/webhook"},
                               "messages": [{"$ref": f"#/channels/webhook/messages/{m}"}
                                            for m in messages]},
            "receiveStream": {"action": "receive", "channel": {"$ref": "#/channels/stream"}},
            "receivePull": {"action": "receive", "channel": {"$ref": "#/channels/pull"}},
        },
        "components": {
            "messages": messages,
            "schemas": {short(t).replace(".", "_"): _without_meta(schema_of(t))
                        for t in PUBLIC_EVENT_TYPES},
        },
    }


def _without_meta(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k not in ("$schema", "$id")}
