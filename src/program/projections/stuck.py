"""What a runner knows about its projections that cannot apply an event, and their waits.

A failure is recorded durably on every attempt (``failures``) but logged at ERROR only
when it changes (another position or error class), so a projection stuck for a day
writes one line, not thousands. The wait between attempts ends early when an operator
skips or asks for a retry (``wake``, called on the maintenance NOTIFY).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

import asyncpg

from program.projections import failures
from program.projections.failures import EventFailed, Failure, cause_of, frames, position_of
from program.waiting import woken

log = logging.getLogger("program.projections.runner")


class StuckProjections:
    def __init__(self, pool: asyncpg.Pool, names: Iterable[str]) -> None:
        self.pool = pool
        self.errors: dict[str, str] = {}  # error class and short message, while stuck
        self.failures: dict[str, Failure] = {}  # the failure as recorded, while stuck
        self._at: dict[str, tuple[int, type[BaseException]]] = {}
        self._wake = {n: asyncio.Event() for n in names}
        self._reread: set[str] = set()

    def is_new(self, name: str, failure: BaseException, applied: int) -> bool:
        """Another position or error class than last time (or the first failure)."""
        return self._at.get(name) != (position_of(failure, applied), type(cause_of(failure)))

    async def failed(self, name: str, failure: BaseException, applied: int, retry_in: float
                     ) -> None:
        """Record the failure durably; log it once per change, not once per attempt."""
        cause = cause_of(failure)
        position = position_of(failure, applied)
        event_type = failure.event_type if isinstance(failure, EventFailed) else None
        changed = self.is_new(name, failure, applied)
        self._at[name] = (position, type(cause))
        try:
            recorded = await failures.record(self.pool, name, position, event_type, cause,
                                             retry_in)
        except Exception:  # the database may be what failed; the log line still says so
            recorded = None
        error_class, message = failures.describe(cause)
        self.errors[name] = f"{error_class}: {message}" if message else error_class
        if recorded is not None:
            self.failures[name] = recorded
        (log.error if changed else log.debug)(
            "projection %s cannot apply position %d (%s): %s: %s; retrying in %.1fs "
            "(program projections retry|skip %s)%s",
            name, position, event_type or "event not isolated", error_class, message, retry_in,
            name, frames(cause),
        )

    async def pause(self, name: str, delay: float) -> bool:
        """Wait out the backoff; True when an operator's skip or retry cut it short."""
        wake = self._wake[name]
        if not await woken(wake, delay):
            return False
        wake.clear()
        return True

    async def recovered(self, name: str, position: int, *, starting: bool = False) -> None:
        """Once past the failing event (applied or skipped), forget the failure. On start,
        forget one another process recorded that this one is past (no query otherwise)."""
        stuck = self._at.get(name)
        if stuck is None and not starting or stuck is not None and stuck[0] > position:
            return
        with contextlib.suppress(asyncpg.PostgresError):
            await failures.clear(self.pool, name, position)
        if stuck is not None:
            del self._at[name]
            self.errors.pop(name, None)
            self.failures.pop(name, None)
            log.warning("projection %s: moving again, at position %d", name, position)

    def wake(self, name: str) -> None:
        """An operator skipped an event of ``name`` or asked for a retry (any process)."""
        if name in self._wake:
            self._reread.add(name)
            self._wake[name].set()

    def starting(self, name: str) -> None:
        """Skips are (re)read as the projection starts following: no wake-up is pending."""
        self._wake[name].clear()
        self._reread.discard(name)

    def skips_changed(self, name: str) -> bool:
        """True once after a wake-up: re-read the skips before the next batch."""
        if name in self._reread:
            self._reread.discard(name)
            return True
        return False
