"""Read one month's deck inputs: the assessment and the figures around it.

``gather`` is what the ``gridwatch report`` command and the rankings page's button call: the
month's assessment (frozen if published), the district's indicators for the month and the month
before, the daily trend, and the problems by minor class — frozen with the publication for a
published month (``queries.month_figures``), read live otherwise — and the 路长 sections' board
(red and black lists, ranking) of the month. ``dashboard.deck`` draws the
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
from queries.kept_months import KeptMonths
from queries.month_figures import CategoryCount, MonthFigures, month_figures
from queries.periods import parse_period
from queries.rules import Rules
from queries.scope import Scope
from queries.sections import SectionBoard, section_board, sections
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
    # The month's 路长 sections (None: the city has none). Read live even for a published month.
    sections: SectionBoard | None = None


def gather(session: Session, month: str, rules: Rules, *, now: datetime,
           indicator_rules: IndicatorSettings = DEFAULT,
           kept: KeptMonths | None = None) -> DeckInputs:
    """Read everything the month's deck shows (AssessmentError when it cannot be made).

    ``kept``: the finished months the ranking's streaks walk back through are read from the
    kept results while clean (queries/kept_months.py), as on the wall.
    """
    check_month(month)
    if district(session) is None:
        raise AssessmentError("the database holds no district: generate or import a city first")
    known = [m for m, _ in list_months(session)]
    if month not in known:
        span = f"{known[0]} to {known[-1]}" if known else "none yet"
        raise AssessmentError(f"{month} has no registered cases and was never published "
                              f"(months with data: {span})")
    assessment = load_month(session, month, rules, now=now, kept=kept)
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
        sections=_sections(session, month, rules, now, indicator_rules),
    )


def _sections(session: Session, month: str, rules: Rules, now: datetime,
              indicator_rules: IndicatorSettings) -> SectionBoard | None:
    """Return the month's section board, or None when the city has no 路长 sections.

    The slide shows per-section figures and names no case, like the street assessment beside
    it, so the deck (a leader's) reads every case.
    """
    if not sections(session):
        return None
    return section_board(session, parse_period(month, now), now, rules.sections,
                         scope=Scope.everything(), settings=indicator_rules)


def _frozen(session: Session, month: str) -> MonthFigures | None:
    """Return the figures frozen with a published month, or None for an older publication."""
    published = publication(session, month)
    if published is None or published.figures is None:
        log.warning("%s was published before its deck figures were frozen: reading them live; "
                    "publish it again with --force to freeze them", month)
        return None
    return published.figures

