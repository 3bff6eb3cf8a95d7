"""How an error may be written down: its type, frames and codes, never its message.

An exception's message may quote a value (asyncpg's "invalid input for query argument
$1: 'Alice'"), and a traceback that shows local variables shows the JWT secret the
request context holds and whatever a person typed. ``safe_traceback`` and
``describe`` keep what an operator needs to find a bug (each frame's file, line,
function and source line; the exception's type; database and OS error codes and the
names of the schema objects involved) and nothing a request carried. Plain string
work, about a millisecond: an error never holds the event loop. Standard library only,
so every layer may use it.
"""

from __future__ import annotations

import traceback

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
