"""The demo city generator: geometry that tiles, cases that are consistent, a city that repeats."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import shapely
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ingest.democity import (
    CATEGORIES,
    CODE_LENGTH,
    SOURCE_WEIGHTS,
    GenerateSummary,
    WorkClock,
    ensure_reference_data,
    generate,
    make_address,
    make_description,
    sample_point_in_grid,
)
from ingest.names import community_roads
from queries.engine import init_db, make_engine
from queries.models import (
    OPEN_STATUSES,
    Area,
    Case,
    CaseEvent,
    Category,
    Department,
    PointOfInterest,
    Volunteer,
    VolunteerActivity,
    VolunteerTeam,
)
from queries.opening import check_expression
from queries.repeats import pair_distance_m
from queries.workcalendar import default_calendar

NOW = datetime(2026, 5, 12, 10, 30)  # a Tuesday morning
SEED = 7
CASES = 3000


def _fresh_engine(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    return engine


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, GenerateSummary]]:
    """One small generated city shared by the module's tests."""
    engine = _fresh_engine(tmp_path_factory.mktemp("democity") / "city.sqlite3")
    summary = generate(engine, cases=CASES, seed=SEED, now=NOW)
    yield engine, summary
    engine.dispose()


@pytest.fixture(scope="module")
def db(city: tuple[Engine, GenerateSummary]) -> Iterator[Session]:
    with Session(city[0]) as session:
        yield session


@pytest.fixture(scope="module")
def areas(db: Session) -> dict[int, Area]:
    return {a.id: a for a in db.scalars(select(Area))}


@pytest.fixture(scope="module")
def shapes(areas: dict[int, Area]) -> dict[int, shapely.Polygon]:
    return {i: shapely.from_geojson(a.geometry) for i, a in areas.items()}


@pytest.fixture(scope="module")
def cases(db: Session) -> list[Case]:
    return list(db.scalars(select(Case).order_by(Case.id)))


def _children(areas: dict[int, Area]) -> dict[int, list[int]]:
    kids: dict[int, list[int]] = defaultdict(list)
    for a in areas.values():
        if a.parent_id is not None:
            kids[a.parent_id].append(a.id)
    return kids


# --- areas ----------------------------------------------------------------------------------


def test_hierarchy_sizes_and_names(areas: dict[int, Area]) -> None:
    by_level = defaultdict(list)
    for a in areas.values():
        by_level[a.level].append(a)
    assert [a.name for a in by_level["district"]] == ["雁湖区"]
    assert by_level["district"][0].code == "610120"
    assert len(by_level["street"]) == 10
    assert sum(a.name.endswith("镇") for a in by_level["street"]) == 2
    assert 56 <= len(by_level["community"]) <= 64
    assert 480 <= len(by_level["grid"]) <= 520
    assert len({a.name for a in areas.values()}) == len(areas)
    assert all(a.name.endswith("网格") for a in by_level["grid"])


def test_codes_nest(areas: dict[int, Area]) -> None:
    for a in areas.values():
        assert len(a.code) == CODE_LENGTH[a.level] and a.code.isdigit()
        if a.parent_id is not None:
            assert a.code.startswith(areas[a.parent_id].code)


def test_codes_run_north_to_south(areas: dict[int, Area],
                                  shapes: dict[int, shapely.Polygon]) -> None:
    streets = sorted((a for a in areas.values() if a.level == "street"), key=lambda a: a.code)
    lats = [shapes[a.id].centroid.y for a in streets]
    assert np.mean(lats[:3]) > np.mean(lats[-3:])


def test_polygons_are_valid_single_polygons_with_six_decimals(
        areas: dict[int, Area], shapes: dict[int, shapely.Polygon]) -> None:
    for i, shape in shapes.items():
        assert shape.geom_type == "Polygon" and shape.is_valid, areas[i].code
        for number in re.findall(r"-?\d+\.\d+", areas[i].geometry):
            assert len(number.split(".")[1]) <= 6
    district = next(s for i, s in shapes.items() if areas[i].level == "district")
    assert district.contains(shapely.Point(108.9423, 34.2610))  # the Bell Tower
    district_area = next(a.area_m2 for a in areas.values() if a.level == "district")
    assert 25e6 <= district_area <= 35e6
    assert len(district.exterior.coords) > 5  # not a plain rectangle


def test_children_tile_their_parent(areas: dict[int, Area],
                                    shapes: dict[int, shapely.Polygon]) -> None:
    for parent, kids in _children(areas).items():
        whole = shapes[parent].area
        union = shapely.union_all([shapes[k] for k in kids]).area
        total = sum(shapes[k].area for k in kids)
        assert abs(union - whole) / whole < 1e-6, areas[parent].code  # no gaps
        assert abs(total - union) / whole < 1e-6, areas[parent].code  # no overlaps
        metres = areas[parent].area_m2
        assert abs(sum(areas[k].area_m2 for k in kids) - metres) / metres < 1e-6


def test_centres_inside(areas: dict[int, Area], shapes: dict[int, shapely.Polygon]) -> None:
    for i, a in areas.items():
        assert shapely.contains_xy(shapes[i], a.center_lon, a.center_lat), a.code


def test_roster(areas: dict[int, Area]) -> None:
    for a in areas.values():
        if a.level in ("street", "community", "grid"):
            assert a.leader
        if a.level == "grid":
            assert re.fullmatch(r"1\d{10}", a.leader_phone or "")
            assert 2 <= len((a.workers or "").split("、")) <= 4
            assert a.responsible_unit and a.responsible_unit.startswith(("区", "团区委"))
            assert a.unit_leader


# --- reference data -------------------------------------------------------------------------


def test_departments_and_categories(db: Session, areas: dict[int, Area]) -> None:
    departments = {d.code: d for d in db.scalars(select(Department))}
    specialist = [d for d in departments.values() if d.kind == "专业部门"]
    assert 17 <= len(specialist) <= 22
    assert sorted(d.name for d in departments.values() if d.kind == "属地") == sorted(
        a.name for a in areas.values() if a.level == "street")
    categories = list(db.scalars(select(Category)))
    assert 40 <= len(categories) <= 60
    assert {c.kind for c in categories} == {"部件", "事件"}
    elements = {"道路", "建筑", "车辆", "绿植", "环卫", "市政", "亮灯", "水系"}
    assert {c.element for c in categories} <= elements
    for c in categories:
        assert c.department_code in departments
        assert 0 < c.urgent_limit_hours <= c.limit_hours <= 48
    assert abs(sum(SOURCE_WEIGHTS.values()) - 1) < 1e-9
    assert len(CATEGORIES) == len(categories)


def test_ensure_reference_data_is_idempotent(tmp_path: Path) -> None:
    engine = _fresh_engine(tmp_path / "ref.sqlite3")
    for _ in range(2):
        with Session(engine) as session:
            ensure_reference_data(session)
            session.commit()
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Category)) == len(CATEGORIES)
        assert session.scalar(select(func.count()).select_from(Department)) == 18
    engine.dispose()


# --- cases ----------------------------------------------------------------------------------


def test_cases_lie_in_their_grid(cases: list[Case], areas: dict[int, Area],
                                 shapes: dict[int, shapely.Polygon]) -> None:
    for c in cases:
        assert shapely.contains_xy(shapes[c.grid_id], c.lon, c.lat), c.external_id
        assert areas[c.grid_id].level == "grid"
        assert areas[c.grid_id].parent_id == c.community_id
        assert areas[c.community_id].parent_id == c.street_id


def test_stage_times_are_ordered_and_past(cases: list[Case]) -> None:
    for c in cases:
        stages = [t for t in (c.reported_at, c.registered_at, c.dispatched_at, c.handled_at,
                              c.closed_at) if t is not None]
        assert stages == sorted(stages), c.external_id
        assert all(t <= NOW for t in stages + [c.cancelled_at] if t is not None)
        assert c.cancelled_at is None or c.cancelled_at >= c.reported_at
        assert (c.deadline_at is None) == (c.dispatched_at is None)
        assert c.deadline_at is None or c.deadline_at > c.dispatched_at


def test_status_agrees_with_timestamps(cases: list[Case]) -> None:
    seen = defaultdict(int)
    for c in cases:
        seen[c.status] += 1
        stamps = (c.registered_at, c.dispatched_at, c.handled_at, c.closed_at, c.cancelled_at)
        present = tuple(t is not None for t in stamps)
        expected = {
            "上报": [(False, False, False, False, False)],
            "立案": [(True, False, False, False, False)],
            "派遣": [(True, True, False, False, False)],
            "处置中": [(True, True, False, False, False)],
            "待核查": [(True, True, True, False, False)],
            "结案": [(True, True, True, True, False)],
            "作废": [(False, False, False, False, True), (True, False, False, False, True)],
        }[c.status]
        assert present in expected, (c.external_id, c.status, present)
        assert c.valid_report == (c.registered_at is not None)
        assert (c.settled_level is not None) == (c.handled_at is not None)
        assert (c.department_id is not None) == (c.dispatched_at is not None)
        assert c.satisfied is None or (c.source == "12345热线" and c.status == "结案")
    assert seen["结案"] > 0.85 * len(cases)
    assert seen["处置中"] + seen["待核查"] > 0


def test_events_record_every_stage(db: Session, cases: list[Case]) -> None:
    events = defaultdict(list)
    for e in db.scalars(select(CaseEvent).order_by(CaseEvent.id)):
        events[e.case_id].append(e)
    for c in cases:
        log = events[c.id]
        assert [e.at for e in log] == sorted(e.at for e in log)
        assert all(e.at <= NOW and e.actor for e in log)
        last = {e.action: e.at for e in log}
        assert last["上报"] == c.reported_at
        assert last.get("立案") == c.registered_at
        assert last.get("派遣") == c.dispatched_at
        assert last.get("结案") == c.closed_at
        assert last.get("作废") == c.cancelled_at
        assert ("延期" in last) == c.extended
        assert sum(e.action == "返工" for e in log) == c.rework_count
        if c.status in ("待核查", "结案"):
            assert last["处置"] == c.handled_at
        if c.status == "结案":
            assert last["核查"] <= c.closed_at


def test_deadlines_follow_the_working_calendar(db: Session, cases: list[Case]) -> None:
    calendar = default_calendar()
    limits = {c.id: (c.limit_hours, c.urgent_limit_hours) for c in db.scalars(select(Category))}
    extended = 0
    for c in cases:
        if c.dispatched_at is None:
            continue
        normal, urgent = limits[c.category_id]
        limit = urgent if c.urgency == "紧急" else normal
        first = c.original_deadline_at if c.extended else c.deadline_at
        assert first == calendar.add_working_hours(c.dispatched_at, limit), c.external_id
        if c.extended:
            extended += 1
            assert c.deadline_at > c.original_deadline_at
    assert 0.005 < extended / len(cases) < 0.04


@pytest.mark.parametrize("hours", [0.5, 1, 2, 4, 8, 24, 48, 96])
def test_work_clock_agrees_with_calendar(hours: float) -> None:
    calendar = default_calendar()
    clock = WorkClock(calendar, datetime(2025, 9, 1).date(), datetime(2026, 3, 31).date())
    rng = np.random.default_rng(int(hours * 10))
    epoch = datetime(1970, 1, 1)
    starts = [datetime(2025, 9, 20) + timedelta(seconds=int(s))
              for s in rng.integers(0, 120 * 86400, 300)]
    # Sitting edges and a holiday week (国庆) are where walking and table lookup could differ.
    edges = ((8, 0), (12, 0), (13, 59), (18, 0), (23, 59))
    starts += [datetime(2025, 9, 30, h, m) for h, m in edges]
    starts += [datetime(2025, 10, 3, 10, 0), datetime(2025, 10, 11, 17, 30)]
    seconds = np.array([int((s - epoch).total_seconds()) for s in starts])
    got = clock.add(seconds, np.full(len(starts), hours))
    for start, value in zip(starts, got.tolist()):
        assert epoch + timedelta(seconds=value) == calendar.add_working_hours(start, hours), start


def test_repeats_point_to_an_earlier_nearby_case(cases: list[Case]) -> None:
    """The rule orders cases by REGISTRATION time (then id), not by report time or by id."""
    by_id = {c.id: c for c in cases}
    repeats = [c for c in cases if c.repeat_of_id is not None]
    assert 0.04 < len(repeats) / len(cases) < 0.07
    for c in repeats:
        first = by_id[c.repeat_of_id]
        assert c.status != "作废" and first.status != "作废"
        assert (first.registered_at, first.id) < (c.registered_at, c.id)
        assert c.registered_at - first.registered_at <= timedelta(days=30)
        assert first.category_id == c.category_id
        assert pair_distance_m(first.lat, first.lon, c.lat, c.lon) <= 50.0 + 1e-3


def test_overdue_and_open_cases(cases: list[Case]) -> None:
    closed = [c for c in cases if c.status == "结案"]
    late = sum(c.handled_at > c.deadline_at for c in closed) / len(closed)
    assert 0.02 <= late <= 0.08
    late_close = sum(c.closed_at > c.deadline_at for c in closed) / len(closed)
    assert 0.02 <= late_close <= 0.10
    open_cases = [c for c in cases if c.status in OPEN_STATUSES]
    assert open_cases
    assert any(c.deadline_at is not None and c.deadline_at < NOW for c in open_cases)


def test_shares_look_like_a_real_district(cases: list[Case]) -> None:
    n = len(cases)

    def share(pred: Callable[[Case], bool]) -> float:
        return sum(map(pred, cases)) / n

    assert 0.50 < share(lambda c: c.source == "巡查上报") < 0.60
    assert 0.16 < share(lambda c: c.source == "12345热线") < 0.24
    assert 0.015 < share(lambda c: not c.valid_report) < 0.04
    assert 0.06 < share(lambda c: c.urgency == "紧急") < 0.10
    assert 0.015 < share(lambda c: c.rework_count > 0) < 0.045
    settled = [c.settled_level for c in cases if c.settled_level]
    assert 0.55 < settled.count("grid") / len(settled) < 0.75
    assert 0.05 < settled.count("district") / len(settled) < 0.16
    answered = [c.satisfied for c in cases if c.satisfied is not None]
    assert 0.85 < sum(answered) / len(answered) < 0.95
    assert len({c.external_id for c in cases}) == n
    assert all(re.fullmatch(r"YH\d{8}\d{5}", c.external_id) for c in cases)
    assert all(c.description and c.address for c in cases)


def test_cases_cover_thirteen_months_with_seasons(db: Session, cases: list[Case]) -> None:
    assert min(c.reported_at for c in cases) >= datetime(2025, 4, 12, 10, 30)
    snow = db.scalar(select(Category.id).where(Category.minor == "道路积雪结冰"))
    assert {c.reported_at.month for c in cases if c.category_id == snow} <= {11, 12, 1, 2, 3}
    weekday = sum(c.reported_at.weekday() < 5 for c in cases) / 5
    weekend = sum(c.reported_at.weekday() >= 5 for c in cases) / 2
    assert weekend < weekday
    night = sum(c.reported_at.hour < 6 for c in cases)
    assert night < 0.05 * len(cases)


def test_written_times_compare_equal_to_bound_datetimes(db: Session, cases: list[Case]) -> None:
    first = cases[0]
    assert db.scalar(select(func.count()).select_from(Case).where(
        Case.reported_at == first.reported_at)) >= 1
    assert db.scalar(select(func.count()).select_from(CaseEvent).where(
        CaseEvent.at == first.reported_at, CaseEvent.case_id == first.id)) == 1


# --- volunteers and maps --------------------------------------------------------------------


def test_volunteers(db: Session, shapes: dict[int, shapely.Polygon]) -> None:
    assert db.scalar(select(func.count()).select_from(VolunteerTeam)) >= 120
    assert 3000 <= db.scalar(select(func.count()).select_from(Volunteer)) <= 5000
    activities = list(db.scalars(select(VolunteerActivity)))
    assert all(a.start_at <= NOW and a.start_at < a.end_at for a in activities)
    assert sum(a.start_at <= NOW < a.end_at for a in activities) >= 5
    assert sum(a.start_at.date() == NOW.date() for a in activities) >= 8
    assert {a.start_at.month for a in activities if a.service_type == "扫雪除冰"} <= {12, 1, 2}
    for a in activities:
        hours = (a.end_at - a.start_at).total_seconds() / 3600
        assert a.service_hours == pytest.approx(a.participants * hours)
        assert shapely.contains_xy(shapes[a.grid_id], a.lon, a.lat)


def test_map_points(db: Session, shapes: dict[int, shapely.Polygon]) -> None:
    points = list(db.scalars(select(PointOfInterest)))
    toilets = [p for p in points if p.layer == "toilet"]
    assert len(toilets) >= 80 and all(p.kind == "公厕" for p in toilets)
    assert {p.status for p in toilets} == {"正常", "维修中"}
    assert any(p.family_room for p in toilets) and any(p.baby_care for p in toilets)
    others = [p for p in points if p.layer != "toilet"]
    assert len(others) >= 200
    assert {p.layer for p in others} == {"convenience", "culture"}
    assert {"菜市场", "政务服务中心", "社区卫生服务站", "医院", "药店", "应急避难场所", "AED",
            "文物古迹", "博物馆", "特色街区"} == {p.kind for p in others}
    assert all(p.free is True and p.paper is not None for p in toilets)
    assert any(p.paper for p in toilets) and not all(p.paper for p in toilets)
    for p in points:
        assert check_expression(p.opening_hours) == p.opening_hours  # OSM opening_hours
        assert shapely.contains_xy(shapes[p.grid_id], p.lon, p.lat)
        assert p.managing_unit


# --- determinism and safety ------------------------------------------------------------------


def _fingerprint(engine: Engine) -> tuple:
    ends = select(Case.external_id, Case.lat, Case.lon).where(
        Case.id.in_([select(func.min(Case.id)).scalar_subquery(),
                     select(func.max(Case.id)).scalar_subquery()])).order_by(Case.id)
    first_grid = select(Area.geometry).where(Area.level == "grid").order_by(Area.code).limit(1)
    with Session(engine) as s:
        return tuple(map(tuple, s.execute(ends))), s.scalar(first_grid)


def test_same_seed_same_city_other_seed_other_city(tmp_path: Path,
                                                   city: tuple[Engine, GenerateSummary]) -> None:
    engine, summary = city
    again = _fresh_engine(tmp_path / "again.sqlite3")
    other = _fresh_engine(tmp_path / "other.sqlite3")
    same = generate(again, cases=CASES, seed=SEED, now=NOW)
    different = generate(other, cases=CASES, seed=SEED + 1, now=NOW)
    assert replace(same, seconds=0) == replace(summary, seconds=0)
    assert _fingerprint(again) == _fingerprint(engine)
    assert _fingerprint(other) != _fingerprint(engine)
    assert replace(different, seconds=0) != replace(summary, seconds=0)
    again.dispose()
    other.dispose()


def test_refuses_to_generate_twice(city: tuple[Engine, GenerateSummary]) -> None:
    engine, summary = city
    with pytest.raises(ValueError, match="already holds"):
        generate(engine, cases=10, seed=SEED, now=NOW)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == summary.cases


def test_reusable_pieces(shapes: dict[int, shapely.Polygon], areas: dict[int, Area]) -> None:
    rng = np.random.default_rng(0)
    grid = next(i for i, a in areas.items() if a.level == "grid")
    lat, lon = sample_point_in_grid(rng, shapes[grid])
    assert shapely.contains_xy(shapes[grid], lon, lat)
    assert round(lat, 6) == lat and round(lon, 6) == lon
    address = make_address(rng, "北关街道", "龙首社区")
    road = re.fullmatch(r"北关街道龙首社区(\D+)\d+号", address)
    assert road and road.group(1) in community_roads("龙首社区")
    for category in CATEGORIES:
        text = make_description(rng, category.minor)
        assert text and "{" not in text
    assert json.loads(areas[grid].geometry)["type"] == "Polygon"


def test_stored_repeat_links_match_the_assessment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The 重复 tile (stored links) and the assessment (detection) count the same problems."""
    from queries.assessment import assess_month
    from queries.engine import make_session_factory
    from queries.indicators import repeat_problems
    from queries.periods import parse_period
    from queries.rules import load_rules

    eng = make_engine(f"sqlite:///{tmp_path / 'rep.sqlite3'}")
    init_db(eng)
    now = datetime(2026, 11, 23, 10, 0)
    generate(eng, cases=6000, seed=3, now=now)
    with make_session_factory(eng)() as s:
        detected = assess_month(s, "2026-10", load_rules(), now=now).district.repeat_problems
        assert detected > 0
        assert repeat_problems(s, parse_period("2026-10", now)) == detected


def test_repeats_linking_forward_in_insert_order_are_written(tmp_path: Path) -> None:
    """Stored links are exactly what detection finds, forward links in insert order included.

    Cases are inserted in report order, but the rule runs by registration time: a case
    reported later and registered sooner (registration can take hours) may be the earlier
    problem, and links are written once every chunk is in.
    """
    from ingest import democity
    from ingest.lifecycle import EPOCH
    from queries.repeats import find_repeats
    from queries.rules import load_rules

    eng = make_engine(f"sqlite:///{tmp_path / 'chunks.sqlite3'}")
    init_db(eng)
    original = democity.CHUNK
    democity.CHUNK = 997  # many chunks: links across chunk boundaries are certain
    try:
        generate(eng, cases=30_000, seed=9, now=datetime(2026, 11, 23, 10, 0))
    finally:
        democity.CHUNK = original
    rule = load_rules().repeat
    with Session(eng) as s:
        rows = s.execute(select(Case.id, Case.category_id, Case.lat, Case.lon,
                                Case.registered_at, Case.status, Case.repeat_of_id)).all()
    eng.dispose()
    stored = {r.id: r.repeat_of_id for r in rows if r.repeat_of_id is not None}
    kept = [r for r in rows if r.registered_at is not None and r.status != "作废"]
    ids = np.array([r.id for r in kept])
    micros = np.array([(r.registered_at - EPOCH) // timedelta(microseconds=1) for r in kept])
    match, _ = find_repeats(ids, np.array([r.category_id for r in kept]),
                            np.array([r.lat for r in kept]), np.array([r.lon for r in kept]),
                            micros, radius_m=rule.radius_m, days=rule.days)
    detected = {int(ids[k]): int(ids[m]) for k, m in enumerate(match.tolist()) if m >= 0}
    assert len(detected) > 1200
    assert stored == detected
    forward = [c for c, origin in stored.items() if origin > c]
    assert forward  # a link that points to a case inserted later
