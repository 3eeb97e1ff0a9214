"""Opening hours (营业时间) in OSM ``opening_hours`` syntax, on the Chinese working calendar.

``opening-hours-py`` parses and evaluates the expressions, but it knows neither China's public
holidays nor its make-up working days (调休). The calendar comes from ``queries.workcalendar``
and is fed in one day at a time:

- on a public holiday (法定节假日, the whole 放假 span such as 10月1日–7日), the ``PH`` selector
  matches: each ``PH`` token is rewritten to that day's weekday, so ``Mo-Fr 09:00-17:00; PH off``
  reads ``…; Th off`` on a holiday Thursday (and keeps a night span from the day before right);
- on a 调休 working day (a Saturday or Sunday the State Council made a working day) a place
  keeps the hours of an ordinary working day: the day is evaluated as the last ordinary
  Monday–Friday before it, so a service hall shut at weekends opens, and a 24-hour place is
  unaffected.

Intervals are computed per day and merged, so "open now" is right across midnight
(``Fr 22:00-02:00`` is open on Saturday at 01:00) and for ``24/7``. A night span's tail after
midnight follows the library's reading of OSM: it belongs to the rules of the day it runs into,
so ``Mo-Su 20:00-02:00; PH off`` is shut at 01:00 on a holiday morning, and open at 01:00 on
the morning after the holiday.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import chinese_calendar
import opening_hours

from queries.workcalendar import WorkCalendar

WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
STATE_DAYS = 15  # long enough to see past the 8-day National Day holiday
_PH = re.compile(r"(?<![A-Za-z])PH(?![A-Za-z])")


class OpeningHoursError(ValueError):
    """An ``opening_hours`` expression that cannot be parsed; the message says where."""


@lru_cache(maxsize=4096)
def check_expression(expr: str) -> str:
    """Return ``expr`` stripped when it parses, else raise ``OpeningHoursError`` in one line."""
    text = (expr or "").strip()
    if not text:
        raise OpeningHoursError("opening_hours is empty (use 24/7 for always open)")
    try:
        opening_hours.OpeningHours(text)
    except (opening_hours.ParserError, SyntaxError, ValueError) as exc:  # type: ignore[attr-defined]
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise OpeningHoursError(f"not an OSM opening_hours expression: {text!r} ({first})") \
            from exc
    return text


def is_public_holiday(calendar: WorkCalendar, day: date) -> bool:
    """True on a day of a statutory holiday's 放假 span (not on an ordinary weekend)."""
    if day in calendar.extra_holidays:
        return True
    if day in calendar.extra_workdays:
        return False
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return False
    return bool(on_holiday and name is not None)


def is_makeup_workday(calendar: WorkCalendar, day: date) -> bool:
    """True on a 调休 day: a Saturday or Sunday that is a working day."""
    return day.weekday() >= 5 and calendar.is_workday(day)


def _ordinary_weekday_before(calendar: WorkCalendar, day: date) -> date:
    """The last Monday–Friday before ``day`` that is an ordinary working day."""
    probe = day - timedelta(days=1)
    for _ in range(60):
        if probe.weekday() < 5 and calendar.is_workday(probe) \
                and not is_public_holiday(calendar, probe):
            return probe
        probe -= timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 4) % 7 or 7)  # a plain Friday: a guard


def expression_for_day(expr: str, calendar: WorkCalendar, day: date) -> str:
    """Rewrite ``PH`` for evaluating the hours of ``day`` (its own rules and the night before).

    The holidays among the day before and the day itself become their weekday tokens; when
    neither is a holiday ``PH`` stays and matches nothing (the library has no Chinese holidays).
    """
    holidays = [d for d in (day - timedelta(days=1), day) if is_public_holiday(calendar, d)]
    if not holidays or not _PH.search(expr):
        return expr
    tokens = ",".join(WEEKDAYS[d.weekday()] for d in holidays)
    return _PH.sub(tokens, expr)


@lru_cache(maxsize=4096)
def _parsed(expr: str) -> opening_hours.OpeningHours:
    return opening_hours.OpeningHours(expr)


@lru_cache(maxsize=8192)
def _day_intervals(expr: str, calendar: WorkCalendar,
                   day: date) -> tuple[tuple[datetime, datetime], ...]:
    """Open spans inside [day 00:00, next day 00:00) (cached: a city has few distinct hours)."""
    source = _ordinary_weekday_before(calendar, day) if is_makeup_workday(calendar, day) else day
    shift = datetime.combine(day, time()) - datetime.combine(source, time())
    start = datetime.combine(source, time())
    end = start + timedelta(days=1)
    parsed = _parsed(expression_for_day(expr, calendar, source))
    spans = []
    for lo, hi, state, _comment in parsed.intervals(start, end):
        if state != opening_hours.State.OPEN:
            continue
        lo, hi = max(lo, start), min(hi or end, end)
        if hi > lo:
            spans.append((lo + shift, hi + shift))
    return tuple(spans)


def open_intervals(expr: str, calendar: WorkCalendar, start: date,
                   days: int) -> list[tuple[datetime, datetime]]:
    """Open spans from ``start`` 00:00 for ``days`` days, adjacent spans merged.

    Raises ``OpeningHoursError`` for an expression that does not parse.
    """
    check_expression(expr)
    merged: list[tuple[datetime, datetime]] = []
    for offset in range(days):
        for lo, hi in _day_intervals(expr.strip(), calendar, start + timedelta(days=offset)):
            if merged and merged[-1][1] >= lo:
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
    return merged


@dataclass(frozen=True)
class OpenState:
    """Whether a place is open at a moment, and when that changes (None: not within 2 weeks)."""

    open: bool
    changes_at: datetime | None


def open_state(expr: str, calendar: WorkCalendar, at: datetime) -> OpenState:
    """Return whether ``expr`` is open at ``at`` (the city's wall-clock time) and until when."""
    first = at.date() - timedelta(days=1)
    window_end = datetime.combine(first + timedelta(days=STATE_DAYS), time())
    for lo, hi in open_intervals(expr, calendar, first, STATE_DAYS):
        if lo <= at < hi:
            return OpenState(True, None if hi >= window_end else hi)
        if lo > at:
            return OpenState(False, lo)
    return OpenState(False, None)


def is_open(expr: str, calendar: WorkCalendar, at: datetime) -> bool:
    """True when a place with hours ``expr`` is open at ``at``."""
    return open_state(expr, calendar, at).open
