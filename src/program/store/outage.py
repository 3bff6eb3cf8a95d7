"""Telling an outage (the database cannot be reached) from a failure a request caused.

The two call for opposite answers: an outage is nobody's fault, the same for every
request, and worth retrying shortly (``SERVICE_UNAVAILABLE``); a failure one request
caused is that request's alone and retrying it changes nothing.
"""

from __future__ import annotations

import asyncpg

from program.store.errors import StoreClosed

# OSError covers a refused TCP connection and a missing Unix socket (the embedded
# server stopped); TimeoutError a server that does not answer; PostgresConnectionError
# a connection lost mid-query; the rest are the server saying it is going or not yet
# there, or full; StoreClosed this process shutting down (another may answer).
# InternalClientError is what asyncpg raises when a connection the server cut is used
# before asyncpg noticed (its protocol is left mid-operation): the same lost connection.
_OUTAGES: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InternalClientError,
    StoreClosed,
)
_MAX_CHAIN = 8


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc``, or an error it was raised from, means the database is unreachable."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < _MAX_CHAIN:
        if isinstance(current, _OUTAGES):
            return True
        seen += 1
        current = current.__cause__ or current.__context__
    return False
