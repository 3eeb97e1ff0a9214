"""Read one month's deck inputs: the assessment and the figures around it.

``gather`` is what the ``gridwatch report`` command and the rankings page's button call: the
month's assessment (frozen if published), the district's indicators for the month and the month
before, the daily trend, and the problems by minor class — frozen with the publication for a
published month (``queries.month_figures``), read live otherwise. ``dashboard.deck`` draws the
slides.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from queries.areas import district
from queries.assessment import (
    AssessmentError,
    MonthAssessment,
    check_month,
    list_months,
    load_month,
    publication,
)
from queries.indicators import DEFAULT, IndicatorSet, IndicatorSettings
from queries.month_figures import CategoryCount, MonthFigures, month_figures
from queries.rules import Rules
from queries.trends import DailySeries

__all__ = ["CategoryCount", "DeckInputs", "gather"]  # CategoryCount: the deck draws it

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeckInputs:
    """Everything one month's deck shows, already read from the database."""

    assessment: MonthAssessment
    kpis: IndicatorSet
    previous_kpis: IndicatorSet
    trend: DailySeries
    categories: tuple[CategoryCount, ...]
    generated_at: datetime


def gather(session: Session, month: str, rules: Rules, *, now: datetime,
           indicator_rules: IndicatorSettings = DEFAULT) -> DeckInputs:
    """Read everything the month's deck shows (AssessmentError when it cannot be made)."""
    check_month(month)
    if district(session) is None:
        raise AssessmentError("the database holds no district: generate or import a city first")
    known = [m for m, _ in list_months(session)]
    if month not in known:
        span = f"{known[0]} to {known[-1]}" if known else "none yet"
        raise AssessmentError(f"{month} has no registered cases and was never published "
                              f"(months with data: {span})")
    assessment = load_month(session, month, rules, now=now)
    figures = _frozen(session, month) if assessment.published else None
    if figures is None:
        figures = month_figures(session, month, now=now, settings=indicator_rules)
    return DeckInputs(
        assessment=assessment,
        kpis=figures.kpis,
        previous_kpis=figures.previous_kpis,
        trend=figures.trend,
        categories=figures.categories,
        generated_at=now,
    )


def _frozen(session: Session, month: str) -> MonthFigures | None:
    """Return the figures frozen with a published month, or None for an older publication."""
    published = publication(session, month)
    if published is None or published.figures is None:
        log.warning("%s was published before its deck figures were frozen: reading them live; "
                    "publish it again with --force to freeze them", month)
        return None
    return published.figures

