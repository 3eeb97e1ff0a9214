"""Settings: read once from ``GRIDWATCH_*`` environment variables into one typed object.

Precedence is argument > environment > default. ``create_app`` receives a ``Settings``; tests
build their own with ``Settings(...)`` or ``Settings.from_env({...})`` instead of patching the
environment, so nothing reads ``os.environ`` at import time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from platformdirs import user_data_dir

from queries.engine import DEFAULT_CONNECT_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT
from queries.indicators import (
    BULLETIN,
    CLOSED,
    DUE_CONVENTIONS,
    INDICATOR_BY_KEY,
    REPEAT_PROBLEMS,
    DueConvention,
    IndicatorSettings,
    indicator_def,
)

LANGUAGES = ("zh", "en")
CRS_CHOICES = ("wgs84", "gcj02")
# Targets of the screen's tiles, by indicator key (queries.indicators.INDICATORS). Only the
# on-time closure rate has a default (GB/T 30428-style assessments ask ≥ 95%): count targets
# (e.g. open_overdue=20) depend on the size of the city and are set per deployment.
DEFAULT_TARGETS: Mapping[str, float] = MappingProxyType({"ontime_close_rate": 0.95})
# Presentation mode (/present): the pages it cycles through and how long each shows.
DEFAULT_PRESENT_PAGES = ("screen", "rankings", "grids")
DEFAULT_PRESENT_SECONDS = 30
# A playlist item: a page's name, optionally with that page's own query (grids?area=610104001).
_PAGE_ITEM = re.compile(r"[a-z][a-z0-9_-]*(\?[^,\s/]*)?")


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


def _due_convention(env: Mapping[str, str], name: str) -> DueConvention:
    """Parse the 应结案 convention: "bulletin" (default) or "closed", also spelled "311"."""
    raw = (env.get(name) or BULLETIN).strip().lower()
    if raw == "311":
        return CLOSED
    for convention in DUE_CONVENTIONS:
        if raw == convention:
            return convention
    raise SettingsError(f"{name}={raw!r}: expected bulletin or closed (also spelled 311)")


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if raw.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r}: expected true or false")


def _targets(env: Mapping[str, str], name: str) -> Mapping[str, float]:
    """Parse "key=value,key=value" (e.g. "ontime_close_rate=0.95,open_overdue=20")."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return DEFAULT_TARGETS
    targets: dict[str, float] = {}
    for item in raw.split(","):
        key, sep, value = (part.strip() for part in item.partition("="))
        try:
            if not sep or not key:
                raise ValueError
            targets[key] = float(value)
            indicator_def(key)
        except KeyError as exc:
            known = ", ".join([*INDICATOR_BY_KEY, REPEAT_PROBLEMS.key])
            raise SettingsError(f"{name}: no indicator called {key!r}; known: {known}") from exc
        except ValueError as exc:
            raise SettingsError(
                f"{name}={raw!r}: expected indicator=target pairs separated by commas, "
                f"e.g. ontime_close_rate=0.95,open_overdue=20") from exc
    return MappingProxyType(targets)


def _playlist(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """Parse "screen,rankings,grids?area=…": page names, each with an optional query.

    Only syntax is checked here (settings sit below the page registry); ``create_app`` checks
    that every name is a registered presentable page.
    """
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    items = tuple(item.strip() for item in raw.split(",") if item.strip())
    for item in items:
        if not _PAGE_ITEM.fullmatch(item):
            raise SettingsError(f"{name}: {item!r} is not a page name (screen, rankings, "
                                f"grids …), optionally with ?query")
    return items or default


def parse_moment(raw: str) -> datetime:
    """Parse a local wall-clock moment: 2025-12-15, 2025-12-15 14:00 or 2025-12-15T14:00:00.

    A bare date means the end of that day (23:59:59), so the whole day is in view. ValueError
    with the accepted forms for anything else.
    """
    text = raw.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{raw!r}: expected 2025-12-15, 2025-12-15 14:00 or "
                         f"2025-12-15T14:00:00") from exc
    if moment.tzinfo is not None:
        raise ValueError(f"{raw!r}: give the city's local time, without a UTC offset")
    if len(text) == 10:
        moment = moment.replace(hour=23, minute=59, second=59)
    if not 1990 <= moment.year <= 2100:
        raise ValueError(f"{raw!r}: the year must be between 1990 and 2100")
    return moment.replace(microsecond=0)


def _moment(env: Mapping[str, str], name: str) -> datetime | None:
    raw = env.get(name)
    if not raw:
        return None
    try:
        return parse_moment(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={exc}") from exc
def _directions(env: Mapping[str, str], name: str) -> str:
    """A 到这去 URL template: http(s) with {lat} and {lon} ({name} optional), or empty."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return ""
    if not re.match(r"https?://", raw) or "{lat}" not in raw or "{lon}" not in raw:
        raise SettingsError(f"{name}={raw!r}: expected an http(s) URL with {{lat}} and {{lon}} "
                            f"(and optionally {{name}})")
    try:
        raw.format(lat=0, lon=0, name="")
    except (KeyError, IndexError, ValueError) as exc:
        raise SettingsError(f"{name}={raw!r}: only {{lat}}, {{lon}} and {{name}} may appear "
                            f"in braces") from exc
    return raw


def default_data_dir() -> Path:
    """Return the per-user data directory where the embedded SQLite database lives."""
    return Path(user_data_dir("gridwatch", appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Everything a running Gridwatch needs to know, resolved once."""

    data_dir: Path = field(default_factory=default_data_dir)
    database_url: str = ""
    # What writes (publishing, audit entries, logins, imports, the simulator, migrations)
    # connect with; the reads of serving use ``database_url``, which may be a SELECT-only
    # role (docs/postgresql.md). Empty: the same database and role.
    write_database_url: str = ""
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
    due_convention: DueConvention = BULLETIN
    targets: Mapping[str, float] = field(default_factory=lambda: DEFAULT_TARGETS)
    calendar_file: str = ""
    vocabulary_file: str = ""
    stale_hours: float = 24.0
    rules_file: str = ""
    secret_key: str = "gridwatch-dev-secret"
    present_pages: tuple[str, ...] = DEFAULT_PRESENT_PAGES
    present_seconds: int = DEFAULT_PRESENT_SECONDS
    as_of: datetime | None = None
    # The public map's 到这去 link: a map app's URL with {lat}, {lon} and {name}; empty: no link.
    directions_url: str = ""
    # Citizen reports from the public map allowed per client address and hour.
    report_limit_per_hour: int = 5
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (nginx: 1).
    # Behind a proxy with 0, every citizen has the proxy's address and one report limit.
    proxy_hops: int = 0
    # The wall pages open to anonymous visitors (`gridwatch demo` sets it; never under serve).
    open_wall: bool = False
    # A session unused this long ends (minutes).
    idle_minutes: int = 30
    # Session cookies carry Secure (also set whenever the request itself is HTTPS).
    https: bool = False
    # Areas the snapshot store watches at most (district, streets and what callers opened).
    max_watched_areas: int = 128
    # Worker threads of the production server (waitress) under serve and demo: requests run
    # in these, while idle kept-alive connections cost none.
    threads: int = 8
    # Seconds the database may take to accept a connection, and one statement to finish, so a
    # dead or frozen database fails a refresh instead of hanging it (queries.engine).
    db_connect_timeout: int = DEFAULT_CONNECT_TIMEOUT
    statement_timeout: int = DEFAULT_STATEMENT_TIMEOUT

    def now(self) -> datetime:
        """Return the city's wall-clock time now (naive, like every stored timestamp).

        The one clock of the app: "today", overdue and the wall clock follow the city's time
        zone, not the server's. With ``GRIDWATCH_AS_OF`` the clock stands still at that moment,
        so an imported history is seen as the city stood then.
        """
        return self.as_of if self.as_of is not None else self.now_live()

    def now_live(self) -> datetime:
        """Return the real wall-clock time of the city, whatever ``as_of`` says."""
        return datetime.now(ZoneInfo(self.timezone)).replace(tzinfo=None, microsecond=0)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(f"GRIDWATCH_TIMEZONE={self.timezone!r}: not a known time zone "
                                f"(e.g. Asia/Shanghai)") from exc
        if self.as_of is not None and self.simulate:
            raise SettingsError("GRIDWATCH_AS_OF shows a moment of the past: the live simulator "
                                "cannot run with it (unset one of them)")
        if self.due_convention not in DUE_CONVENTIONS:
            raise SettingsError(f"GRIDWATCH_DUE_CONVENTION={self.due_convention!r}: expected "
                                f"bulletin or closed (also spelled 311)")
        if not self.database_url:
            object.__setattr__(
                self, "database_url", f"sqlite:///{Path(self.data_dir) / 'gridwatch.sqlite3'}"
            )
        if not self.write_database_url:
            object.__setattr__(self, "write_database_url", self.database_url)

    def writing(self) -> Settings:
        """These settings with the write connection as the database, for the commands that
        write or change the schema (imports, publish, migrate, generate, users)."""
        return replace(self, database_url=self.write_database_url)

    def engine_timeouts(self) -> dict[str, int]:
        """Return ``queries.engine.make_engine``'s bounds on waiting for the database."""
        return {"connect_timeout": self.db_connect_timeout,
                "statement_timeout": self.statement_timeout}

    def indicator_settings(self) -> IndicatorSettings:
        """Return the indicators' rules as these settings choose them (docs/indicators.md)."""
        return IndicatorSettings(due_convention=self.due_convention)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Parse ``GRIDWATCH_*`` variables; keyword overrides (CLI flags) win over them."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("GRIDWATCH_DATA_DIR") or default_data_dir()).expanduser()
        values: dict[str, object] = dict(
            data_dir=data_dir,
            database_url=env.get("GRIDWATCH_DATABASE_URL", ""),
            write_database_url=env.get("GRIDWATCH_WRITE_DATABASE_URL", ""),
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
            due_convention=_due_convention(env, "GRIDWATCH_DUE_CONVENTION"),
            targets=_targets(env, "GRIDWATCH_TARGETS"),
            calendar_file=env.get("GRIDWATCH_CALENDAR_FILE", ""),
            vocabulary_file=env.get("GRIDWATCH_VOCABULARY_FILE", ""),
            stale_hours=_float(env, "GRIDWATCH_STALE_HOURS", 24.0),
            rules_file=env.get("GRIDWATCH_RULES_FILE", ""),
            secret_key=env.get("GRIDWATCH_SECRET_KEY") or "gridwatch-dev-secret",
            present_pages=_playlist(env, "GRIDWATCH_PRESENT_PAGES", DEFAULT_PRESENT_PAGES),
            present_seconds=_int(env, "GRIDWATCH_PRESENT_SECONDS", DEFAULT_PRESENT_SECONDS,
                                 low=2, high=3600),
            as_of=_moment(env, "GRIDWATCH_AS_OF"),
            directions_url=_directions(env, "GRIDWATCH_DIRECTIONS_URL"),
            open_wall=_bool(env, "GRIDWATCH_OPEN_WALL", False),
            idle_minutes=_int(env, "GRIDWATCH_IDLE_MINUTES", 30, low=1, high=24 * 60),
            https=_bool(env, "GRIDWATCH_HTTPS", False),
            max_watched_areas=_int(env, "GRIDWATCH_MAX_WATCHED_AREAS", 128, low=1,
                                   high=100_000),
            report_limit_per_hour=_int(env, "GRIDWATCH_REPORT_LIMIT_PER_HOUR", 5, low=1,
                                       high=10000),
            proxy_hops=_int(env, "GRIDWATCH_PROXY_HOPS", 0, low=0, high=5),
            threads=_int(env, "GRIDWATCH_THREADS", 8, low=1, high=256),
            db_connect_timeout=_int(env, "GRIDWATCH_DB_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT,
                                    low=1, high=600),
            statement_timeout=_int(env, "GRIDWATCH_STATEMENT_TIMEOUT", DEFAULT_STATEMENT_TIMEOUT,
                                   low=1, high=86400),
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
