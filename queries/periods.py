"""Reporting periods in the offices' cadence: 日督促、周检查、月通报、季调度、年评比.

A period is a half-open span [start, end) of naive local wall-clock time (as cases store it),
with a kind, a Chinese and an English label, and a URL token that parses back to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

DAY = "day"
WEEK = "week"
MONTH = "month"
QUARTER = "quarter"
YEAR = "year"
CUSTOM = "custom"
KINDS = (DAY, WEEK, MONTH, QUARTER, YEAR)

_WEEKDAYS_ZH = "一二三四五六日"
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NAMES_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
_QUARTERS_ZH = "一二三四"

_CUSTOM_TOKEN = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")
_DAY_TOKEN = re.compile(r"\d{4}-\d{2}-\d{2}")
_WEEK_TOKEN = re.compile(r"(\d{4})-W(\d{2})")
_MONTH_TOKEN = re.compile(r"(\d{4})-(\d{2})")
_QUARTER_TOKEN = re.compile(r"(\d{4})-Q([1-4])")
_YEAR_TOKEN = re.compile(r"\d{4}")


class PeriodError(ValueError):
    """A period kind, token or range cannot be understood; the message says what was expected."""


@dataclass(frozen=True)
class Period:
    """A half-open span [start, end) of local time, with its kind and display labels."""

    start: datetime
    end: datetime
    kind: str
    label_zh: str
    label_en: str

    @property
    def last_day(self) -> date:
        """The last calendar day inside the period (the inclusive end a person reads)."""
        return (self.end - timedelta(days=1)).date()

    @property
    def token(self) -> str:
        """The URL token that ``parse_period`` turns back into this very period."""
        first = self.start.date()
        if self.kind == DAY:
            return first.isoformat()
        if self.kind == WEEK:
            iso = first.isocalendar()
            return f"{iso.year}-W{iso.week:02d}"
        if self.kind == MONTH:
            return f"{first.year}-{first.month:02d}"
        if self.kind == QUARTER:
            return f"{first.year}-Q{(first.month - 1) // 3 + 1}"
        if self.kind == YEAR:
            return f"{first.year}"
        return f"{first.isoformat()}..{self.last_day.isoformat()}"


def period_for(kind: str, now: datetime) -> Period:
    """Return the day, week (from Monday), month, quarter or year that contains ``now``."""
    today = now.date()
    if kind == DAY:
        return _day(today)
    if kind == WEEK:
        return _week(today - timedelta(days=today.weekday()))
    if kind == MONTH:
        return _month(today.year, today.month)
    if kind == QUARTER:
        return _quarter(today.year, (today.month - 1) // 3 + 1)
    if kind == YEAR:
        return _year(today.year)
    raise PeriodError(f"unknown period kind {kind!r}: expected one of {', '.join(KINDS)}")


def custom(start_date: date, end_date_inclusive: date) -> Period:
    """Return the whole days from ``start_date`` to ``end_date_inclusive``, both included."""
    if end_date_inclusive < start_date:
        raise PeriodError(f"period ends ({end_date_inclusive}) before it starts ({start_date})")
    a, b = start_date, end_date_inclusive
    return Period(
        start=_midnight(a),
        end=_midnight(b + timedelta(days=1)),
        kind=CUSTOM,
        label_zh=f"{a.year}年{a.month}月{a.day}日至{b.year}年{b.month}月{b.day}日",
        label_en=f"{a.isoformat()} – {b.isoformat()}",
    )


def previous(period: Period) -> Period:
    """Return the period of the same kind and length just before (yesterday, last month…)."""
    if period.kind == CUSTOM:
        length = period.end - period.start
        first = period.start.date()
        return custom(first - length, first - timedelta(days=1))
    return period_for(period.kind, period.start - timedelta(days=1))


def same_weekday_last_week(day_period: Period) -> Period:
    """Return the same weekday one week earlier: the fair comparison for a day (日督促)."""
    if day_period.kind != DAY:
        raise PeriodError(f"same weekday last week needs a day, not a {day_period.kind}")
    return _day(day_period.start.date() - timedelta(days=7))


def parse_period(token: str, now: datetime) -> Period:
    """Turn a URL token into a period: a kind ("month"…), "2026-10", "2026-10-01..2026-10-15"…

    Also accepted, as ``Period.token`` writes them: "2026-10-05" (a day), "2026-W41" (an ISO
    week), "2026-Q4" (a quarter) and "2026" (a year).
    """
    text = token.strip()
    if text.lower() in KINDS:
        return period_for(text.lower(), now)
    try:
        if match := _CUSTOM_TOKEN.fullmatch(text):
            return custom(date.fromisoformat(match[1]), date.fromisoformat(match[2]))
        if _DAY_TOKEN.fullmatch(text):
            return _day(date.fromisoformat(text))
        if match := _WEEK_TOKEN.fullmatch(text):
            return _week(date.fromisocalendar(int(match[1]), int(match[2]), 1))
        if match := _MONTH_TOKEN.fullmatch(text):
            return _month(int(match[1]), int(match[2]))
        if match := _QUARTER_TOKEN.fullmatch(text):
            return _quarter(int(match[1]), int(match[2]))
        if _YEAR_TOKEN.fullmatch(text):
            return _year(int(text))
    except (ValueError, OverflowError) as exc:
        raise PeriodError(f"not a valid period {token!r}: {exc}") from exc
    raise PeriodError(
        f"not a period {token!r}: expected day, week, month, quarter, year, 2026-10, "
        "2026-10-05, 2026-W41, 2026-Q4, 2026 or 2026-10-01..2026-10-15"
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0))


def _day(day: date) -> Period:
    weekday = day.weekday()
    return Period(
        start=_midnight(day),
        end=_midnight(day + timedelta(days=1)),
        kind=DAY,
        label_zh=f"{day.year}年{day.month}月{day.day}日 周{_WEEKDAYS_ZH[weekday]}",
        label_en=f"{_WEEKDAYS_EN[weekday]} {day.day} {_MONTHS_EN[day.month - 1]} {day.year}",
    )


def _week(monday: date) -> Period:
    sunday = monday + timedelta(days=6)
    iso = monday.isocalendar()
    return Period(
        start=_midnight(monday),
        end=_midnight(monday + timedelta(days=7)),
        kind=WEEK,
        label_zh=(
            f"{iso.year}年第{iso.week}周({monday.month}月{monday.day}日—"
            f"{sunday.month}月{sunday.day}日)"
        ),
        label_en=(
            f"Week {iso.week}, {iso.year} ({monday.day} {_MONTHS_EN[monday.month - 1]} – "
            f"{sunday.day} {_MONTHS_EN[sunday.month - 1]})"
        ),
    )


def _month(year: int, month: int) -> Period:
    first = date(year, month, 1)
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return Period(
        start=_midnight(first),
        end=_midnight(following),
        kind=MONTH,
        label_zh=f"{year}年{month}月",
        label_en=f"{_MONTH_NAMES_EN[month - 1]} {year}",
    )


def _quarter(year: int, quarter: int) -> Period:
    first_month = 3 * (quarter - 1) + 1
    following = date(year + 1, 1, 1) if quarter == 4 else date(year, first_month + 3, 1)
    return Period(
        start=_midnight(date(year, first_month, 1)),
        end=_midnight(following),
        kind=QUARTER,
        label_zh=f"{year}年第{_QUARTERS_ZH[quarter - 1]}季度",
        label_en=f"Q{quarter} {year}",
    )


def _year(year: int) -> Period:
    return Period(
        start=_midnight(date(year, 1, 1)),
        end=_midnight(date(year + 1, 1, 1)),
        kind=YEAR,
        label_zh=f"{year}年",
        label_en=f"{year}",
    )
