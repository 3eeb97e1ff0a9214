"""The working calendar: which days are working days, and deadlines in working hours.

Chinese public holidays and their make-up working days (调休) come from the maintained
``chinese-calendar`` package; a YAML data file extends it for years the package does not know
yet (``queries/data/calendar_extra.yaml`` by default). No dates live in code.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

import chinese_calendar
import yaml
from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

log = logging.getLogger(__name__)

DEFAULT_EXTRA_FILE = Path(__file__).with_name("data") / "calendar_extra.yaml"
# The working day: two sittings, eight hours in all (the usual 数字城管 工作时).
DEFAULT_SITTINGS: tuple[tuple[time, time], ...] = (
    (time(8, 0), time(12, 0)), (time(14, 0), time(18, 0)))


CALENDAR_KEYS = ("holidays", "workdays")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class CalendarFileError(ValueError):
    """The calendar data file cannot be read; the message names the file and the problem."""


def load_extra_days(path: Path) -> tuple[frozenset[date], frozenset[date]]:
    """Read a calendar data file into (holidays, make-up workdays).

    Every mistake is one line naming the file and, when known, the line: the YAML is composed
    into nodes (which keep their line) and each date is parsed here, since YAML's own timestamp
    constructor raises a bare ValueError on a date such as 2026-13-01.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CalendarFileError(f"{path}: no such calendar file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CalendarFileError(f"{path}: cannot read the calendar file: {exc}") from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "malformed YAML"
        raise CalendarFileError(f"{_where(path, mark)}: not valid YAML: {problem}") from exc
    except yaml.YAMLError as exc:
        raise CalendarFileError(f"{path}: not valid YAML: {exc}") from exc
    if root is None:
        return frozenset(), frozenset()
    if not isinstance(root, MappingNode):
        raise CalendarFileError(f"{_where(path, root.start_mark)}: expected keys 'holidays' and "
                                f"'workdays'")
    found: dict[str, frozenset[date]] = {}
    for key_node, value_node in root.value:
        key = key_node.value if isinstance(key_node, ScalarNode) else None
        if key not in CALENDAR_KEYS:
            raise CalendarFileError(f"{_where(path, key_node.start_mark)}: unknown key {key!r} "
                                    f"(expected 'holidays' and 'workdays')")
        found[key] = _dates(path, key, value_node)
    return found.get("holidays", frozenset()), found.get("workdays", frozenset())


def _dates(path: Path, key: str, node: Node) -> frozenset[date]:
    """Return the dates listed under one key, failing on the line of the first bad entry."""
    if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null":
        return frozenset()
    if not isinstance(node, SequenceNode):
        raise CalendarFileError(f"{_where(path, node.start_mark)}: '{key}' must be a list of "
                                f"dates YYYY-MM-DD")
    days = []
    for item in node.value:
        try:
            if not isinstance(item, ScalarNode) or not _DATE.fullmatch(item.value):
                raise ValueError
            days.append(date.fromisoformat(item.value))
        except ValueError:
            shown = item.value if isinstance(item, ScalarNode) else "a nested value"
            raise CalendarFileError(
                f"{_where(path, item.start_mark)}: every entry of '{key}' must be a date "
                f"YYYY-MM-DD, not {shown!r}") from None
    return frozenset(days)


def _where(path: Path, mark: Mark | None) -> str:
    return f"{path}, line {mark.line + 1}" if mark is not None else str(path)


@dataclass(frozen=True)
class WorkCalendar:
    """Working days and working hours, with deadlines counted in working hours."""

    extra_holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    sittings: tuple[tuple[time, time], ...] = DEFAULT_SITTINGS
    _warned: set[int] = field(default_factory=set, compare=False, hash=False, repr=False)
    # chinese_calendar validates every date against its tables (~0.1 ms a call); an import
    # asks about the same few hundred days a million times.
    _days: dict[date, bool] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def from_file(cls, path: str | Path | None = None) -> WorkCalendar:
        """Build the calendar from the package plus a data file (the shipped one by default)."""
        holidays, workdays = load_extra_days(Path(path) if path else DEFAULT_EXTRA_FILE)
        return cls(extra_holidays=holidays, extra_workdays=workdays)

    @property
    def hours_per_day(self) -> float:
        """Working hours in one working day."""
        return sum(_hours(a, b) for a, b in self.sittings)

    def is_workday(self, day: date) -> bool:
        """True when ``day`` is a working day (调休 Saturdays included)."""
        known = self._days.get(day)
        if known is None:
            known = self._days[day] = self._is_workday(day)
        return known

    def _is_workday(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            known = any(d.year == day.year for d in self.extra_holidays | self.extra_workdays)
            if not known and day.year not in self._warned:
                self._warned.add(day.year)
                log.warning("no holiday data for %s: counting weekends only; add the year's "
                            "schedule to the calendar file", day.year)
            return day.weekday() < 5

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """Return the moment ``hours`` working hours after ``start`` (the 处置时限)."""
        remaining = timedelta(hours=hours)
        day = start.date()
        moment = start
        for _ in range(3660):  # ten years of days: a guard, never reached by real limits
            if self.is_workday(day):
                for a, b in self.sittings:
                    begin = max(moment, datetime.combine(day, a))
                    end = datetime.combine(day, b)
                    if begin >= end:
                        continue
                    if begin + remaining <= end:
                        return begin + remaining
                    remaining -= end - begin
            day += timedelta(days=1)
            moment = datetime.combine(day, time(0))
        raise ValueError(f"cannot place {hours} working hours after {start}")

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Working hours elapsed from ``start`` to ``end`` (0 when end <= start)."""
        if end <= start:
            return 0.0
        total = timedelta()
        day = start.date()
        while day <= end.date():
            if self.is_workday(day):
                for a, b in self.sittings:
                    lo = max(start, datetime.combine(day, a))
                    hi = min(end, datetime.combine(day, b))
                    if hi > lo:
                        total += hi - lo
            day += timedelta(days=1)
        return total.total_seconds() / 3600.0


def _hours(a: time, b: time) -> float:
    return (datetime.combine(date.min, b) - datetime.combine(date.min, a)).total_seconds() / 3600


@lru_cache(maxsize=4)
def default_calendar(path: str = "") -> WorkCalendar:
    """Return the shared calendar for a data file path ('' means the shipped file)."""
    return WorkCalendar.from_file(path or None)
