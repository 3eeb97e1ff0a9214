"""Read one month's deck inputs from the database: the only place the deck meets SQL.

``gather`` is what the ``gridwatch report`` command and the rankings page's button call: the
month's assessment (frozen if published), the district's indicators for the month and the month
before, the daily trend, and the problems by minor class. ``dashboard.deck`` draws the slides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from queries.areas import district
from queries.assessment import (
    AssessmentError,
    MonthAssessment,
    list_months,
    load_month,
    month_bounds,
)
from queries.grid_view import compared_period, worst_categories
from queries.indicators import IndicatorSet, indicators
from queries.periods import parse_period
from queries.rules import Rules
from queries.trends import DailySeries, reported_vs_closed

TREND_DAYS = 30
TOP_CATEGORIES = 12


@dataclass(frozen=True)
class CategoryCount:
    """A minor class with its problems this month and last month."""

    minor: str
    problems: int
    previous: int


@dataclass(frozen=True)
class DeckInputs:
    """Everything one month's deck shows, already read from the database."""

    assessment: MonthAssessment
    kpis: IndicatorSet
    previous_kpis: IndicatorSet
    trend: DailySeries
    categories: tuple[CategoryCount, ...]
    generated_at: datetime


def gather(session: Session, month: str, rules: Rules, *, now: datetime) -> DeckInputs:
    """Read everything the month's deck shows (AssessmentError when it cannot be made)."""
    month_bounds(month)
    area = district(session)
    if area is None:
        raise AssessmentError("the database holds no district: generate or import a city first")
    known = [m for m, _ in list_months(session)]
    if month not in known:
        span = f"{known[0]} to {known[-1]}" if known else "none yet"
        raise AssessmentError(f"{month} has no registered cases and was never published "
                              f"(months with data: {span})")
    assessment = load_month(session, month, rules, now=now)
    period = parse_period(month, now)
    # A running month is compared with the same elapsed span of last month, as the page does.
    before, _ = compared_period(period, now)
    last_day = max(min(period.last_day, now.date()), period.start.date())
    counts = worst_categories(session, period, area, limit=TOP_CATEGORIES)
    earlier = dict(worst_categories(session, before, area, limit=None))
    return DeckInputs(
        assessment=assessment,
        kpis=indicators(session, period, now=now),
        previous_kpis=indicators(session, before, now=now),
        trend=reported_vs_closed(session, last_day=last_day, days=TREND_DAYS, area=area),
        categories=tuple(CategoryCount(minor, n, earlier.get(minor, 0)) for minor, n in counts),
        generated_at=now,
    )
