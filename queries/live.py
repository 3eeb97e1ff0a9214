"""Today's running counts for the first page (reported, open, open overdue)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from queries.cases import _area_filter
from queries.models import OPEN_STATUSES, Area, Case


@dataclass(frozen=True)
class TodayCounts:
    """Counts for one day and the open cases right now."""

    reported: int
    open: int
    open_overdue: int

    def as_dict(self) -> dict[str, int]:
        """Return the counts as a plain dict."""
        return asdict(self)


def today_counts(session: Session, *, start: datetime, end: datetime, now: datetime,
                 area: Area | None = None) -> TodayCounts:
    """Count cases reported in [start, end) and the open (and overdue) cases at ``now``."""
    where = _area_filter(area)
    extra = [] if where is None else [where]
    reported = session.scalar(
        select(func.count()).select_from(Case)
        .where(Case.reported_at >= start, Case.reported_at < end, *extra)
    )
    is_open = Case.status.in_(OPEN_STATUSES)
    open_total = session.scalar(select(func.count()).select_from(Case).where(is_open, *extra))
    overdue = session.scalar(
        select(func.count()).select_from(Case).where(is_open, Case.deadline_at < now, *extra)
    )
    return TodayCounts(reported=reported or 0, open=open_total or 0, open_overdue=overdue or 0)
