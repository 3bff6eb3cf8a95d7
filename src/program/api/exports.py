"""Exports over HTTP.

- ``GET /subjects/{participant_id}/export[?format=json|html]`` (ADMIN): everything held
  about one person (GDPR Art. 15), recorded in the audit trail before it is built;
- ``GET /exports/consent-changes`` and ``GET /exports/audit-trail`` (AUDITOR, ADMIN):
  ``?format=csv|jsonl`` and the filters of the GraphQL queries (``participantId``,
  ``purpose``; ``aggregateId``, ``actor``, ``eventType``; ``since``, ``until`` in ISO
  8601 with a time zone), streamed in constant memory. ``eventType`` is an event type
  the domain records, as the audit trail spells it (``Cohort.ParticipantEnrolled``, or
  ``ParticipantEnrolled`` of any aggregate) or as GraphQL's ``AuditEventType`` does
  (``COHORT_PARTICIPANT_ENROLLED``); another is refused, listing the valid ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from litestar import MediaType, Request, get
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Response, Stream

from program.api.auth import Unauthenticated, actor_from_authorization
from program.api.graphql.enums import AuditEventType
from program.api.observability import current_request_id
from program.application.context import Actor, CommandContext
from program.application.policy import Act, Forbidden, role_may
from program.bootstrap import Services
from program.domain import limits
from program.domain.errors import DomainError, InvalidInput
from program.domain.event_types import EVENT_TYPES
from program.domain.values import check_datetime, check_text
from program.exports import records
from program.exports.subject import ReadModelsBehind, export_subject
from program.exports.subject_html import render
from program.store.errors import AggregateNotFound


def _problem(status: int, code: str, message: str) -> Response[Any]:
    return Response({"code": code, "message": message}, status_code=status,
                    media_type=MediaType.JSON)


def _caller(request: Request[Any, Any, Any], state: State, act: Act
            ) -> tuple[Actor, Services] | Response[Any]:
    try:
        actor = actor_from_authorization(request.headers.get("authorization"), state["jwt_secret"])
    except Unauthenticated as exc:
        return _problem(401, "UNAUTHENTICATED", str(exc))
    if not role_may(actor, act):
        return _problem(403, "FORBIDDEN", f"{actor.role.value} may not {act.value}")
    services: Services | None = state.get("services")
    if services is None:
        return _problem(503, "SERVICE_UNAVAILABLE", "the database is not reachable yet")
    return actor, services


@get("/subjects/{participant_id:uuid}/export")
async def subject_export(request: Request[Any, Any, Any], state: State,
                         participant_id: FromPath[UUID]) -> Response[Any]:
    """Everything held about one person, as JSON (default) or a readable page."""
    caller = _caller(request, state, Act.EXPORT_SUBJECT_DATA)
    if isinstance(caller, Response):
        return caller
    actor, services = caller
    fmt = request.query_params.get("format", "json")
    if fmt not in ("json", "html"):
        return _problem(400, "BAD_USER_INPUT", "format must be json or html")
    ctx = CommandContext(actor, request_id=current_request_id())
    try:
        document = (await export_subject(services, ctx, participant_id, fmt)).document
    except Forbidden as exc:
        return _problem(403, "FORBIDDEN", str(exc))
    except AggregateNotFound:
        return _problem(404, "NOT_FOUND", f"no participant with id {participant_id}")
    except ReadModelsBehind as exc:
        return _problem(503, exc.code, str(exc))
    except DomainError as exc:
        return _problem(400, exc.code, exc.message)
    name = f"subject-access-{participant_id}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"',
               "Cache-Control": "no-store"}
    if fmt == "html":
        return Response(render(document), media_type=MediaType.HTML, headers=headers)
    return Response(document, media_type=MediaType.JSON, headers=headers)


_EVENT_NAMES = {t.partition(".")[2] for t in EVENT_TYPES}


def _event_type(value: str | None) -> str | None:
    """An event type the domain records, as the audit trail spells it."""
    if value is None or value in EVENT_TYPES or value in _EVENT_NAMES:
        return value
    if value in AuditEventType.__members__:
        return str(AuditEventType[value].value)
    raise InvalidInput("eventType", f"{value!r} is not an event type the domain records; "
                       f"valid: {', '.join(EVENT_TYPES)}")


def _filter(request: Request[Any, Any, Any]) -> records.ExportFilter:
    params = request.query_params

    def text(name: str, limit_name: str) -> str | None:
        value = params.get(name)
        return None if value is None else check_text(value, name, limits.text_limit(limit_name))

    def uuid(name: str) -> UUID | None:
        value = params.get(name)
        try:
            return None if value is None else UUID(value)
        except ValueError:
            raise InvalidInput(name, "is not a valid id") from None

    def moment(name: str) -> datetime | None:
        value = params.get(name)
        if value is None:
            return None
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(name, "is not an ISO 8601 date-time") from None
        if at.utcoffset() is None:
            raise InvalidInput(name, "must include a time zone")
        return check_datetime(at, name)

    return records.ExportFilter(
        participant_id=uuid("participantId"), purpose=text("purpose", "purpose"),
        aggregate_id=uuid("aggregateId"), actor=text("actor", "actor"),
        event_type=_event_type(text("eventType", "event_type")), since=moment("since"),
        until=moment("until"), partner_id=uuid("partnerId"),
    )


async def _export(request: Request[Any, Any, Any], state: State, dataset: str) -> Response[Any]:
    caller = _caller(request, state, Act.EXPORT_RECORDS)
    if isinstance(caller, Response):
        return caller
    _, services = caller
    fmt = request.query_params.get("format", "csv")
    if fmt not in records.FORMATS:
        return _problem(400, "BAD_USER_INPUT", "format must be csv or jsonl")
    try:
        f = _filter(request)
    except InvalidInput as exc:
        return _problem(400, exc.code, exc.message)
    chosen = records.DATASETS[dataset]
    body: Callable[[], AsyncIterator[bytes]] = lambda: records.encoded(  # noqa: E731
        services.pool, chosen, f, fmt)
    name = f"{dataset}.{fmt}"
    return Stream(body(), media_type=records.FORMATS[fmt], headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@get("/exports/consent-changes")
async def export_consent_changes(request: Request[Any, Any, Any], state: State) -> Response[Any]:
    """Every consent change (filtered), as CSV or JSON Lines, for auditors and admins."""
    return await _export(request, state, "consent-changes")


@get("/exports/audit-trail")
async def export_audit_trail(request: Request[Any, Any, Any], state: State) -> Response[Any]:
    """The audit trail (filtered), as CSV or JSON Lines, for auditors and admins."""
    return await _export(request, state, "audit-trail")


@get("/exports/disclosures")
async def export_disclosures(request: Request[Any, Any, Any], state: State) -> Response[Any]:
    """The partner-feed disclosure log (filtered by participantId, partnerId, since, until),
    as CSV or JSON Lines, for auditors and admins."""
    return await _export(request, state, "disclosures")


def export_route_handlers() -> list[Callable[..., Awaitable[Any]] | Any]:
    return [subject_export, export_consent_changes, export_audit_trail, export_disclosures]
