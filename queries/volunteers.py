"""Named reads of volunteer service (志愿服务): what the screen's counters show.

An activity counts for an area when its place (a unit grid) lies inside the area, found by
walking the parent links down from the area (codes are opaque and need not nest).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from queries.hierarchy import in_subtree
from queries.models import Area, VolunteerActivity

Activity = VolunteerActivity


@dataclass(frozen=True)
class VolunteerCounts:
    """The volunteer counters of one area."""

    teams_active_today: int
    on_duty_now: int
    activities_today: dict[str, int]
    hours_this_month: float
    # Activities by type from the month's start to now: what the wall shows on a quiet day.
    activities_this_month: dict[str, int] = field(default_factory=dict)


def _in_area(stmt: Select, area: Area | None) -> Select:
    """Keep activities held inside ``area`` (None or the district: all of them)."""
    if area is None or area.level == "district":
        return stmt
    return stmt.where(in_subtree(Activity.grid_id, area.id))


def volunteer_counts(session: Session, *, day_start: datetime, day_end: datetime,
                     month_start: datetime, now: datetime,
                     area: Area | None = None) -> VolunteerCounts:
    """Count teams active in the day, people on duty at ``now``, activities by type, hours.

    - teams active today: distinct teams with an activity overlapping [day_start, day_end);
    - on duty now: participants of the activities running at ``now`` (start ≤ now < end);
    - activities today by service type: activities overlapping the day;
    - service hours this month: hours of the activities completed in [month_start, now];
    - activities this month by service type: activities started in [month_start, now].
    """
    today = (Activity.start_at < day_end, Activity.end_at > day_start)
    teams = session.scalar(_in_area(
        select(func.count(func.distinct(Activity.team_id))).where(*today), area))
    on_duty = session.scalar(_in_area(
        select(func.coalesce(func.sum(Activity.participants), 0))
        .where(Activity.start_at <= now, Activity.end_at > now), area))
    by_type = session.execute(_in_area(
        select(Activity.service_type, func.count()).where(*today)
        .group_by(Activity.service_type), area))
    hours = session.scalar(_in_area(
        select(func.coalesce(func.sum(Activity.service_hours), 0.0))
        .where(Activity.end_at >= month_start, Activity.end_at <= now), area))
    by_month = session.execute(_in_area(
        select(Activity.service_type, func.count())
        .where(Activity.start_at >= month_start, Activity.start_at <= now)
        .group_by(Activity.service_type), area))
    activities = _most_first(by_type)
    return VolunteerCounts(teams_active_today=teams or 0, on_duty_now=int(on_duty or 0),
                           activities_today=activities, hours_this_month=float(hours or 0.0),
                           activities_this_month=_most_first(by_month))


def _most_first(rows: Iterable[Any]) -> dict[str, int]:
    """Return (type, count) rows as a dict, most activities first, then by name."""
    return dict(sorted(((t, n) for t, n in rows), key=lambda item: (-item[1], item[0])))
