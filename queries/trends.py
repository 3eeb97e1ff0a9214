"""Daily series for trend charts, on the indicators' own definitions.

上报数 of a day counts the cases reported in it (cancelled ones too) and 结案数 the cases closed
in it that were not cancelled, exactly as ``queries.indicators`` counts them for one day;
tests/test_trends.py checks every day of the series against ``indicators`` itself. One GROUP BY
per series replaces thirty single-day aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from queries.areas import area_clauses
from queries.models import Area, Case


@dataclass(frozen=True)
class DailySeries:
    """Reported and closed per calendar day, oldest first, every day present (0 when none)."""

    days: list[date]
    reported: list[int]
    closed: list[int]


def reported_vs_closed(session: Session, *, last_day: date, days: int,
                       area: Area | None = None) -> DailySeries:
    """Count reported and closed cases per day for the ``days`` days ending with ``last_day``."""
    first = last_day - timedelta(days=days - 1)
    start = datetime.combine(first, datetime.min.time())
    end = start + timedelta(days=days)
    where = area_clauses(area)
    reported_day = func.date(Case.reported_at)
    closed_day = func.date(Case.closed_at)
    reported: dict[Any, int] = dict(session.execute(
        select(reported_day, func.count())
        .where(Case.reported_at >= start, Case.reported_at < end, *where)
        .group_by(reported_day)).all())
    closed: dict[Any, int] = dict(session.execute(
        select(closed_day, func.count())
        .where(Case.closed_at >= start, Case.closed_at < end, Case.cancelled_at.is_(None), *where)
        .group_by(closed_day)).all())
    # SQLite returns the day as text, PostgreSQL as a date: key both by ISO text.
    reported = {str(k)[:10]: v for k, v in reported.items()}
    closed = {str(k)[:10]: v for k, v in closed.items()}
    calendar = [first + timedelta(days=i) for i in range(days)]
    return DailySeries(days=calendar,
                       reported=[reported.get(d.isoformat(), 0) for d in calendar],
                       closed=[closed.get(d.isoformat(), 0) for d in calendar])
