"""The grid page without a browser: its glue against the hand-built city (every number must be
what ``queries.indicators`` gives: the wiring, not the indicators, is under test here), its URL
state, map classes, table rows, workbook export, cache and polygon route."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import create_app
from callbacks.grids import OUTPUTS, next_state, view_outputs
from dashboard import ids
from dashboard.exports import xlsx_bytes
from dashboard.grids import layout as grids_page
from dashboard.grids.choropleth import NO_VALUE, RED_TO_GREEN, SAME, class_breaks, classify, palette
from dashboard.grids.state import (
    DEFAULT_KPI,
    GridsState,
    parse_state,
    period_choice,
    query_params,
    range_of,
    resolve_period,
    with_range,
)
from dashboard.grids.view import (
    PARTS_SUFFIX,
    TEXT_SUFFIX,
    TILE_KEYS,
    column_defs,
    export_table,
    format_value,
    indicator_text,
    legend,
    map_classes,
    map_hideout,
    standings,
    table_rows,
    tiles,
    total_rows,
)
from queries.engine import init_db, make_engine, make_session_factory
from queries.grid_view import (
    GridView,
    compared_period,
    grid_view,
    trend_window,
    worst_categories,
)
from queries.indicators import (
    DASH,
    INDICATORS,
    Ratio,
    indicators,
    indicators_by_area,
    value_of,
)
from queries.models import OPEN_STATUSES, Area, Case
from queries.periods import parse_period, previous
from queries.scope import Scope
from settings import Settings
from snapshot.cache import SharedCache
from tests.handbuilt import NOVEMBER, NOW, OCTOBER, HandBuilt, build_handbuilt
from tests.pages import page_request

AREA_KEYS = ("D", "S1", "S2", "C1", "C3", "G1", "G4")
PERIODS = {"oct": OCTOBER, "nov": NOVEMBER}


@pytest.fixture
def city(session: Session) -> HandBuilt:
    """The hand-built city, committed."""
    built = build_handbuilt(session)
    session.commit()
    return built


def view_of(session: Session, city: HandBuilt, key: str, period_key: str) -> GridView:
    area = session.get(Area, city.areas[key])
    assert area is not None
    view = grid_view(session, "" if key == "D" else area.code, PERIODS[period_key], NOW,
                     scope=Scope.everything())
    assert view is not None
    return view


# --- the glue: every number is indicators()'s -------------------------------------------------


@pytest.mark.parametrize("period_key", PERIODS)
@pytest.mark.parametrize("key", AREA_KEYS)
def test_view_numbers_are_the_indicators(session: Session, city: HandBuilt, key: str,
                                         period_key: str) -> None:
    view = view_of(session, city, key, period_key)
    period = PERIODS[period_key]
    area_id = city.areas[key]
    assert view.current == indicators(session, period, area_id=area_id, now=NOW)
    before, same_span = compared_period(period, NOW)
    assert view.before == indicators(session, before, area_id=area_id, now=NOW)
    assert view.previous == before and view.same_span == same_span
    parent = session.get(Area, view.map_parent.id)
    assert parent is not None
    expected = indicators_by_area(session, period, level=view.child_level, parent_id=parent.id,
                                  now=NOW)
    assert {a.id: values for a, values in view.children} == expected
    assert [a.id for a, _ in view.children] == list(expected)  # code order kept


def test_district_is_the_default_area(session: Session, city: HandBuilt) -> None:
    view = grid_view(session, "", OCTOBER, NOW, scope=Scope.everything())
    assert view is not None
    assert view.area.id == city.areas["D"]
    assert view.current == indicators(session, OCTOBER, now=NOW)


def test_hierarchy_around_the_area(session: Session, city: HandBuilt) -> None:
    district = view_of(session, city, "D", "oct")
    assert [a.name for a in district.lineage] == ["示范区"]
    assert district.child_level == "street"
    assert [a.name for a, _ in district.children] == ["城西街道", "城东街道"]
    grid = view_of(session, city, "G2", "oct")
    assert [a.name for a in grid.lineage] == ["示范区", "城西街道", "西苑社区", "西苑社区02网格"]
    assert grid.map_parent.id == city.areas["C1"]  # a grid's map shows its community's grids
    assert grid.child_level == "grid"
    assert [a.id for a, _ in grid.children] == [city.areas["G1"], city.areas["G2"]]
    assert grid_view(session, "99999999999999", OCTOBER, NOW, scope=Scope.everything()) is None


def test_roster_counts_what_lies_inside(session: Session, city: HandBuilt) -> None:
    district = view_of(session, city, "D", "oct")
    assert district.roster.below == {"street": 2, "community": 3, "grid": 5}
    assert view_of(session, city, "S1", "oct").roster.below == {"community": 2, "grid": 3}
    grid = view_of(session, city, "G1", "oct")
    assert grid.roster.below == {}
    leader = session.scalar(select(Area.leader).where(Area.id == city.areas["G1"]))
    assert grid.roster.leader == leader


@pytest.mark.parametrize("period_key", PERIODS)
@pytest.mark.parametrize("key", AREA_KEYS)
def test_worst_categories_split_the_registered_cases(session: Session, city: HandBuilt,
                                                     key: str, period_key: str) -> None:
    view = view_of(session, city, key, period_key)
    area = session.get(Area, city.areas[key])
    assert area is not None
    every = worst_categories(session, PERIODS[period_key], area, limit=None)
    assert sum(n for _, n in every) == view.current.registered - view.current.cancelled
    assert view.worst_categories == every[:len(view.worst_categories)]
    assert [n for _, n in every] == sorted((n for _, n in every), reverse=True)


@pytest.mark.parametrize("key", AREA_KEYS)
def test_open_cases_are_the_open_ones(session: Session, city: HandBuilt, key: str) -> None:
    view = view_of(session, city, key, "nov")
    area = session.get(Area, city.areas[key])
    assert area is not None
    column = {"district": None, "street": Case.street_id, "community": Case.community_id,
              "grid": Case.grid_id}[area.level]
    where = [Case.status.in_(OPEN_STATUSES)] + ([] if column is None else [column == area.id])
    assert view.open_cases.total == session.scalar(select(func.count()).where(*where))
    assert [r.overdue for r in view.open_cases.rows] == [
        r.deadline_at is not None and r.deadline_at < NOW for r in view.open_cases.rows]
    assert view.open_cases.overdue == sum(r.overdue for r in view.open_cases.rows)
    deadlines = [r.deadline_at for r in view.open_cases.rows if r.deadline_at is not None]
    assert deadlines == sorted(deadlines)  # the most urgent first


@pytest.mark.parametrize("key", AREA_KEYS)
def test_trend_of_a_finished_month_adds_up_to_its_indicators(session: Session, city: HandBuilt,
                                                              key: str) -> None:
    view = view_of(session, city, key, "oct")
    assert view.trend.days[0] == date(2026, 10, 1) and len(view.trend.days) == 31
    assert sum(view.trend.reported) == view.current.reported
    assert sum(view.trend.closed) == view.current.closed


def test_trend_window_covers_the_period_so_far_and_a_week_at_least() -> None:
    assert trend_window(OCTOBER, NOW) == (date(2026, 10, 31), 31)
    assert trend_window(parse_period("month", NOW), NOW) == (date(2026, 11, 20), 20)
    assert trend_window(parse_period("day", NOW), NOW) == (date(2026, 11, 20), 7)


# --- tiles, table and export ---------------------------------------------------------------


def test_a_running_period_is_compared_with_the_same_span(session: Session,
                                                         city: HandBuilt) -> None:
    # November is running at NOW (11-20 12:00): 19 days 12 hours in. October's same span is
    # 10-01 00:00 – 10-20 12:00, which holds the reports of cases 3–15 (13), not October's 18.
    view = grid_view(session, "", parse_period("2026-11", NOW), NOW,
                     scope=Scope.everything())
    assert view is not None and view.same_span
    assert (view.previous.start, view.previous.end) == (datetime(2026, 10, 1),
                                                        datetime(2026, 10, 20, 12, 0))
    assert view.before.reported == 13
    assert indicators(session, OCTOBER, now=NOW).reported == 18
    # A finished month is compared with the whole month before; a day with the day before to
    # the same time.
    october = grid_view(session, "", OCTOBER, NOW, scope=Scope.everything())
    assert october is not None and not october.same_span
    assert october.previous == previous(OCTOBER)
    today, cut = compared_period(parse_period("2026-11-20", NOW), NOW)
    assert cut and (today.start, today.end) == (datetime(2026, 11, 19), datetime(2026, 11, 19, 12))
    # The page says so: 同期 on every tile and in the period line.
    texts = str(grids_page.create_status(view, "zh")) + str(grids_page.create_tiles(
        tiles(view, "composite"), "zh", view.same_span))
    assert "2026年10月同期(至 2026-10-20 12:00)" in texts and "同期 " in texts
    assert "上期" not in texts
    english = str(grids_page.create_status(view, "en"))
    assert "October 2026, same span (to 2026-10-20 12:00)" in english


def test_tiles_show_this_and_the_previous_period(session: Session, city: HandBuilt) -> None:
    view = view_of(session, city, "S1", "nov")
    shown = tiles(view, "close_rate")
    assert [t.key for t in shown] == list(TILE_KEYS)
    assert [t.key for t in shown if t.selected] == ["close_rate"]
    for tile in shown:
        assert tile.text == indicator_text(view.current, tile.key)
        assert tile.before_text == indicator_text(view.before, tile.key)
        now, then = value_of(view.current, tile.key), value_of(view.before, tile.key)
        expected = None if now is None or then is None else now - then
        assert tile.delta == pytest.approx(expected) if expected is not None else tile.delta is None
    rate = next(t for t in shown if t.key == "close_rate")
    ratio = view.current.close_rate
    assert rate.text == ratio.text()
    assert rate.parts == f"{ratio.numerator:,} / {ratio.denominator:,}"
    assert [t.key for t in tiles(view, "rework_rate")][-1] == "rework_rate"


def test_zero_denominators_show_a_dash_never_zero() -> None:
    assert Ratio(0, 0).text() == DASH
    assert format_value(None, "rate") == DASH
    assert format_value(0.93724, "rate") == "93.72%"
    assert format_value(0.000049999, "rate") == "0.00%"
    assert format_value(0.00005, "rate") == "0.01%"  # half up, as bulletins round
    assert format_value(1234, "count") == "1,234"


def test_table_rows_carry_numbers_texts_and_parts(session: Session, city: HandBuilt) -> None:
    view = view_of(session, city, "D", "oct")
    rows = table_rows(view, "zh")
    assert [r["code"] for r in rows] == [a.code for a, _ in view.children]
    for row, (_area, values) in zip(rows, view.children):
        for definition in INDICATORS:
            key = definition.key
            assert row[key] == value_of(values, key)
            assert row[key + TEXT_SUFFIX] == indicator_text(values, key)
            raw = getattr(values, key)
            if isinstance(raw, Ratio):
                assert row[key + PARTS_SUFFIX] == f"{raw.numerator:,} / {raw.denominator:,}"
                if raw.denominator == 0:
                    assert row[key] is None and row[key + TEXT_SUFFIX] == DASH
    total = total_rows(view, "zh")
    assert len(total) == 1 and total[0]["reported"] == view.current.reported
    grid = view_of(session, city, "G2", "oct")
    assert [r["_selected"] for r in table_rows(grid, "zh")] == [False, True]
    assert total_rows(grid, "zh") == []


def test_columns_put_the_chosen_indicator_first_worst_first() -> None:
    columns = column_defs("ontime_close_rate", "zh")
    chosen = next(c for c in columns if c["field"] == "ontime_close_rate")
    assert chosen["pinned"] == "left" and chosen["sort"] == "asc"  # higher is better
    assert next(c for c in column_defs("open_overdue", "zh")
                if c["field"] == "open_overdue")["sort"] == "desc"
    assert "sort" not in next(c for c in column_defs("reported", "zh") if c["field"] == "reported")
    fields = [c["field"] for c in columns]
    assert fields[:2] == ["name", "code"] and {d.key for d in INDICATORS} <= set(fields)


def test_workbook_export_reads_back(session: Session, city: HandBuilt) -> None:
    view = view_of(session, city, "D", "nov")
    headers, rows, formats = export_table(view, "zh")
    book = load_workbook(BytesIO(xlsx_bytes("示范区 2026-11", headers, rows, formats)))
    sheet = book.active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == headers
    assert headers[:2] == ["名称", "编码"] and "按期结案率" in headers and "等级" in headers
    assert len(values) == 1 + len(view.children) + 1  # the children, then the district's total
    first_area, first = view.children[0]
    by_header = dict(zip(headers, values[1]))
    assert by_header["名称"] == first_area.name
    assert by_header["上报数"] == first.reported
    rate = first.ontime_close_rate
    assert by_header["按期结案率"] == (DASH if rate.value is None else pytest.approx(rate.value))
    column = headers.index("按期结案率") + 1
    cell = sheet.cell(row=2, column=column)
    if rate.value is not None:
        assert cell.number_format == "0.00%"
    last = dict(zip(headers, values[-1]))
    assert last["上报数"] == view.current.reported
    zero = next(((a, v) for a, v in view.children if v.close_rate.denominator == 0), None)
    if zero is not None:
        row = next(r for r in values[1:] if r[1] == zero[0].code)
        assert row[headers.index("结案率")] == DASH


def test_workbook_sheet_names_are_made_legal() -> None:
    data = xlsx_bytes("a/b:c*d?[e]" + "x" * 40, ["h"], [[1]], [None])
    sheet = load_workbook(BytesIO(data)).active
    assert sheet is not None and len(sheet.title) == 31 and "/" not in sheet.title


# --- the map ---------------------------------------------------------------------------------


def test_class_breaks_are_quantiles_taken_from_the_data() -> None:
    assert class_breaks([float(v) for v in range(1, 11)]) == (3.0, 5.0, 7.0, 9.0)
    assert class_breaks([1.0, 1.0, 1.0]) == ()
    assert class_breaks([0.0, 0.0, 0.0, 0.0, 1.0]) == (1.0,)  # the lone top value has its class
    assert class_breaks([]) == ()


def test_areas_without_a_value_are_not_coloured_as_zero() -> None:
    classes = classify({"a": 0.0, "b": None, "c": 0.5, "d": 1.0}, True)
    assert classes.of_area["b"] == NO_VALUE
    assert classes.of_area["a"] == 0 and classes.of_area["d"] == len(classes.breaks)
    same = classify({"a": 1.0, "b": 1.0, "c": None}, True)
    assert same.colors == (SAME,) and same.of_area == {"a": 0, "b": 0, "c": NO_VALUE}


def test_palette_runs_from_bad_to_good() -> None:
    assert palette(True, 5) == RED_TO_GREEN
    assert palette(False, 5) == RED_TO_GREEN[::-1]
    assert palette(True, 2) == (RED_TO_GREEN[0], RED_TO_GREEN[-1])
    assert palette(None, 3)[0] != RED_TO_GREEN[0]


def test_hideout_and_legend(session: Session, city: HandBuilt) -> None:
    view = view_of(session, city, "C1", "oct")
    out = map_hideout(view, "close_rate", "zh")
    codes = [a.code for a, _ in view.children]
    classes, tips = out["classes"], out["tips"]
    assert isinstance(classes, dict) and isinstance(tips, dict)
    assert set(classes) == set(codes) and set(tips) == set(codes)
    assert out["selected"] is None
    area, values = view.children[0]
    tip = tips[area.code]
    assert area.name in tip and values.close_rate.text() in tip
    if values.close_rate.denominator:
        assert f"{values.close_rate.numerator:,} / {values.close_rate.denominator:,}" in tip
    grid = view_of(session, city, "G1", "oct")
    assert map_hideout(grid, "close_rate", "zh")["selected"] == grid.area.code
    entries = legend(map_classes(view, "close_rate"), "rate", "zh")
    assert len(entries) == len(map_classes(view, "close_rate").colors) or entries == []


def test_count_legend_reads_inclusively() -> None:
    classes = classify({str(n): float(n) for n in range(1, 11)}, None)
    labels = [label for _, label in legend(classes, "count", "zh")]
    assert labels == ["≤ 2", "3–4", "5–6", "7–8", "≥ 9"]
    assert legend(classify({"a": None}, True), "rate", "zh") == []


def test_standings_rank_worst_first(session: Session, city: HandBuilt) -> None:
    view = view_of(session, city, "D", "oct")
    placed = standings(view, "close_rate")
    assert [s.rank for s in placed] == sorted((s.rank for s in placed), reverse=True)
    assert standings(view, "reported") == []  # a volume has no better side


# --- URL state and navigation ----------------------------------------------------------------


def test_url_state_round_trips() -> None:
    state = GridsState(area="330199001", period="2026-10-01..2026-10-15", kpi="close_rate",
                       lang="en")
    assert parse_state(query_params(state.search())) == state
    assert parse_state({}) == GridsState()
    assert parse_state({"kpi": "nonsense", "lang": "fr"}) == GridsState(kpi=DEFAULT_KPI)
    assert "area" not in GridsState().search()


def test_periods_from_the_url() -> None:
    period, error = resolve_period("2026-10", NOW)
    assert period == OCTOBER and error is None
    period, error = resolve_period("not-a-period", NOW)
    assert period == parse_period("month", NOW) and error
    assert period_choice("quarter") == "quarter" and period_choice("2026-10") == "custom"
    assert range_of("2026-10") == ("2026-10-01", "2026-10-31")
    assert range_of("month") == (None, None)
    state = GridsState()
    assert with_range(state, "2026-10-15", "2026-10-01").period == "2026-10-01..2026-10-15"
    assert with_range(state, "2026-10-15", None) == state


def test_navigation_from_each_control() -> None:
    state = GridsState(area="330199001", period="month", kpi="composite")
    nav: dict[str, Any] = {"choice": None, "start": None, "end": None, "kpi": None,
                           "click": None, "cell": None, "clicked": None, "now": NOW}
    assert next_state(state, ids.GRIDS_PERIOD, **{**nav, "choice": "quarter"}).period == "quarter"
    custom = next_state(state, ids.GRIDS_PERIOD, **{**nav, "choice": "custom"})
    assert custom.period == "2026-11-01..2026-11-30"  # starts from the period on screen
    assert next_state(state, ids.GRIDS_KPI, **{**nav, "kpi": "close_rate"}).kpi == "close_rate"
    click = {"properties": {"code": "330199001001", "name": "西苑社区"}}
    assert next_state(state, ids.GRIDS_AREAS, **{**nav, "click": click}).area == "330199001001"
    cell = {"colId": "name", "rowId": "330199001002"}
    assert next_state(state, ids.GRIDS_TABLE, **{**nav, "cell": cell}).area == "330199001002"
    assert next_state(state, ids.GRIDS_TABLE, **{**nav, "cell": {**cell, "colId": "reported"}}) \
        == state
    assert next_state(state, ids.GRIDS_TABLE, **{**nav, "cell": {**cell, "rowId": "b-0"}}) \
        == state
    crumb = ids.grids_crumb("")
    assert next_state(state, crumb, **{**nav, "clicked": 1}).area == ""
    assert next_state(state, crumb, **{**nav, "clicked": 0}) == state  # only just drawn


def test_every_panel_gets_an_output(session: Session, city: HandBuilt) -> None:
    view = view_of(session, city, "C1", "nov")
    outputs = view_outputs(view, GridsState(area=view.area.code), "zh")
    assert set(outputs) == set(OUTPUTS)
    assert outputs[(ids.GRIDS_AREAS, "url")] == f"/api/areas.geojson?parent={view.area.code}"
    assert "lang=en" in outputs[(ids.GRIDS_LANG, "href")]


# --- cache and route ---------------------------------------------------------------------------


def test_cache_shares_one_computation_per_interval() -> None:
    clock = [0.0]
    cache: SharedCache[int] = SharedCache(10, timer=lambda: clock[0])
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get("k", compute) == 1
    clock[0] = 9.9
    assert cache.get("k", compute) == 1
    clock[0] = 10.0
    assert cache.get("k", compute) == 2
    assert cache.get("other", compute) == 3


def test_cache_computes_once_for_concurrent_callers() -> None:
    cache: SharedCache[int] = SharedCache(60)
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow() -> int:
        calls.append(1)
        started.set()
        release.wait(5)
        return 42

    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("k", slow)))
               for _ in range(4)]
    threads[0].start()
    started.wait(5)
    for thread in threads[1:]:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(5)
    assert results == [42] * 4 and len(calls) == 1


@pytest.fixture
def client(tmp_path: Path) -> Iterator[FlaskClient]:
    """A test client of the real app on a hand-built database file."""
    url = f"sqlite:///{tmp_path / 'hand.sqlite3'}"
    engine = make_engine(url)
    init_db(engine)
    with make_session_factory(engine)() as session:
        build_handbuilt(session)
        session.commit()
    engine.dispose()
    app = create_app(Settings(data_dir=tmp_path, database_url=url, open_wall=True))
    yield app.server.test_client()


def test_area_polygons_route(client: FlaskClient) -> None:
    streets = client.get("/api/areas.geojson")
    assert streets.status_code == 200
    features = orjson.loads(streets.data)["features"]
    assert [f["properties"]["name"] for f in features] == ["城西街道", "城东街道"]
    assert set(features[0]["properties"]) == {"code", "name"}
    grids = client.get("/api/areas.geojson?parent=330199001001")
    assert [f["properties"]["code"] for f in orjson.loads(grids.data)["features"]] == [
        "33019900100101", "33019900100102"]
    etag = grids.headers["ETag"]
    again = client.get("/api/areas.geojson?parent=330199001001",
                       headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert client.get("/api/areas.geojson?parent=33019900100101").status_code == 404
    assert client.get("/api/areas.geojson?parent=1").status_code == 404


def test_layout_starts_from_the_url() -> None:
    page = grids_page.page(page_request("/grids", {"area": "330199001",
                                                   "period": "2026-10-01..2026-10-15",
                                                   "kpi": "close_rate", "lang": "en"},
                                        lang="en"))
    found = {getattr(c, "id", None): c for c in _walk(page)}
    assert found[ids.GRIDS_URL].search == GridsState(
        "330199001", "2026-10-01..2026-10-15", "close_rate", "en").search()
    assert found[ids.GRIDS_PERIOD].value == "custom"
    assert (found[ids.GRIDS_RANGE].start_date, found[ids.GRIDS_RANGE].end_date) == (
        "2026-10-01", "2026-10-15")
    assert found[ids.GRIDS_RANGE_BOX].hidden is False
    assert found[ids.GRIDS_KPI].value == "close_rate"
    assert "lang=zh" in found[ids.GRIDS_LANG].href


def _walk(component: object) -> Iterator[object]:
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, (str, int, float)):
            yield from _walk(child)
