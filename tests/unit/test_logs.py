"""Safe tracebacks: frames and error codes kept, locals and messages never rendered."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
import pytest

from program.api.logs import configure_logging, quiet_loop_errors
from program.errortext import safe_traceback
from program.settings import Settings


def _fail(name: str) -> None:
    secret = "jwt-" + "s" * 32  # noqa: F841 (a local no traceback may show)
    try:
        {}[name]
    except KeyError as exc:
        raise asyncpg.exceptions.StringDataRightTruncationError(f"too long: {name!r}") from exc


def _caught(call: object, *args: object) -> BaseException:
    try:
        call(*args)  # type: ignore[operator]
    except BaseException as exc:  # noqa: BLE001
        return exc
    raise AssertionError("expected a failure")


def test_safe_traceback_when_a_chained_database_error_keeps_frames_and_codes_only() -> None:
    text = safe_traceback(_caught(_fail, "Ada Lovelace"))
    assert "Ada" not in text and "sss" not in text
    assert "in _fail" in text and "KeyError" in text
    assert "StringDataRightTruncationError" in text and "sqlstate=22001" in text
    assert "direct cause" in text


def test_safe_traceback_when_an_exception_group_renders_each_member_without_message() -> None:
    members = [ValueError("ada@" + "example.org"), OSError(13, "Denied", "/private/" + "x")]

    def fail() -> None:
        raise ExceptionGroup("g", members)

    text = safe_traceback(_caught(fail))
    assert "ada@" not in text and "/private/x" not in text
    assert "ValueError" in text and "errno=13" in text


def test_safe_traceback_when_causes_form_a_cycle_terminates() -> None:
    a, b = ValueError("a"), ValueError("b")
    a.__cause__, b.__cause__ = b, a
    assert safe_traceback(a).count("ValueError") == 2


def test_logging_when_an_exception_is_a_message_argument_writes_its_type_not_its_text(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(Settings(log_json=True))
    try:
        logging.getLogger("program.test").warning("lock failed: %s", ValueError("Ada Lovelace"))
        err = capsys.readouterr().err
    finally:
        configure_logging(Settings())
    assert "Ada" not in err and "lock failed: ValueError: [message withheld]" in err


async def test_loop_error_report_when_a_task_failure_is_never_retrieved_omits_its_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    configure_logging(Settings())
    quiet_loop_errors(loop)
    try:
        loop.call_exception_handler({"message": "Task exception was never retrieved",
                                     "exception": ValueError("Ada Lovelace"),
                                     "future": "<Task exception=ValueError('Ada Lovelace')>"})
        err = capsys.readouterr().err
    finally:
        loop.set_exception_handler(previous)
    assert "never retrieved" in err and "ValueError" in err and "Ada" not in err
