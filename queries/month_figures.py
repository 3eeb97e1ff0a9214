"""The district's figures of one month beside its ranking: KPIs, the month before, the trend,
the problems by minor class — what the meeting deck shows around the assessment.

Read live for a provisional month; frozen into the publication (``publish_month``) and read
back for a published one, so a deck of a published month never changes with later edits to
its cases. Kept apart from ``queries.deck`` so that ``queries.assessment`` can freeze them
without an import cycle.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from queries.areas import district
from queries.grid_view import compared_period, worst_categories
from queries.indicators import (
    DEFAULT,
    Composite,
    CompositeWeights,
    IndicatorSet,
    IndicatorSettings,
    Ratio,
    indicators,
)
from queries.periods import parse_period
from queries.trends import DailySeries, reported_vs_closed

TREND_DAYS = 30
TOP_CATEGORIES = 12
FIGURES_FORMAT = 1


class FiguresError(ValueError):
    """The month's figures cannot be read (no district, or a stored copy in another format)."""


@dataclass(frozen=True)
class CategoryCount:
    """A minor class with its problems this month and last month."""

    minor: str
    problems: int
    previous: int


@dataclass(frozen=True)
class MonthFigures:
    """The district's KPIs of a month and the month before, the trend, the worst classes."""

    kpis: IndicatorSet
    previous_kpis: IndicatorSet
    trend: DailySeries
    categories: tuple[CategoryCount, ...]


def month_figures(session: Session, month: str, *, now: datetime,
                  settings: IndicatorSettings = DEFAULT) -> MonthFigures:
    """Read a month's figures from the cases as they are at ``now`` (under ``settings``)."""
    area = district(session)
    if area is None:
        raise FiguresError("the database holds no district: generate or import a city first")
    period = parse_period(month, now)
    # A running month is compared with the same elapsed span of last month, as the pages do.
    before, _ = compared_period(period, now)
    # Whole days: a running month's trend ends yesterday (its title says 截至 that day), as
    # the wall's does; today's few hours would end it in a plunge.
    last_day = min(period.last_day, now.date() - timedelta(days=1))
    counts = worst_categories(session, period, area, limit=TOP_CATEGORIES)
    earlier = dict(worst_categories(session, before, area, limit=None))
    return MonthFigures(
        kpis=indicators(session, period, now=now, settings=settings),
        previous_kpis=indicators(session, before, now=now, settings=settings),
        trend=reported_vs_closed(session, last_day=last_day, days=TREND_DAYS, area=area),
        categories=tuple(CategoryCount(minor, n, earlier.get(minor, 0)) for minor, n in counts),
    )


def figures_to_data(figures: MonthFigures) -> dict[str, Any]:
    """Return the figures as JSON-able data (dates as ISO text)."""
    data = asdict(figures)
    data["trend"]["days"] = [d.isoformat() for d in figures.trend.days]
    return {"format": FIGURES_FORMAT, **data}


def figures_from_data(data: dict[str, Any]) -> MonthFigures:
    """Rebuild figures from ``figures_to_data`` output."""
    if data.get("format") != FIGURES_FORMAT:
        raise FiguresError(f"stored month figures have format {data.get('format')!r}, "
                           f"expected {FIGURES_FORMAT}")
    trend = data["trend"]
    return MonthFigures(
        kpis=_indicator_set(data["kpis"]),
        previous_kpis=_indicator_set(data["previous_kpis"]),
        trend=DailySeries(days=[date.fromisoformat(d) for d in trend["days"]],
                          reported=list(trend["reported"]), closed=list(trend["closed"])),
        categories=tuple(CategoryCount(**c) for c in data["categories"]),
    )


def _indicator_set(data: dict[str, Any]) -> IndicatorSet:
    values: dict[str, Any] = {}
    for f in fields(IndicatorSet):
        if f.name not in data:
            raise FiguresError(f"stored month figures lack {f.name!r} (an older version)")
        raw = data[f.name]
        if f.type == "Ratio":
            values[f.name] = Ratio(**raw)
        elif f.name == "not_applicable":  # JSON turned its pairs into lists
            values[f.name] = tuple((key, reason) for key, reason in raw)
        elif f.name == "composite":
            values[f.name] = None if raw is None else Composite(
                **{**raw, "weights": CompositeWeights(**raw["weights"])})
        else:
            values[f.name] = raw
    return IndicatorSet(**values)
