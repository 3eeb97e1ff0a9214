"""Settings: read once from ``GRIDWATCH_*`` environment variables into one typed object.

Precedence is argument > environment > default. ``create_app`` receives a ``Settings``; tests
build their own with ``Settings(...)`` or ``Settings.from_env({...})`` instead of patching the
environment, so nothing reads ``os.environ`` at import time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from platformdirs import user_data_dir

LANGUAGES = ("zh", "en")
CRS_CHOICES = ("wgs84", "gcj02")


class SettingsError(ValueError):
    """A setting has a value Gridwatch cannot use; the message names the variable."""


def _int(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r}: expected a whole number") from exc
    if not low <= value <= high:
        raise SettingsError(f"{name}={value}: expected a number from {low} to {high}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r}: expected a number") from exc


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = (env.get(name) or default).strip().lower()
    if raw not in choices:
        raise SettingsError(f"{name}={raw!r}: expected one of {', '.join(choices)}")
    return raw


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if raw.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r}: expected true or false")


def default_data_dir() -> Path:
    """Return the per-user data directory where the embedded SQLite database lives."""
    return Path(user_data_dir("gridwatch", appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Everything a running Gridwatch needs to know, resolved once."""

    data_dir: Path = field(default_factory=default_data_dir)
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8050
    refresh_seconds: int = 10
    language: str = "zh"
    tile_url: str = ""
    tile_crs: str = "wgs84"
    tile_attribution: str = ""
    timezone: str = "Asia/Shanghai"
    simulate: bool = False
    simulator_seconds: int = 5
    run_scheduler: bool = True
    warn_fraction: float = 0.8
    target_ontime_close_rate: float = 0.95
    calendar_file: str = ""
    rules_file: str = ""
    secret_key: str = "gridwatch-dev-secret"

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(
                self, "database_url", f"sqlite:///{Path(self.data_dir) / 'gridwatch.sqlite3'}"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> "Settings":
        """Parse ``GRIDWATCH_*`` variables; keyword overrides (CLI flags) win over them."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("GRIDWATCH_DATA_DIR") or default_data_dir()).expanduser()
        values: dict[str, object] = dict(
            data_dir=data_dir,
            database_url=env.get("GRIDWATCH_DATABASE_URL", ""),
            host=env.get("GRIDWATCH_HOST") or "127.0.0.1",
            port=_int(env, "GRIDWATCH_PORT", 8050, low=1, high=65535),
            refresh_seconds=_int(env, "GRIDWATCH_REFRESH_SECONDS", 10, low=1, high=3600),
            language=_choice(env, "GRIDWATCH_LANGUAGE", "zh", LANGUAGES),
            tile_url=env.get("GRIDWATCH_TILE_URL", ""),
            tile_crs=_choice(env, "GRIDWATCH_TILE_CRS", "wgs84", CRS_CHOICES),
            tile_attribution=env.get("GRIDWATCH_TILE_ATTRIBUTION", ""),
            timezone=env.get("GRIDWATCH_TIMEZONE") or "Asia/Shanghai",
            simulate=_bool(env, "GRIDWATCH_SIMULATE", False),
            simulator_seconds=_int(env, "GRIDWATCH_SIMULATOR_SECONDS", 5, low=1, high=3600),
            run_scheduler=_bool(env, "GRIDWATCH_RUN_SCHEDULER", True),
            warn_fraction=_float(env, "GRIDWATCH_WARN_FRACTION", 0.8),
            target_ontime_close_rate=_float(env, "GRIDWATCH_TARGET_ONTIME_CLOSE_RATE", 0.95),
            calendar_file=env.get("GRIDWATCH_CALENDAR_FILE", ""),
            rules_file=env.get("GRIDWATCH_RULES_FILE", ""),
            secret_key=env.get("GRIDWATCH_SECRET_KEY") or "gridwatch-dev-secret",
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
