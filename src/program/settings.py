"""Settings read from ``PROGRAM_*`` environment variables, with working local defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from program.feeds.settings import FeedSettings


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"PROGRAM_{name}")
    return value if value not in (None, "") else default


class SettingsError(ValueError):
    """A PROGRAM_* variable holds a value that cannot be used."""


def _int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"PROGRAM_{name} must be a whole number, got {raw!r}") from None


def _flag(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"PROGRAM_{name} must be 1/0, true/false, yes/no or on/off, got {raw!r}")


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one running program."""

    # Kept out of repr: a URL may hold a password, and a repr can reach a log.
    database_url: str | None = field(default=None, repr=False)
    data_dir: Path = Path(".program")
    host: str = "127.0.0.1"
    port: int = 8000
    jwt_secret: str | None = field(default=None, repr=False)
    pool_min_size: int = 2
    pool_max_size: int = 20
    run_projections: bool = True
    log_level: str = "INFO"
    log_json: bool = False
    feeds: FeedSettings = field(default_factory=FeedSettings)
    ledger_origin: str = "program.localhost/ledger"
    ledger_key: str | None = field(default=None, repr=False)
    checkpoint_every: int = 1000
    checkpoint_interval: float = 60.0
    # What consent receipts and subject-access exports say about the controller.
    controller_name: str = "The organisation running this peer support programme"
    controller_contact: str = "the programme's data protection officer"
    jurisdiction: str = "GB"
    privacy_policy_url: str | None = None
    retention: str = (
        "Kept while the person takes part and as long as the programme's records must be "
        "kept; on erasure the person's data key is destroyed, so their name, contact details "
        "and free text are gone, while the pseudonymous record of what happened stays."
    )
    withdrawal: str = (
        "Tell the programme's staff or the controller's contact, in person, by phone or in "
        "writing, at any time; the withdrawal is recorded at once and ends every use that "
        "needed this consent."
    )
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        """Read the settings from the environment."""
        return cls(
            database_url=_env("DATABASE_URL"),
            data_dir=Path(_env("DATA_DIR", ".program") or ".program"),
            host=_env("HOST", "127.0.0.1") or "127.0.0.1",
            port=_int("PORT", 8000),
            jwt_secret=_env("JWT_SECRET"),
            pool_min_size=_int("POOL_MIN_SIZE", 2),
            pool_max_size=_int("POOL_MAX_SIZE", 20),
            run_projections=_flag("RUN_PROJECTIONS", True),
            log_level=_env("LOG_LEVEL", "INFO") or "INFO",
            log_json=_flag("LOG_JSON", False),
            feeds=_feeds(),
            ledger_origin=_env("LEDGER_ORIGIN", "program.localhost/ledger") or "",
            ledger_key=_env("LEDGER_KEY"),
            checkpoint_every=_int("CHECKPOINT_EVERY", 1000),
            checkpoint_interval=float(_int("CHECKPOINT_INTERVAL", 60)),
            **{name: value for name, value in (
                ("controller_name", _env("CONTROLLER_NAME")),
                ("controller_contact", _env("CONTROLLER_CONTACT")),
                ("jurisdiction", _env("JURISDICTION")),
                ("privacy_policy_url", _env("PRIVACY_POLICY_URL")),
                ("retention", _env("RETENTION")),
                ("withdrawal", _env("WITHDRAWAL")),
            ) if value is not None},
        )

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"


def _feeds() -> FeedSettings:
    try:
        return FeedSettings.from_env()
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
