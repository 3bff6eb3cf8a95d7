"""The ``PROGRAM_*`` settings of partner feeds, one object hung on ``Settings.feeds``."""

from __future__ import annotations

import os
from dataclasses import dataclass

# Svix's schedule (seconds): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; jitter is added.
DEFAULT_RETRY_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
MAX_BATCH = 4096  # events per webhook request: ``tables.SET_SIZE``


def _env(name: str) -> str | None:
    value = os.environ.get(f"PROGRAM_{name}")
    return value if value not in (None, "") else None


def _number(name: str, default: float, minimum: float) -> float:
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"PROGRAM_{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"PROGRAM_{name} must be at least {minimum:g}")
    return value


def _schedule(raw: str | None) -> tuple[float, ...]:
    if raw is None:
        return DEFAULT_RETRY_SCHEDULE
    try:
        delays = tuple(float(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise ValueError(
            f"PROGRAM_WEBHOOK_RETRY_SCHEDULE must be seconds separated by commas, got {raw!r}"
        ) from None
    if not delays or any(d < 0 for d in delays):
        raise ValueError("PROGRAM_WEBHOOK_RETRY_SCHEDULE needs at least one delay, none negative")
    return delays


def _flag(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    if raw.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if raw.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"PROGRAM_{name} must be 1/0, true/false, yes/no or on/off, got {raw!r}")


@dataclass(frozen=True)
class FeedSettings:
    """How feeds are built and delivered."""

    run: bool = True  # build feeds and deliver webhooks inside `program serve`
    pseudonym_key: str | None = None  # unset: generated once into the data folder
    allow_private_urls: bool = False  # webhooks to loopback/private hosts (dev and tests only)
    retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    timeout: float = 15.0  # seconds for one webhook request
    batch_size: int = 100  # events per webhook request at most
    heartbeat: float = 15.0  # seconds between SSE heartbeat comments
    secret_overlap_hours: float = 24.0  # an old secret still signs this long after rotation

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= MAX_BATCH:  # a request's disclosures are one set
            raise ValueError(f"PROGRAM_WEBHOOK_BATCH_SIZE must be 1 to at most {MAX_BATCH}, "
                             f"got {self.batch_size}")

    @classmethod
    def from_env(cls) -> FeedSettings:
        return cls(
            run=_flag("RUN_FEEDS", True),
            pseudonym_key=_env("PSEUDONYM_KEY"),
            allow_private_urls=_flag("WEBHOOK_ALLOW_PRIVATE", False),
            retry_schedule=_schedule(_env("WEBHOOK_RETRY_SCHEDULE")),
            timeout=_number("WEBHOOK_TIMEOUT", 15.0, 0.1),
            batch_size=int(_number("WEBHOOK_BATCH_SIZE", 100, 1)),
            heartbeat=_number("FEED_HEARTBEAT", 15.0, 0.05),
            secret_overlap_hours=_number("WEBHOOK_SECRET_OVERLAP_HOURS", 24.0, 0),
        )
