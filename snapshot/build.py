"""Build one area's snapshot from the named queries (the only place the snapshot meets SQL).

Every number comes from ``queries/``: tiles from ``queries.indicators`` (today against
yesterday and the same weekday last week), the ranking from its 综合指标值, the trend from
``queries.trends``, the counters from ``queries.volunteers``. The payload is language-neutral;
``dashboard.screen.panels`` turns it into words for each wall.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.orm import Session, sessionmaker

from queries.areas import area_by_code, areas_at_level, descendants_at_level, district
from queries.assessment import shown_month
from queries.cases import OpenCase, newest_cases, open_cases
from queries.coords import Transform, shift_geometry, transform_for
from queries.indicators import (
    REPEAT_PROBLEMS,
    IndicatorSet,
    Ratio,
    deadline_light,
    indicator_def,
    indicators,
    indicators_by_area,
    ranking,
    repeat_problems,
    target_light,
    target_score,
    value_of,
)
from queries.models import (
    LEVEL_COMMUNITY,
    LEVEL_DISTRICT,
    LEVEL_GRID,
    LEVEL_STREET,
    LEVELS,
    SOURCES,
    Area,
)
from queries.periods import (
    DAY,
    MONTH,
    Period,
    parse_period,
    period_for,
    previous,
    same_weekday_last_week,
)
from queries.rules import load_rules
from queries.trends import reported_vs_closed
from queries.volunteers import volunteer_counts
from settings import Settings
from snapshot.cache import SharedCache
from snapshot.ranking import assessment_ranking
from snapshot.store import DISTRICT, Builder, Snapshot, UnknownArea

TILE_KEYS = ("reported", "registered", "dispatched", "closed",
             "ontime_close_rate", "open_overdue", "rework_times", "repeats")
# The month's ranking and the two comparison days move slowly but cost most of a build (the
# month's GROUP BY over every street; two whole-day aggregates): they are recomputed once per
# TTL instead of every tick. Today's tiles, the map, ticker and counters are never cached.
RANKING_TTL = timedelta(minutes=1)
PAST_DAYS_TTL = timedelta(minutes=5)
SPAN_MINUTES = 5  # the past days are cut to today's elapsed time, rounded down to this
TREND_DAYS = 30
TICKER_SIZE = 20
BOUNDARY_LEVELS = {LEVEL_DISTRICT: (LEVEL_STREET, LEVEL_COMMUNITY),
                   LEVEL_STREET: (LEVEL_COMMUNITY, LEVEL_GRID),
                   LEVEL_COMMUNITY: (LEVEL_GRID,), LEVEL_GRID: (LEVEL_GRID,)}


def map_light(dispatched_at: datetime | None, deadline_at: datetime | None, now: datetime,
              warn_fraction: float) -> str:
    """Return the map's one-letter light of an open case (``deadline_light``'s initial)."""
    return deadline_light(now, dispatched_at, deadline_at, warn_fraction)[0]


def case_feature(case: OpenCase, now: datetime, shift: Transform,
                 warn_fraction: float) -> dict[str, Any]:
    """Return the minimal GeoJSON feature of an open case (details load on click)."""
    lon, lat = shift(case.lon, case.lat)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]},
        "properties": {"id": case.id, "s": map_light(case.dispatched_at, case.deadline_at, now,
                                                          warn_fraction),
                       "m": case.major, "src": case.source},
    }


def density_features(cases: list[OpenCase], grids: Mapping[int, tuple[float, float]],
                     shift: Transform) -> list[dict[str, Any]]:
    """Return one point per unit grid with open cases: n cases, w = n / the busiest grid's n."""
    counts = Counter(case.grid_id for case in cases)
    top = max(counts.values(), default=0)
    features = []
    for grid_id, n in sorted(counts.items()):
        if grid_id not in grids:
            continue
        lon, lat = shift(*grids[grid_id])
        features.append({"type": "Feature",
                         "geometry": {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]},
                         "properties": {"n": n, "w": round(n / top, 3)}})
    return features


def boundaries_geojson(session: Session, area: Area, shift: Transform) -> bytes:
    """Return the outlines drawn under an area's map: its children and grandchildren."""
    features = []
    for level in BOUNDARY_LEVELS[area.level]:
        for child in descendants_at_level(session, area, level):
            features.append({"type": "Feature",
                             "geometry": shift_geometry(orjson.loads(child.geometry), shift),
                             "properties": {"code": child.code, "name": child.name,
                                            "level": level}})
    return orjson.dumps({"type": "FeatureCollection", "features": features})


def map_labels(session: Session, area: Area, shift: Transform) -> list[dict[str, Any]]:
    """Return the names the wall's map writes at the centres of the area's first outlines.

    Street names on the district's wall, community names on a street's, grid names below.
    """
    labels = []
    for child in descendants_at_level(session, area, BOUNDARY_LEVELS[area.level][0]):
        lon, lat = shift(child.center_lon, child.center_lat)
        labels.append({"code": child.code, "name": child.name,
                       "lat": round(lat, 5), "lon": round(lon, 5)})
    return labels


def area_bounds(area: Area, shift: Transform) -> list[list[float]]:
    """Return [[south, west], [north, east]] of an area's outline, for the map's first view."""
    positions: list[list[float]] = []

    def walk(coords: Any) -> None:
        if coords and isinstance(coords[0], (int, float)):
            positions.append(coords)
        else:
            for c in coords:
                walk(c)

    walk(shift_geometry(orjson.loads(area.geometry), shift)["coordinates"])
    lons = [p[0] for p in positions]
    lats = [p[1] for p in positions]
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


@dataclass(frozen=True)
class DayFigures:
    """The tiles' figures of one day: every indicator, and the repeat problems."""

    indicators: IndicatorSet
    repeats: int

    def raw(self, key: str) -> int | float | Ratio | None:
        """Return an indicator as the queries give it (a Ratio for rates)."""
        return self.repeats if key == REPEAT_PROBLEMS.key else getattr(self.indicators, key)

    def value(self, key: str) -> float | None:
        """Return an indicator as a number (None for a rate with a zero denominator)."""
        return self.repeats if key == REPEAT_PROBLEMS.key else value_of(self.indicators, key)


def day_figures(session: Session, day: Period, area_id: int | None, now: datetime) -> DayFigures:
    """Compute the tiles' figures of one day for an area (None: the district)."""
    return DayFigures(indicators(session, day, area_id=area_id, now=now),
                      repeat_problems(session, day, area_id=area_id))


def _delta(key: str, now_day: DayFigures, then_day: DayFigures) -> float | None:
    a, b = now_day.value(key), then_day.value(key)
    return None if a is None or b is None else round(a - b, 6)


def tile_entries(today: DayFigures, yesterday: DayFigures, last_week: DayFigures,
                 targets: Mapping[str, float]) -> list[dict[str, Any]]:
    """Return each KPI tile: value, text, changes, and its light against the target."""
    tiles = []
    for key in TILE_KEYS:
        definition = indicator_def(key)
        value, raw = today.value(key), today.raw(key)
        rate = isinstance(raw, Ratio)
        better = {True: "higher", False: "lower", None: None}[definition.higher_is_better]
        target = targets.get(key)
        light = None
        if target is not None and definition.higher_is_better is not None:
            light = target_light(target_score(value, target, definition.higher_is_better))
        tiles.append({
            "key": key, "rate": rate, "value": value,
            "text": raw.text() if isinstance(raw, Ratio) else f"{value:,.0f}",
            "num": raw.numerator if isinstance(raw, Ratio) else None,
            "den": raw.denominator if isinstance(raw, Ratio) else None,
            "d_day": _delta(key, today, yesterday), "d_week": _delta(key, today, last_week),
            "better": better, "target": target, "light": light,
        })
    return tiles


def ranking_section(session: Session, area: Area, now: datetime,
                    month: Period | None = None) -> dict[str, Any]:
    """Rank a month's 综合指标值 of the area's children (a grid: its siblings), best first.

    ``month`` is the month the wall shows (``queries.assessment.shown_month``; default the
    running one); the bottom two of more than two scored areas are marked (倒数后两名).
    """
    if area.level == LEVEL_GRID:
        parent = session.get(Area, area.parent_id)
        level = LEVEL_GRID
    else:
        parent, level = area, LEVELS[LEVELS.index(area.level) + 1]
    assert parent is not None
    names = {a.id: (a.code, a.name) for a in descendants_at_level(session, parent, level)}
    month = month or period_for(MONTH, now)
    sets = indicators_by_area(session, month, level=level, parent_id=parent.id, now=now)
    rows = []
    for area_id, values in sets.items():
        if area_id not in names:
            continue
        composite = values.composite
        score = None if composite is None or composite.total is None else round(composite.total, 2)
        rows.append({"code": names[area_id][0], "name": names[area_id][1], "score": score,
                     "grade": None if composite is None else composite.grade,
                     "self": area_id == area.id, "bottom": False})
    rows.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0), r["code"]))
    ranks = ranking(sets, "composite")
    codes = {code: area_id for area_id, (code, _name) in names.items()}
    for row in rows:
        row["rank"] = ranks.get(codes[row["code"]])
    scored = [r for r in rows if r["score"] is not None]
    if len(scored) > 2:
        for row in scored[-2:]:
            row["bottom"] = True
    return {"level": level, "month": month.token, "kind": "composite",
            "running": month.start <= now < month.end, "published": False, "rows": rows}


def make_builder(sessions: sessionmaker[Session], settings: Settings) -> Builder:
    """Return the function the store calls to build an area's snapshot."""
    shift = transform_for(settings.tile_crs)
    # Outlines, grid centres and street names do not change while the app runs: built once.
    static: dict[str, dict[str, Any]] = {}
    rankings: SharedCache[dict[str, Any]] = SharedCache(RANKING_TTL.total_seconds())
    rules = load_rules(settings.rules_file or None)
    past_days: SharedCache[list[DayFigures]] = SharedCache(PAST_DAYS_TTL.total_seconds())

    def fixed_parts(session: Session, area_code: str, area: Area) -> dict[str, Any]:
        if area_code not in static:
            static[area_code] = {
                "boundaries": boundaries_geojson(session, area, shift),
                "bounds": area_bounds(area, shift),
                "grids": {g.id: (g.center_lon, g.center_lat)
                          for g in descendants_at_level(session, area, LEVEL_GRID)},
                "streets": {s.id: s.name for s in areas_at_level(session, LEVEL_STREET)},
                "labels": map_labels(session, area, shift),
            }
        return static[area_code]

    def build(area_code: str, now: datetime) -> Snapshot:
        with sessions() as session:
            area = district(session) if area_code == DISTRICT else area_by_code(session, area_code)
            if area is None:
                raise UnknownArea(area_code)
            fixed = fixed_parts(session, area_code, area)
            area_id = None if area.level == LEVEL_DISTRICT else area.id
            today = period_for(DAY, now)
            # Today so far against the same span of the past days (to the same five minutes),
            # so a morning wall does not show every count "down" against a whole day.
            span = timedelta(minutes=(now - today.start) // timedelta(minutes=SPAN_MINUTES)
                             * SPAN_MINUTES)
            days = [day_figures(session, today, area_id, now), *past_days.get(
                (area_code, today.token, span),
                lambda: [day_figures(session, replace(day, end=day.start + span), area_id, now)
                         for day in (previous(today), same_weekday_last_week(today))])]
            # The district's wall ranks its streets by the monthly assessment (published
            # months frozen); lower walls rank their children by the composite 综合指标值.
            # Both show the last finished month until the running one has ranking.min_days.
            shown = parse_period(shown_month(now, rules), now)
            ranking = rankings.get(
                (area_code, shown.token),
                lambda: assessment_ranking(session, now, rules) if area.level == LEVEL_DISTRICT
                else ranking_section(session, area, now, shown))
            trend = reported_vs_closed(session, last_day=today.start.date(), days=TREND_DAYS,
                                       area=area)
            volunteers = volunteer_counts(
                session, day_start=today.start, day_end=today.end,
                month_start=period_for(MONTH, now).start, now=now, area=area)
            cases = open_cases(session, area=area)
            newest = newest_cases(session, limit=TICKER_SIZE, area=area)
        majors = sorted({c.major for c in cases})
        present = {c.source for c in cases}
        sources = [s for s in SOURCES if s in present] + sorted(present - set(SOURCES))
        payload: dict[str, Any] = {
            "area": {"code": area.code, "name": area.name, "level": area.level,
                     "bounds": fixed["bounds"]},
            "layers": {"majors": majors, "sources": sources},
            "labels": fixed["labels"],
            "tiles": tile_entries(*days, settings.targets),
            "ranking": ranking,
            "trend": {"days": [d.isoformat() for d in trend.days], "reported": trend.reported,
                      "closed": trend.closed},
            "volunteers": {"teams": volunteers.teams_active_today,
                           "on_duty": volunteers.on_duty_now,
                           "hours": round(volunteers.hours_this_month),
                           "types": [[k, v] for k, v in volunteers.activities_today.items()],
                           "types_month": [[k, v] for k, v in
                                           volunteers.activities_this_month.items()]},
            "ticker": [{"id": c.id, "time": f"{c.reported_at:%H:%M}", "source": c.source,
                        "street": fixed["streets"].get(c.street_id, ""), "minor": c.minor,
                        "status": c.status} for c in newest],
        }
        features = [case_feature(c, now, shift, settings.warn_fraction) for c in cases]
        density = density_features(cases, fixed["grids"], shift)
        return Snapshot.create(area_code, now, payload, features, fixed["boundaries"], density)

    return build
