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

from dashboard.tiles import tile_payload
from queries.areas import area_by_code, areas_at_level, descendants_at_level, district
from queries.assessment import shown_month
from queries.cases import OpenCase, newest_cases, open_cases
from queries.coords import Transform, shift_geometry, transform_for
from queries.hierarchy import listing
from queries.indicators import (
    DEFAULT,
    REPEAT_PROBLEMS,
    IndicatorSet,
    IndicatorSettings,
    Ratio,
    deadline_light,
    indicator_def,
    indicators,
    indicators_by_area,
    ranking,
    repeat_problems,
    value_of,
)
from queries.kept_months import KeptMonths
from queries.models import (
    LEVEL_COMMUNITY,
    LEVEL_DISTRICT,
    LEVEL_GRID,
    LEVEL_STREET,
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
from queries.scope import Scope
from queries.settled import SettledParts
from queries.trends import DailySeries, reported_vs_closed
from queries.vocabulary import OTHER
from queries.volunteers import volunteer_counts
from settings import Settings
from snapshot.cache import SharedCache
from snapshot.ranking import assessment_ranking
from snapshot.store import DISTRICT, Builder, Snapshot, UnknownArea

TILE_KEYS = ("reported", "registered", "dispatched", "closed",
             "ontime_close_rate", "open_overdue", "rework_times", "repeats")
# The month's ranking and the two comparison days move slowly but cost most of a build (the
# month's GROUP BY over every street; two whole-day aggregates): they are recomputed once per
# TTL instead of every tick, and so is the trend (30 whole days ending yesterday: only a
# backdated import changes it). Today's tiles, the map, ticker and counters are never cached.
RANKING_TTL = timedelta(minutes=1)
PAST_DAYS_TTL = timedelta(minutes=5)
SPAN_MINUTES = 5  # the past days are cut to today's elapsed time, rounded down to this
TREND_DAYS = 30
LAYER_GROUPS = 8  # map filter switches per list before the rest go under 其他
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
    counts = Counter(case.grid_id for case in cases if case.grid_id is not None)
    top = max(counts.values(), default=0)
    features = []
    for grid_id, n in sorted(counts.items()):
        if grid_id not in grids:
            continue
        lon, lat = shift(*grids[grid_id])
        features.append({"type": "Feature",
                         "geometry": {"type": "Point",
                                      "coordinates": [round(lon, 5), round(lat, 5)]},
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
        """Return an indicator as a tile needs it: a Ratio for rates, else a number or None."""
        if key == REPEAT_PROBLEMS.key:
            return self.repeats
        raw = getattr(self.indicators, key)
        return raw if isinstance(raw, Ratio) else value_of(self.indicators, key)

    def value(self, key: str) -> float | None:
        """Return an indicator as a number (None for a rate with a zero denominator)."""
        return self.repeats if key == REPEAT_PROBLEMS.key else value_of(self.indicators, key)


def day_figures(session: Session, day: Period, area_id: int | None, now: datetime,
                rules: IndicatorSettings = DEFAULT,
                settled: SettledParts | None = None) -> DayFigures:
    """Compute the tiles' figures of a period for an area (None: the district)."""
    return DayFigures(indicators(session, day, area_id=area_id, now=now, settings=rules,
                                 settled=settled),
                      repeat_problems(session, day, area_id=area_id))


def ticker_time(at: datetime, now: datetime, today: datetime) -> str:
    """Return a ticker entry's time: 14:05 today, 12-03 14:05 another day, with the year when
    it is not this (real) year — a wall looking back at last December must say so."""
    if at.year != today.year:
        return f"{at:%Y-%m-%d %H:%M}"
    return f"{at:%H:%M}" if at.date() == now.date() else f"{at:%m-%d %H:%M}"


def layer_groups(open_counts: Counter[str], *, order: tuple[str, ...] = (),
                 shown: int = LAYER_GROUPS) -> list[list[Any]]:
    """Group a map filter's values: the ``shown`` largest by open cases, the rest as 其他.

    Each group is ``[label, members]``; known values keep ``order`` (sources in their usual
    order), others sort by name, and 其他 comes last. A real export's 150 types in 50 classes
    so become nine switches that fit the map's filter panel.
    """
    top = {value for value, _ in sorted(open_counts.items(), key=lambda kv: (-kv[1], kv[0]))
           [:shown]}
    rest = sorted(set(open_counts) - top)
    if len(rest) == 1:  # one value needs no "other" switch of its own
        top, rest = top | set(rest), []
    rank = {value: n for n, value in enumerate(order)}
    groups: list[list[Any]] = [[v, [v]] for v in sorted(top, key=lambda v: (rank.get(v, 99), v))]
    return groups + ([[OTHER, rest]] if rest else [])


def span_of(period: Period, now: datetime) -> timedelta:
    """Return how much of a running period has passed, in whole SPAN_MINUTES steps."""
    elapsed = min(now, period.end) - period.start
    return elapsed // timedelta(minutes=SPAN_MINUTES) * timedelta(minutes=SPAN_MINUTES)


def tile_entries(days: list[DayFigures], months: list[DayFigures],
                 targets: Mapping[str, float]) -> list[dict[str, Any]]:
    """Return each KPI tile of the wall, named with its period and its comparisons.

    Counts are today's, against the same span of yesterday and of last week's same weekday;
    rates are the month so far, against the same span of last month (同期).
    """
    tiles = []
    for key in TILE_KEYS:
        if indicator_def(key).kind == "rate":
            now, before = months[0], months[1:]
            period, compare = "month", ["vs_last_month_span"]
        else:
            now, before = days[0], days[1:]
            period, compare = "day", ["vs_yesterday", "vs_last_week"]
        tile = tile_payload(key, now.raw(key), [b.raw(key) for b in before], targets)
        tiles.append({**tile, "period": period, "compare": compare})
    return tiles


def ranking_section(session: Session, area: Area, now: datetime,
                    month: Period | None = None,
                    rules: IndicatorSettings = DEFAULT,
                    settled: SettledParts | None = None) -> dict[str, Any]:
    """Rank a month's 综合指标值 of the area's children (a grid: its siblings), best first.

    ``month`` is the month the wall shows (``queries.assessment.shown_month``; default the
    running one); the bottom two of more than two scored areas are marked (倒数后两名).
    """
    # Derived levels only repeat their parent: a two-level city's ward ranks its precincts, and
    # a precinct (whose one grid is derived) ranks among its siblings.
    parent, level = listing(session, area)
    names = {a.id: (a.code, a.name) for a in descendants_at_level(session, parent, level)}
    month = month or period_for(MONTH, now)
    sets = indicators_by_area(session, month, level=level, parent_id=parent.id, now=now,
                              settings=rules, settled=settled)
    rows: list[dict[str, Any]] = []
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
        # The bottom two as the assessment counts them: fewer than two scored areas below,
        # so areas tied at the boundary are marked alike whatever their codes.
        for row in scored:
            row["bottom"] = sum(other["score"] < row["score"] for other in scored) < 2
    return {"level": level, "month": month.token, "kind": "composite",
            "running": month.start <= now < month.end, "published": False, "rows": rows}


def make_builder(sessions: sessionmaker[Session], settings: Settings, *,
                 writes: sessionmaker[Session] | None = None,
                 keep_months: bool = True) -> Builder:
    """Return the function the store calls to build an area's snapshot.

    Finished months of the district's ranking are kept in the database through ``writes``
    (``sessions`` when None), unless ``keep_months`` is False (benchmarks: the baseline).
    """
    shift = transform_for(settings.tile_crs)
    # Outlines, grid centres and street names do not change while the app runs: built once.
    static: dict[str, dict[str, Any]] = {}
    rankings: SharedCache[dict[str, Any]] = SharedCache(RANKING_TTL.total_seconds())
    rules = load_rules(settings.rules_file or None)
    kept = KeptMonths(writes or sessions) if keep_months else None
    past_days: SharedCache[list[DayFigures]] = SharedCache(PAST_DAYS_TTL.total_seconds())
    months_so_far: SharedCache[DayFigures] = SharedCache(RANKING_TTL.total_seconds())
    past_months: SharedCache[DayFigures] = SharedCache(PAST_DAYS_TTL.total_seconds())
    trends: SharedCache[DailySeries] = SharedCache(PAST_DAYS_TTL.total_seconds())
    figures_rules = settings.indicator_settings()
    # The running month's cases settled before today are read once a day, not every minute.
    settled = SettledParts()

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

    def build(key: str, now: datetime) -> Snapshot:
        # A key is an area code, or "code@moment" for a wall looking back (?as_of=): that
        # wall's clock stands at the moment, and open cases and the ticker are as they stood.
        area_code, _, moment = key.partition("@")
        if moment:
            now = datetime.fromisoformat(moment)
        as_of = now if moment or settings.as_of else None
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
            days = [day_figures(session, today, area_id, now, figures_rules), *past_days.get(
                (key, today.token, span),
                lambda: [day_figures(session, replace(day, end=day.start + span), area_id, now,
                                     figures_rules)
                         for day in (previous(today), same_weekday_last_week(today))])]
            # Rates read the month so far against the same span of last month (同期): a day's
            # handful of due cases makes a rate jump, a month's does not.
            month = period_for(MONTH, now)
            month_span = span_of(month, now)
            months = [
                months_so_far.get((key, month.token, f"{now:%H:%M}"),
                                  lambda: day_figures(session, month, area_id, now,
                                                      figures_rules, settled)),
                past_months.get((key, month.token, month_span), lambda: day_figures(
                    session, replace(previous(month), end=previous(month).start + month_span),
                    area_id, now, figures_rules)),
            ]
            # The district's wall ranks its streets by the monthly assessment (published
            # months frozen); lower walls rank their children by the composite 综合指标值.
            # Both show the last finished month until the running one has ranking.min_days.
            shown = parse_period(shown_month(now, rules), now)
            ranking = rankings.get(
                (key, shown.token),
                lambda: assessment_ranking(session, now, rules, kept)
                if area.level == LEVEL_DISTRICT
                else ranking_section(session, area, now, shown, figures_rules, settled))
            # The trend's 30 days are whole days, ending yesterday: today's few hours drew a
            # last point that plunged toward zero every night and morning (today is on the
            # tiles, against yesterday's same hours).
            trend = trends.get((key, today.token), lambda: reported_vs_closed(
                session, last_day=today.start.date() - timedelta(days=1), days=TREND_DAYS,
                area=area))
            volunteers = volunteer_counts(
                session, day_start=today.start, day_end=today.end,
                month_start=period_for(MONTH, now).start, now=now, area=area)
            # The wall's snapshot is the command center's own screen: the whole city. Its map
            # points and ticker carry no case details; a card reads them in the caller's scope.
            cases = open_cases(session, scope=Scope.everything(), area=area, as_of=as_of)
            newest = newest_cases(session, scope=Scope.everything(), limit=TICKER_SIZE,
                                  area=area, as_of=as_of)
        majors = layer_groups(Counter(c.major for c in cases))
        sources = layer_groups(Counter(c.source for c in cases), order=SOURCES)
        payload: dict[str, Any] = {
            "area": {"code": area.code, "name": area.name, "level": area.level,
                     "bounds": fixed["bounds"]},
            "layers": {"majors": majors, "sources": sources},
            "labels": fixed["labels"],
            "tiles": tile_entries(days, months, settings.targets),
            "ranking": ranking,
            "trend": {"days": [d.isoformat() for d in trend.days], "reported": trend.reported,
                      "closed": trend.closed},
            "volunteers": {"teams": volunteers.teams_active_today,
                           "on_duty": volunteers.on_duty_now,
                           "hours": round(volunteers.hours_this_month),
                           "types": [[k, v] for k, v in volunteers.activities_today.items()],
                           "types_month": [[k, v] for k, v in
                                           volunteers.activities_this_month.items()]},
            "ticker": [{"id": c.id, "time": ticker_time(c.reported_at, now, settings.now_live()),
                        "source": c.source,
                        "street": fixed["streets"].get(c.street_id, ""), "minor": c.minor,
                        "status": c.status} for c in newest],
        }
        # An imprecise location (a default geocode, a shared or coarse point) is not drawn as a
        # point — a pile on the city hall says nothing — but counted beside the map.
        features = [case_feature(c, now, shift, settings.warn_fraction) for c in cases
                    if c.location_precise]
        payload["imprecise"] = sum(1 for c in cases if not c.location_precise)
        density = density_features(cases, fixed["grids"], shift)
        payload["as_of"] = now.isoformat() if as_of is not None else None
        return Snapshot.create(key, now, payload, features, fixed["boundaries"], density)

    return build
