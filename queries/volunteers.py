"""Named reads of volunteer service (志愿服务): the wall's counters and the /volunteers page.

An activity counts for an area when its place (a unit grid) lies inside the area, found by
walking the parent links down from the area (codes are opaque and need not nest).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from queries.hierarchy import in_subtree
from queries.models import Area, VolunteerActivity, VolunteerTeam

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


def teams_active(session: Session, *, start: datetime, end: datetime,
                 area: Area | None = None) -> int:
    """Distinct teams with an activity overlapping [start, end) (today, this month …)."""
    return int(session.scalar(_in_area(
        select(func.count(func.distinct(Activity.team_id)))
        .where(Activity.start_at < end, Activity.end_at > start), area)) or 0)


def on_duty(session: Session, *, now: datetime, area: Area | None = None) -> int:
    """Volunteers on duty at ``now``: participants of the activities running (start ≤ now < end)."""
    return int(session.scalar(_in_area(
        select(func.coalesce(func.sum(Activity.participants), 0))
        .where(Activity.start_at <= now, Activity.end_at > now), area)) or 0)


def activities_by_type(session: Session, *, start: datetime, end: datetime,
                       area: Area | None = None) -> dict[str, int]:
    """Activities overlapping [start, end) by service type, most first (ties by name)."""
    rows = session.execute(_in_area(
        select(Activity.service_type, func.count())
        .where(Activity.start_at < end, Activity.end_at > start)
        .group_by(Activity.service_type), area))
    return dict(sorted(((t, int(n)) for t, n in rows), key=lambda item: (-item[1], item[0])))


def service_hours(session: Session, *, start: datetime, now: datetime,
                  area: Area | None = None) -> float:
    """Service hours (participants × duration) of the activities completed in [start, now]."""
    return float(session.scalar(_in_area(
        select(func.coalesce(func.sum(Activity.service_hours), 0.0))
        .where(Activity.end_at >= start, Activity.end_at <= now), area)) or 0.0)


def volunteer_counts(session: Session, *, day_start: datetime, day_end: datetime,
                     month_start: datetime, now: datetime,
                     area: Area | None = None) -> VolunteerCounts:
    """The wall's counters, from the same named reads as the volunteers page.

    - teams active today: distinct teams with an activity overlapping [day_start, day_end);
    - on duty now: participants of the activities running at ``now`` (start ≤ now < end);
    - activities today by service type: activities overlapping the day;
    - service hours this month: hours of the activities completed in [month_start, now];
    - activities this month by service type: activities started in [month_start, now].
    """
    return VolunteerCounts(
        teams_active_today=teams_active(session, start=day_start, end=day_end, area=area),
        on_duty_now=on_duty(session, now=now, area=area),
        activities_today=activities_by_type(session, start=day_start, end=day_end, area=area),
        hours_this_month=service_hours(session, start=month_start, now=now, area=area),
        activities_this_month=activities_by_type(session, start=month_start, end=now, area=area))


@dataclass(frozen=True)
class TeamHours:
    """One team's service in a period: completed activities, people and hours."""

    team: str
    street: str
    activities: int
    participants: int
    hours: float


def teams_by_hours(session: Session, *, start: datetime, now: datetime,
                   area: Area | None = None, limit: int = 10) -> list[TeamHours]:
    """Teams ranked by the service hours of their activities completed in [start, now]."""
    street = Area.__table__.alias("team_street")
    stmt = (select(VolunteerTeam.name, street.c.name, func.count(Activity.id),
                   func.coalesce(func.sum(Activity.participants), 0),
                   func.coalesce(func.sum(Activity.service_hours), 0.0).label("hours"))
            .join(VolunteerTeam, VolunteerTeam.id == Activity.team_id)
            .join(street, street.c.id == VolunteerTeam.street_id)
            .where(Activity.end_at >= start, Activity.end_at <= now)
            .group_by(VolunteerTeam.id, VolunteerTeam.name, street.c.name)
            .order_by(func.coalesce(func.sum(Activity.service_hours), 0.0).desc(),
                      VolunteerTeam.name)
            .limit(limit))
    return [TeamHours(team=t, street=s, activities=int(n), participants=int(p), hours=float(h))
            for t, s, n, p, h in session.execute(_in_area(stmt, area))]


@dataclass(frozen=True)
class ActivityPoint:
    """One activity of a day, for the map: where, what, who, when, and whether it runs now."""

    lat: float
    lon: float
    title: str
    service_type: str
    team: str
    participants: int
    start_at: datetime
    end_at: datetime
    running: bool


def activities_on(session: Session, *, start: datetime, end: datetime, now: datetime,
                  area: Area | None = None) -> list[ActivityPoint]:
    """The activities overlapping [start, end), by start time."""
    stmt = (select(Activity.lat, Activity.lon, Activity.title, Activity.service_type,
                   VolunteerTeam.name, Activity.participants, Activity.start_at, Activity.end_at)
            .join(VolunteerTeam, VolunteerTeam.id == Activity.team_id)
            .where(Activity.start_at < end, Activity.end_at > start)
            .order_by(Activity.start_at, Activity.id))
    return [ActivityPoint(lat=la, lon=lo, title=ti, service_type=ty, team=te,
                          participants=int(pa), start_at=s, end_at=e, running=s <= now < e)
            for la, lo, ti, ty, te, pa, s, e in session.execute(_in_area(stmt, area))]


@dataclass(frozen=True)
class VolunteerDay:
    """One day of the trend: activities that started that day and the hours they gave."""

    day: date
    activities: int
    hours: float


def daily_trend(session: Session, *, first: date, days: int, now: datetime,
                area: Area | None = None) -> list[VolunteerDay]:
    """Activities started on each day from ``first`` for ``days`` days (up to ``now``), with
    their service hours; a day without any reads 0 (the calendar is complete)."""
    start = datetime.combine(first, time())
    end = min(start + timedelta(days=days), now)
    day_expr = func.date(Activity.start_at)
    rows = session.execute(_in_area(
        select(day_expr, func.count(Activity.id),
               func.coalesce(func.sum(Activity.service_hours), 0.0))
        .where(Activity.start_at >= start, Activity.start_at < end)
        .group_by(day_expr), area))
    found = {str(d): (int(n), float(h)) for d, n, h in rows}
    out = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        n, h = found.get(day.isoformat(), (0, 0.0))
        out.append(VolunteerDay(day=day, activities=n, hours=h))
    return out


@dataclass(frozen=True)
class GridVolunteerWork:
    """Volunteer work inside one area in a period (for the grid page)."""

    code: str
    activities: int
    participants: int
    hours: float


def work_by_area(session: Session, *, codes: list[str], start: datetime,
                 now: datetime) -> dict[str, GridVolunteerWork]:
    """Completed activities, participants and hours in [start, now] inside each area code.

    Codes nest, so a street's code counts every grid under it; an area without any reads 0.
    """
    rows = session.execute(
        select(Area.code, func.count(Activity.id),
               func.coalesce(func.sum(Activity.participants), 0),
               func.coalesce(func.sum(Activity.service_hours), 0.0))
        .join(Area, Area.id == Activity.grid_id)
        .where(Activity.end_at >= start, Activity.end_at <= now)
        .group_by(Area.code))
    grids = [(code, int(n), int(p), float(h)) for code, n, p, h in rows]
    out = {}
    for code in codes:
        inside = [g for g in grids if g[0].startswith(code)]
        out[code] = GridVolunteerWork(code=code, activities=sum(g[1] for g in inside),
                                      participants=sum(g[2] for g in inside),
                                      hours=sum(g[3] for g in inside))
    return out


@dataclass(frozen=True)
class VolunteerPage:
    """Everything /volunteers shows for one area at one moment (one read, one session)."""

    now: datetime
    teams_today: int
    teams_month: int
    on_duty_now: int
    activities_today: dict[str, int]
    hours_month: float
    hours_year: float
    teams: list[TeamHours]
    today: list[ActivityPoint]
    trend: list[VolunteerDay]


def volunteer_page(session: Session, *, now: datetime, area: Area | None = None,
                   trend_days: int = 30, top: int = 10) -> VolunteerPage:
    """Read the page: today, this month and this year by the city's clock, and the 30 whole
    days ending yesterday (today's activities have their own panels; a trend ending today
    fell to zero every night)."""
    day = datetime.combine(now.date(), time())
    month = day.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    year = month.replace(month=1)
    return VolunteerPage(
        now=now,
        teams_today=teams_active(session, start=day, end=day + timedelta(days=1), area=area),
        teams_month=teams_active(session, start=month, end=next_month, area=area),
        on_duty_now=on_duty(session, now=now, area=area),
        activities_today=activities_by_type(session, start=day, end=day + timedelta(days=1),
                                            area=area),
        hours_month=service_hours(session, start=month, now=now, area=area),
        hours_year=service_hours(session, start=year, now=now, area=area),
        teams=teams_by_hours(session, start=month, now=now, area=area, limit=top),
        today=activities_on(session, start=day, end=day + timedelta(days=1), now=now, area=area),
        trend=daily_trend(session, first=now.date() - timedelta(days=trend_days),
                          days=trend_days, now=now, area=area),
    )
