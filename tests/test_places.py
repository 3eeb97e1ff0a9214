"""The places data path: the named read, the GeoJSON feed, and a citizen's report as a case.

A hand-built city (tests.handbuilt) with three places in grid G1: a toilet (24/7, accessible,
free, paper not stated), a service hall (weekdays) and a museum. NOW is Friday 2026-11-20 10:00.
"""

from __future__ import annotations

import gzip
from datetime import datetime
from pathlib import Path

import orjson
import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app import create_app
from ingest.place_reports import ReportRejected, report_place_problem
from queries.models import (
    SOURCE_PHOTO,
    STATUS_CLOSED,
    STATUS_REPORTED,
    Case,
    CaseEvent,
    Category,
    PlaceReport,
    PointOfInterest,
)
from queries.places import list_places
from settings import Settings
from tests.handbuilt import build_city

NOW = datetime(2026, 11, 20, 10, 0)


@pytest.fixture
def city(session: Session) -> dict[str, int]:
    built = build_city(session)
    session.add_all([
        Category(code="T-BJ0302", kind="部件", major="市容环境", minor="公厕", element="环卫",
                 limit_hours=24, urgent_limit_hours=4),
        Category(code="T-SJ0406", kind="事件", major="突发事件", minor="安全隐患", element="市政",
                 limit_hours=4, urgent_limit_hours=1),
        Category(code="T-SJ0101", kind="事件", major="市容环境", minor="暴露垃圾", element="环卫",
                 limit_hours=4, urgent_limit_hours=1),
    ])
    grid = built.areas["G1"]
    rows = [
        PointOfInterest(layer="toilet", kind="公厕", name="西苑路公厕", address="西苑路1号",
                        lat=30.0, lon=120.0, grid_id=grid, opening_hours="24/7",
                        accessible=True, baby_care=False, family_room=True, free=True,
                        paper=None, managing_unit="环卫所"),
        PointOfInterest(layer="convenience", kind="政务服务中心", name="城西便民服务中心",
                        address="西苑路2号", lat=30.0, lon=120.001, grid_id=grid,
                        opening_hours="Mo-Fr 09:00-17:00; PH off", phone="0571-1"),
        PointOfInterest(layer="culture", kind="博物馆", name="西城博物馆", address="西苑路3号",
                        lat=30.0, lon=120.002, grid_id=grid, opening_hours="not hours",
                        description="<b>古城</b>史"),
    ]
    session.add_all(rows)
    session.commit()
    return {"toilet": rows[0].id, "hall": rows[1].id, "museum": rows[2].id,
            "G1": grid, "C1": built.areas["C1"], "S1": built.areas["S1"]}


def test_list_places_reads_every_field_and_not_stated_stays_none(
        session: Session, city: dict[str, int]) -> None:
    places = {p.name: p for p in list_places(session)}
    toilet = places["西苑路公厕"]
    assert (toilet.accessible, toilet.baby_care, toilet.family_room) == (True, False, True)
    assert toilet.free is True and toilet.paper is None
    assert toilet.status == "正常" and not toilet.repairing
    assert toilet.grid_code == "33019900100101"
    assert [p.layer for p in list_places(session, layer="toilet")] == ["toilet"]
    assert list_places(session, area_code="330199002") == []  # 城东 holds none


def test_a_report_is_a_case_until_closed(session: Session, city: dict[str, int]) -> None:
    receipt = report_place_problem(session, poi_id=city["toilet"], problem="broken",
                                   text="  冲水  坏了 ", client="abc", now=NOW)
    session.commit()
    case = session.get(Case, receipt.case_id)
    assert case is not None
    assert (case.source, case.status, case.reported_at) == (SOURCE_PHOTO, STATUS_REPORTED, NOW)
    assert (case.grid_id, case.community_id, case.street_id) == (city["G1"], city["C1"],
                                                                 city["S1"])
    assert case.description == "【民生地图】西苑路公厕设施损坏:冲水 坏了"
    assert session.get(Category, case.category_id).minor == "公厕"
    assert session.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case.id)).all() \
        == ["上报"]
    toilet = next(p for p in list_places(session) if p.id == city["toilet"])
    assert toilet.repairing and toilet.status == "报修中" and toilet.open_reports == 1

    case.status, case.closed_at = STATUS_CLOSED, NOW
    session.commit()
    toilet = next(p for p in list_places(session) if p.id == city["toilet"])
    assert not toilet.repairing and toilet.status == "正常"


def test_other_places_use_the_events_categories(session: Session, city: dict[str, int]) -> None:
    dirty = report_place_problem(session, poi_id=city["hall"], problem="dirty", text="",
                                 client="c", now=NOW)
    shut = report_place_problem(session, poi_id=city["hall"], problem="closed", text="",
                                client="c", now=NOW)
    minors = [session.get(Category, session.get(Case, r.case_id).category_id).minor
              for r in (dirty, shut)]
    assert minors == ["暴露垃圾", "安全隐患"]
    with pytest.raises(ReportRejected):
        report_place_problem(session, poi_id=city["hall"], problem="ugly", text="", client="c",
                             now=NOW)
    with pytest.raises(ReportRejected):
        report_place_problem(session, poi_id=999, problem="dirty", text="", client="c", now=NOW)


@pytest.fixture
def client(engine: Engine, tmp_path: Path, city: dict[str, int]) -> FlaskClient:
    settings = Settings(data_dir=tmp_path, database_url=str(engine.url),
                        report_limit_per_hour=2,
                        directions_url="https://maps.example/?to={lat},{lon}&n={name}")
    app = create_app(settings)
    return app.server.test_client()


def test_the_feed_has_open_spans_and_answers_304(client: FlaskClient,
                                                 city: dict[str, int]) -> None:
    resp = client.get("/api/places.geojson", headers={"Accept-Encoding": "gzip"})
    assert resp.status_code == 200 and resp.headers["Content-Encoding"] == "gzip"
    data = orjson.loads(gzip.decompress(resp.data))
    props = {f["properties"]["n"]: f["properties"] for f in data["features"]}
    assert props["西苑路公厕"]["f"] == "at" and props["西苑路公厕"]["fr"] == 1
    assert "pp" not in props["西苑路公厕"]  # not stated: absent, shown as 不详
    assert props["西城博物馆"]["o"] is None  # unparseable hours: unknown, never guessed
    assert props["西城博物馆"]["d"] == "<b>古城</b>史"  # data, escaped by the page's textContent
    assert data["days"] == 3 and data["t0"].endswith("T00:00")
    again = client.get("/api/places.geojson", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304


def test_the_page_escapes_and_configures(client: FlaskClient) -> None:
    page = client.get("/map")
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.data.decode()
    assert "民生地图" in text and 'lang="zh-CN"' in text
    assert "https://maps.example/?to={lat},{lon}" in text
    assert "preload" in page.headers["Link"]
    assert "Livelihood map" in client.get("/map?lang=en").data.decode()


def test_report_route_limits_size_type_and_rate(client: FlaskClient, session: Session,
                                                city: dict[str, int]) -> None:
    url = f"/api/places/{city['toilet']}/report"
    assert client.post(url, data="problem=broken").status_code == 415
    assert client.post(url, json={"problem": "broken", "text": "x" * 501}).status_code == 413
    assert client.post(url, data=b"{" + b" " * 5000 + b"}",
                       content_type="application/json").status_code == 413
    assert client.post(url, json={"problem": "nope"}).status_code == 400
    assert client.post("/api/places/999/report", json={"problem": "broken"}).status_code == 404
    first = client.post(url, json={"problem": "broken", "text": "<script>x</script>"})
    assert first.status_code == 200 and first.json["case"].startswith("SSP")
    assert client.post(url, json={"problem": "dirty"}).status_code == 200
    limited = client.post(url, json={"problem": "dirty"})  # the third in an hour
    assert limited.status_code == 429 and "频繁" in limited.json["message"]
    assert len(session.scalars(select(PlaceReport)).all()) == 2
    feed = orjson.loads(client.get("/api/places.geojson").data)
    toilet = next(f for f in feed["features"] if f["id"] == city["toilet"])
    assert toilet["properties"]["r"] == 1 and toilet["properties"]["s"] == "报修中"


def test_nothing_renders_raw_html() -> None:
    """Citizens' words reach the wall's ticker, case card and map: all escaped by construction."""
    root = Path(__file__).resolve().parent.parent
    for folder in ("dashboard", "callbacks", "snapshot"):
        for path in (root / folder).rglob("*.py"):
            assert "dangerously_allow_html" not in path.read_text(encoding="utf-8"), path
    script = (root / "assets" / "places.js").read_text(encoding="utf-8")
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script


def test_toilet_states_for_the_wall(session: Session, city: dict[str, int]) -> None:
    from dashboard.places.geo import toilet_state
    from queries.workcalendar import WorkCalendar

    calendar = WorkCalendar.from_file()
    hall = next(p for p in list_places(session) if p.id == city["hall"])
    museum = next(p for p in list_places(session) if p.id == city["museum"])
    assert toilet_state(hall, calendar, NOW) == "open"  # Friday 10:00
    assert toilet_state(hall, calendar, datetime(2026, 11, 21, 10)) == "closed"  # Saturday
    assert toilet_state(museum, calendar, NOW) == "closed"  # hours not known: not promised
    report_place_problem(session, poi_id=city["hall"], problem="broken", text="", client="c",
                         now=NOW)
    session.commit()
    hall = next(p for p in list_places(session) if p.id == city["hall"])
    assert toilet_state(hall, calendar, NOW) == "repair"


def test_the_layer_switch_sets_the_url_only_when_on() -> None:
    from dash import no_update

    from callbacks.places import layer_update

    assert layer_update([], "610120001", NOW) == (no_update, {"on": False})
    url, hideout = layer_update(["toilets"], "610120001", NOW)
    assert url.startswith("/api/places-state.geojson?area=610120001&v=") and hideout["on"]


def test_the_state_route_scopes_to_an_area(client: FlaskClient, city: dict[str, int]) -> None:
    body = orjson.loads(client.get("/api/places-state.geojson?area=330199001").data)
    assert [f["properties"]["n"] for f in body["features"]] == ["西苑路公厕"]
    assert body["features"][0]["properties"]["st"] == "open"  # 24/7
    assert orjson.loads(client.get("/api/places-state.geojson?area=330199002").data)[
        "features"] == []


def test_the_burst_limiter_is_per_client_and_bounded() -> None:
    from snapshot.routes_places import BurstLimiter

    limiter = BurstLimiter(limit=2, seconds=3600, max_clients=2)
    assert limiter.allow("a") and limiter.allow("a") and not limiter.allow("a")
    assert limiter.allow("b")  # another client has its own window
    assert limiter.allow("c") and len(limiter._hits) <= 2  # memory stays bounded


def test_behind_a_proxy_each_citizen_has_their_own_report_limit(
        engine: Engine, tmp_path: Path, session: Session, city: dict[str, int]) -> None:
    # nginx appends the client's address to X-Forwarded-For; every request comes from nginx's.
    def client_for(hops: int) -> FlaskClient:
        return create_app(Settings(data_dir=tmp_path, database_url=str(engine.url),
                                   report_limit_per_hour=1, proxy_hops=hops)).server.test_client()

    url = f"/api/places/{city['toilet']}/report"
    behind = client_for(1)

    def post(forwarded: str) -> int:
        return behind.post(url, json={"problem": "dirty"}, environ_base={
            "REMOTE_ADDR": "10.0.0.2"}, headers={"X-Forwarded-For": forwarded}).status_code

    assert post("203.0.113.7") == 200
    assert post("203.0.113.7") == 429  # the same citizen's second report this hour
    assert post("198.51.100.9") == 200  # another citizen behind the same proxy
    # Only nginx's own entry is believed: an address the client put first changes nothing.
    assert post("192.0.2.1, 203.0.113.7") == 429
    # Without the setting the header is ignored: everyone is nginx's address, one limit.
    direct = client_for(0)
    assert direct.post(url, json={"problem": "dirty"}, environ_base={"REMOTE_ADDR": "10.0.0.3"},
                       headers={"X-Forwarded-For": "192.0.2.50"}).status_code == 200
    assert direct.post(url, json={"problem": "dirty"}, environ_base={"REMOTE_ADDR": "10.0.0.3"},
                       headers={"X-Forwarded-For": "192.0.2.51"}).status_code == 429
    assert len(session.scalars(select(PlaceReport)).all()) == 3
