"""Every GraphQL error leaves with ``extensions.code``; unexpected ones leave without internals."""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql.error import GraphQLError

from program.api.auth import Unauthenticated
from program.api.graphql.enums import valid_names
from program.application.idempotency import IdempotencyKeyReused
from program.application.policy import Forbidden
from program.domain.errors import DomainError
from program.projections.paging import InvalidQuery
from program.application.receipts import ReceiptNotFound
from program.exports.subject import ReadModelsBehind
from program.store.checkpoints import LedgerError, LedgerInconsistent
from program.store.errors import AggregateNotFound, VersionConflict
from program.store.outage import is_outage

log = logging.getLogger(__name__)

INTERNAL = "INTERNAL_SERVER_ERROR"
BAD_USER_INPUT = "BAD_USER_INPUT"
UNAVAILABLE = "SERVICE_UNAVAILABLE"
# Seconds a client should wait before retrying through an outage: the embedded server
# comes back in a second or two, a managed database's failover in tens of seconds.
RETRY_AFTER_S = 5


class NotFound(Exception):
    """A read model has no row with this id."""

    code = "NOT_FOUND"

    def __init__(self, kind: str, id: object) -> None:
        super().__init__(f"no {kind} with id {id}")


class NotCaughtUp(Exception):
    """The read models did not reach the requested position in time."""

    code = "NOT_CAUGHT_UP"

    def __init__(self, position: int, timeout: float) -> None:
        super().__init__(
            f"read models did not reach position {position} within {timeout:g} s; retry"
        )


class BadInput(Exception):
    """An argument the schema accepted but the API cannot use (e.g. first > 100)."""

    code = BAD_USER_INPUT


_KNOWN: tuple[type[BaseException], ...] = (
    Unauthenticated, Forbidden, DomainError, NotFound, NotCaughtUp, BadInput, InvalidQuery,
    IdempotencyKeyReused, LedgerError, LedgerInconsistent, ReceiptNotFound, ReadModelsBehind,
)


# graphql-core's words for a value outside an enum, as a literal or in a variable.
_NOT_IN_ENUM = re.compile(r"does not exist in '(\w+)' enum|Enum '(\w+)' cannot represent")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def details_of(error: DomainError) -> dict[str, Any]:
    """A domain error's details as the schema spells them: camelCase keys, plain values,
    and a ``field`` named as the client sent it (``validUntil``, not ``valid_until``)."""
    return _plain({_camel(k): _camel(v) if k == "field" and isinstance(v, str) else v
                   for k, v in error.details.items()})


def message_of(error: DomainError) -> str:
    """A domain error's message, naming its ``field`` as the client sent it."""
    field = error.details.get("field")
    if not isinstance(field, str) or "_" not in field:
        return error.message
    return error.template.format(**{**error.details, "field": _camel(field)})


def _bad_input(message: str) -> tuple[str, str, dict[str, Any]]:
    """A document or a variable the schema refused; a value outside an enum lists the
    enum's valid names."""
    found = _NOT_IN_ENUM.search(message)
    names = valid_names(found.group(1) or found.group(2)) if found else None
    if found is None or names is None:
        return BAD_USER_INPUT, message, {}
    enum = found.group(1) or found.group(2)
    return (BAD_USER_INPUT, f"{message} Valid {enum} values: {', '.join(names)}.",
            {"details": {"enum": enum, "validValues": names}})


def classify(error: GraphQLError) -> tuple[str, str, dict[str, Any]]:
    """The code, the message the client may see, and extra extensions."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        # Parse, validation (incl. depth/alias/token limits) and argument coercion errors.
        if error.path is None or isinstance(original, GraphQLError):
            return _bad_input(error.message)
        return INTERNAL, "Internal server error.", {}
    if isinstance(original, DomainError):
        return original.code, message_of(original), {"details": details_of(original)}
    if isinstance(original, _KNOWN):
        return str(original.code), str(original), {}  # type: ignore[attr-defined]
    if isinstance(original, AggregateNotFound):
        return "NOT_FOUND", str(original), {}
    if isinstance(original, VersionConflict):
        return "CONFLICT", "Someone else changed this at the same time; try again.", {}
    if is_outage(original):
        return (UNAVAILABLE, "The database is unavailable; retry shortly.",
                {"retryAfter": RETRY_AFTER_S})
    if error.path is None and isinstance(original, (ValueError, TypeError)):
        return _bad_input(error.message)  # a scalar or an enum refused a variable's value
    return INTERNAL, "Internal server error.", {}


def _plain(details: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, (str, int, float, bool, type(None))) else str(v)
            for k, v in details.items()}


def label(error: GraphQLError) -> None:
    """Give the error its code, in place; unexpected errors lose their message."""
    code, message, extra = classify(error)
    error.message = message
    error.extensions = {**(error.extensions or {}), **extra, "code": code}


def is_unexpected(error: GraphQLError) -> bool:
    return classify(error)[0] == INTERNAL


def process(errors: list[GraphQLError]) -> None:
    """Log, then label, every error of a result, whatever phase raised it.

    Unexpected errors are logged with their traceback; expected ones (rules, auth,
    input) at debug level. Neither line carries the error's message: a coercion
    error quotes the value a caller sent, a driver error the value it refused, and
    either may be a person's name (the traceback names the exception's type).
    """
    for error in errors:
        if "code" in (error.extensions or {}):
            continue  # already labelled
        code = classify(error)[0]
        if code == UNAVAILABLE:  # not a bug: no traceback, one line per failed field
            log.warning("GraphQL %s at %s (%s)", code, error.path,
                        type(error.original_error).__name__)
        elif code == INTERNAL:
            log.error("GraphQL error at %s", error.path, exc_info=error.original_error)
        else:
            log.debug("GraphQL %s at %s", code, error.path)
        label(error)
