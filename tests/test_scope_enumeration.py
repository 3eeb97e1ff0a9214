"""The proof that scoping holds everywhere: every callback and every route, fired by a
department head of department A with forged inputs, returns nothing of department B.

The app is the real one (``create_app``) on ``tests.scope_city``. ``SCOPED`` says how to fire
each callback (by its first output) and each route (by its rule) with inputs a browser would
never send for this caller: another department's case ids, areas outside the scope, export
URLs. ``AGGREGATE`` gives, for the rest, the written reason they return no case-level data.
A callback or route in neither table fails ``test_every_callback_and_route_is_in_a_table``,
so a new one cannot arrive unexamined.

The caller logs in through the real ``/login`` (``logged_in_client``: a session cookie and the
CSRF header); swap the ``identity`` fixture to test another caller.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from dash import Dash
from flask.testing import FlaskClient

from app import create_app
from dashboard.i18n import t
from queries.engine import init_db, make_engine, make_session_factory
from queries.scope import Scope
from security.identity import ROLE_DEPARTMENT, Identity
from settings import Settings
from tests.identities import LEADER, logged_in_client
from tests.scope_city import B_MARKERS, ScopeCity, build_scope_city

STREET_S2 = "330199002"  # department B's cases B1, B3 are here (and department A's A2)
GRID_G4 = "33019900200101"
WALL = {"area": "", "lang": "zh", "theme": "dark"}


@dataclass(frozen=True)
class Fire:
    """One forged request: a callback's input and state values, or a route's URL."""

    values: dict[str, Any] = field(default_factory=dict)  # "id.prop" -> value
    triggered: str = ""  # "id.prop" that fired; the first input when empty
    url: str = ""  # for a route
    method: str = "GET"
    # Strings that must come back: proof the request reached the data, so a pass means
    # "scoped", not "answered nothing at all".
    expect: tuple[str, ...] = ()


def case_id(key: str) -> str:
    """A case's database id in a forged value or URL: ``{case:B1}``, resolved at fire time."""
    return f"{{case:{key}}}"


def resolved(value: Any, city: ScopeCity) -> Any:
    """Replace every ``{case:K}`` in a forged value by case K's id (an int when it is all)."""
    if isinstance(value, dict):
        return {k: resolved(v, city) for k, v in value.items()}
    if isinstance(value, list):
        return [resolved(v, city) for v in value]
    if isinstance(value, str) and "{case:" in value:
        for key, number in city.cases.items():
            if value == case_id(key):
                return number
            value = value.replace(case_id(key), str(number))
    return value


def build_scoped() -> dict[str, list[Fire]]:
    """How to fire each scoped callback (first output "id.prop") and route (rule)."""
    b1, b2, b3, a1 = (case_id(k) for k in ("B1", "B2", "B3", "A1"))

    def click(case: str) -> Fire:
        return Fire({"map-cases.clickData": {"properties": {"id": case}},
                     "map-card-close.n_clicks": None, "screen-wall.data": WALL},
                    expect=(t("card_outside_scope", "zh"),))

    def grids(search: str, *expect: str) -> Fire:
        return Fire({"grids-url.search": search, "grids-retry.n_intervals": None},
                    expect=expect)

    def page(path: str, search: str = "") -> Fire:
        return Fire({"app-url.pathname": path, "app-url.search": search,
                     "app-page-retry.n_intervals": None})

    return {
        # The router renders a page's layout, some from the snapshot: every page, with areas
        # outside the scope in the URL.
        "app-page.children": [page("/screen"), page("/screen", f"?area={STREET_S2}"),
                              page("/grids", f"?area={STREET_S2}"), page("/grids"),
                              page("/quality"), page("/rankings"), page("/volunteers"),
                              page("/sections"), page("/sections", "?section=LZ-B"),
                              page("/present"), page("/no-such-page"), page("/desk"),
                              page("/desk/case", f"?id={b1}")],
        # The wall's refresh sends tiles, ticker and map URLs from the whole city's snapshot.
        "screen-version.data": [
            Fire({"screen-poll.data": "x", "screen-scale.data": 1,
                  "screen-wall.data": WALL, "screen-version.data": None}),
            Fire({"screen-poll.data": "x", "screen-scale.data": 1,
                  "screen-wall.data": {**WALL, "area": STREET_S2},
                  "screen-version.data": None})],
        # The case card: B's cases forged into the click, and one of A's as the control.
        "map-card.children": [
            click(b1), click(b2), click(b3),
            Fire({"map-cases.clickData": {"properties": {"id": a1}},
                  "map-card-close.n_clicks": None, "screen-wall.data": WALL},
                 expect=("SCOPE-A-001", "甲部门一路1号", "甲部门案件一")),
            Fire({"map-cases.clickData": {"properties": {"id": "1 OR 1=1"}},
                  "map-card-close.n_clicks": None, "screen-wall.data": WALL})],
        # The grid page: the district, B's street and grid, and A's own cases as the control.
        "grids-crumbs.children": [grids("", "SCOPE-A-001", "SCOPE-A-002"),
                                  grids(f"?area={STREET_S2}", "SCOPE-A-002"),
                                  grids(f"?area={GRID_G4}&period=2026-11&lang=en"),
                                  grids("?area=330199001001&kpi=close_rate")],
        # The grid page's workbook export, for B's street and the district.
        "grids-download.data": [
            Fire({"grids-xlsx.n_clicks": 1, "grids-url.search": f"?area={STREET_S2}"}),
            Fire({"grids-xlsx.n_clicks": 1, "grids-url.search": ""})],
        # The quality page: samples name cases and carry raw quarantined rows.
        "quality-status.children": [
            Fire({"quality-tick.n_intervals": 1, "quality-lang.data": "zh"},
                 expect=("SCOPE-A-002",)),
            Fire({"quality-tick.n_intervals": 2, "quality-lang.data": "en"})],
        # The desk: its tiles and choices, its rows with B's areas and numbers as filters, and
        # the case page with B's case ids (A's own case as the control).
        "desk-tiles.children": [Fire({"desk-lang.data": "zh"}, expect=("甲部门负责人",))],
        "desk-grid.getRowsResponse": [
            Fire({"desk-grid.getRowsRequest": {"startRow": 0, "endRow": 100},
                  "desk-filters.data": {}, "desk-lang.data": "zh"},
                 expect=("SCOPE-A-001", "SCOPE-A-002")),
            *[Fire({"desk-grid.getRowsRequest": {"startRow": 0, "endRow": 100},
                    "desk-filters.data": filters, "desk-lang.data": "en"})
              for filters in ({"q": "SCOPE-B"}, {"q": "乙部门保密路", "status": "派遣,结案"},
                              {"area": STREET_S2, "status": "派遣,结案"},
                              {"area": GRID_G4, "major": "公用设施"})]],
        "case-body.children": [
            *[Fire({"case-id.data": {"id": case, "lang": "zh"}}) for case in (b1, b2, b3)],
            Fire({"case-id.data": {"id": a1, "lang": "zh"}},
                 expect=("SCOPE-A-001", "甲部门一路1号", "甲部门案件一")),
            Fire({"case-id.data": {"id": "1 OR 1=1", "lang": "en"}})],
        # 督办 with B's case ids: a department head may not flag at all.
        "case-flags.children": [
            Fire({"case-flag-button.n_clicks": 1, "case-flag-note.value": "SCOPE-A-note",
                  "case-id.data": {"id": case, "lang": "zh"}},
                 expect=(t("case_flag_leaders", "zh"),)) for case in (b1, a1)],
        # 督办 from the wall's card with B's case ids: a department head may not flag.
        "card-flag-message.children": [
            Fire({"card-flag-button.n_clicks": 1, "card-flag-note.value": "x",
                  "card-flag-case.data": case, "screen-wall.data": WALL},
                 expect=(t("case_flag_leaders", "zh"),)) for case in (b1, b3)],
        # The sections page: B1 is overdue in LZ-B (its view lists overdue cases), A1 in LZ-A.
        "sec-red.children": [
            Fire({"sec-url.search": "?period=2026-11&section=LZ-B", "sec-tick.n_intervals": 1}),
            Fire({"sec-url.search": "?period=2026-11&section=LZ-A", "sec-tick.n_intervals": 1},
                 expect=("SCOPE-A-001",))],
        # Routes: the wall's map data (points with an internal id, light, major class and
        # channel only), pages and their data, for areas outside the scope.
        "/": [Fire(url="/")],
        "/<path:path>": [Fire(url=f"/grids?area={STREET_S2}"), Fire(url="/screen"),
                         Fire(url="/quality")],
        "/_dash-layout": [Fire(url="/_dash-layout")],
        "/_dash-dependencies": [Fire(url="/_dash-dependencies")],
        "/api/open-cases.geojson": [Fire(url="/api/open-cases.geojson"),
                                    Fire(url=f"/api/open-cases.geojson?area={STREET_S2}")],
        "/api/open-density.geojson": [Fire(url=f"/api/open-density.geojson?area={STREET_S2}")],
        "/api/boundaries.geojson": [Fire(url=f"/api/boundaries.geojson?area={STREET_S2}")],
        "/api/areas.geojson": [Fire(url=f"/api/areas.geojson?parent={STREET_S2}")],
        "/api/places.geojson": [Fire(url="/api/places.geojson")],
        "/api/places-state.geojson": [Fire(url=f"/api/places-state.geojson?area={STREET_S2}")],
        "/map": [Fire(url="/map")],
        "/healthz": [Fire(url="/healthz")],
        # The desk's exports: B's area, case numbers and closed case in the URL; A's own rows
        # as the control.
        "/desk/export.<any(csv, xlsx):kind>": [
            Fire(url="/desk/export.csv", expect=("SCOPE-A-001", "SCOPE-A-002")),
            Fire(url=f"/desk/export.csv?area={STREET_S2}&status=派遣,结案",
                 expect=("SCOPE-A-002",)),
            Fire(url="/desk/export.csv?q=SCOPE-B-SECRET"),
            Fire(url="/desk/export.csv?q=乙部门保密路&status=结案,派遣"),
            Fire(url=f"/desk/export.xlsx?area={STREET_S2}&status=结案,派遣",
                 expect=("SCOPE-A-002",)),
            Fire(url="/desk/export.xlsx?q=SCOPE-B")],
        # The wall's poll: a stamp (a hash of the area's snapshot) or an empty answer.
        "/api/version": [Fire(url="/api/version"), Fire(url=f"/api/version?area={STREET_S2}&v=x")],
        # The audit log is a leader's page: a department head gets 403 and no entry.
        "/audit": [Fire(url="/audit")],
        "/api/places/<int:poi_id>/report": [
            Fire(url=f"/api/places/{b1}/report", method="POST",
                 values={"problem": "dirty", "text": "SCOPE-B-SECRET-001"})],
    }


SCOPED = build_scoped()
# Callbacks (first output) and routes (rule) that return no case-level data, and why.
AGGREGATE: dict[str, str] = {
    # Clientside: they run in the browser on what it already holds; no server round trip.
    "screen-scale.data": "clientside (screenScale)",
    "map-cases.superClusterOptions": "clientside (clusterRadius)",
    "screen-clock.children": "clientside (clock)",
    "(no output) vol-data.data": "clientside (countUp)",
    "screen-poll.data": "clientside (pollVersion: fetches /api/version, a stamp)",
    "map-cases.hideout": "clientside (layerFilter)",
    "map-density.hideout": "clientside (heatToggle)",
    "grids-table.exportDataAsCsv": "clientside (the table on screen, already scoped)",
    "present-state.data": "clientside (the carousel)",
    "(no output) desk-filters.data": "clientside (empties the desk grid's block cache)",
    '{"index":["ALL"],"type":"present-frame"}.className': "clientside (the carousel)",
    # Server callbacks that read no case rows.
    "grids-url.search": "writes the URL and the controls from the controls: no data read",
    "desk-filters.data": "writes the desk's filters and export links from its controls: no "
                         "data read",
    "rank-month.options": "aggregate only: the streets' monthly assessment",
    "rank-url.search": "writes the URL from the month picker: no data read",
    "rank-street.data": "aggregate only: picks a street of the assessment table",
    "rank-confirm.displayed": "aggregate only: asks whether a month may be published",
    "rank-message.children": "aggregate only: publishes a month's assessment",
    "rank-download.data": "aggregate only: the assessment deck and workbook (streets, "
                          "classes, trend; no case)",
    "map-places.url": "a places URL and layer filter: places, not cases",
    "grids-places.url": "a places URL and layer filter: places, not cases",
    "grids-volunteers.children": "aggregate only: volunteer work of an area",
    "vol-tiles.children": "aggregate only: volunteers, teams and activities, no case",
    "sec-url.search": "writes the URL from a click on the sections map, a list or the table: "
                      "no data read",
    # Routes with no case data.
    "/static/<path:filename>": "static asset",
    "/assets/<path:filename>": "static asset",
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>": "static asset",
    "/_favicon.ico": "static asset",
    "/fonts/gridwatch-sans.otf": "static asset",
    "/_dash-component-suites/plotly/package_data/plotly.min.js": "static asset (bundles)",
    "/_reload-hash": "Dash's hot-reload hash: no data",
    "/login": "the login form and its POST: accounts, no case data",
    "/logout": "ends the session: no data",
    "/_dash-update-component": "the callbacks, each fired through it by the tables above",
}


def callback_name(key: str, spec: dict[str, Any]) -> str:
    """Name a callback by its first output "id.prop" (or its first input if it has none)."""
    if spec.get("no_output"):
        first = spec["inputs"][0]
        return f"(no output) {first['id']}.{first['property']}"
    first = key.strip(".").split("...")[0]
    ident, _, prop = first.rpartition(".")
    return f"{ident}.{prop.split('@')[0]}"


def outputs_of(key: str) -> list[tuple[str, str]]:
    """Return (id, prop) of each output in a callback_map key."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    return [(ident, prop) for ident, _, prop in (p.rpartition(".") for p in parts)]


def dash_request(key: str, spec: dict[str, Any], fire: Fire) -> dict[str, Any]:
    """The JSON Dash's renderer POSTs to /_dash-update-component for these values.

    Pattern-matching (ALL) outputs, inputs and states are sent as empty lists: no such
    components on the page.
    """
    def entry(item: dict[str, Any]) -> Any:
        ident, prop = item["id"], item["property"]
        if str(ident).startswith("{"):
            return []
        return {"id": ident, "property": prop, "value": fire.values.get(f"{ident}.{prop}")}

    outs = [[] if ident.startswith("{") else {"id": ident, "property": prop}
            for ident, prop in outputs_of(key)]
    first = spec["inputs"][0]
    return {
        "output": key,
        "outputs": outs if key.startswith("..") else outs[0],
        "inputs": [entry(i) for i in spec["inputs"]],
        "state": [entry(s) for s in spec["state"]],
        "changedPropIds": [fire.triggered or f"{first['id']}.{first['property']}"],
    }


def readable(body: bytes) -> str:
    """Return a response as searchable text: JSON unescaped, sent files decoded and unzipped
    (a workbook sent as such, or inside a callback's answer)."""
    if zipfile.is_zipfile(io.BytesIO(body)):
        with zipfile.ZipFile(io.BytesIO(body)) as zipped:
            return "\n".join(zipped.read(n).decode("utf-8", errors="replace")
                             for n in zipped.namelist())
    text = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        return text
    parts = [json.dumps(data, ensure_ascii=False)]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("base64") and isinstance(node.get("content"), str):
                raw = base64.b64decode(node["content"])
                parts.append(raw.decode("utf-8", errors="replace"))
                if zipfile.is_zipfile(io.BytesIO(raw)):
                    with zipfile.ZipFile(io.BytesIO(raw)) as zipped:
                        parts.extend(zipped.read(n).decode("utf-8", errors="replace")
                                     for n in zipped.namelist())
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data)
    return "\n".join(parts)


@pytest.fixture
def city_db(tmp_path: Path) -> tuple[str, ScopeCity]:
    url = f"sqlite:///{tmp_path / 'scope.sqlite3'}"
    engine = make_engine(url)
    init_db(engine)
    with make_session_factory(engine)() as session:
        city = build_scope_city(session)
        session.commit()
    engine.dispose()
    return url, city


@pytest.fixture
def identity(city_db: tuple[str, ScopeCity]) -> Identity:
    """The caller: department A's head (swap for another role's identity)."""
    return Identity("head-a", ROLE_DEPARTMENT, Scope.department(city_db[1].department_a),
                    "甲部门负责人")


@pytest.fixture
def app(tmp_path: Path, city_db: tuple[str, ScopeCity], identity: Identity) -> Iterator[Dash]:
    dash_app = create_app(Settings(data_dir=tmp_path, database_url=city_db[0]))
    yield dash_app


@pytest.fixture
def client(app: Dash, identity: Identity) -> FlaskClient:
    return logged_in_client(app, identity)


def names(app: Dash) -> tuple[dict[str, str], set[str]]:
    callbacks = {callback_name(k, v): k for k, v in app.callback_map.items()}
    routes = {rule.rule for rule in app.server.url_map.iter_rules()}
    return callbacks, routes


def test_every_callback_and_route_is_in_a_table(app: Dash,
                                                city_db: tuple[str, ScopeCity]) -> None:
    callbacks, routes = names(app)
    scoped = set(SCOPED)
    missing = sorted((set(callbacks) | routes) - scoped - set(AGGREGATE))
    assert not missing, (f"{missing}: add it to SCOPED or AGGREGATE in "
                         "tests/test_scope_enumeration.py")
    stale = sorted((scoped | set(AGGREGATE)) - set(callbacks) - routes)
    assert not stale, f"{stale}: no such callback or route any more; remove it from the table"
    assert not scoped & set(AGGREGATE)


def fire_all(app: Dash, client: FlaskClient, city: ScopeCity) -> Iterator[tuple[str, Fire, str]]:
    callbacks, _ = names(app)
    for name, fires in SCOPED.items():
        for written in fires:
            fire = replace(written, values=resolved(written.values, city),
                           url=resolved(written.url, city))
            if name in callbacks:
                key = callbacks[name]
                resp = client.post("/_dash-update-component",
                                   json=dash_request(key, app.callback_map[key], fire))
                assert resp.status_code in (200, 204), f"{name} {fire}: {resp.status_code}"
            elif fire.method == "POST":
                resp = client.post(fire.url, json=fire.values)
            else:
                resp = client.get(fire.url)
            assert resp.status_code < 500, f"{name} {fire}: {resp.status_code}"
            yield name, fire, readable(resp.data)


def test_a_department_head_gets_nothing_of_another_department(
        app: Dash, client: FlaskClient, city_db: tuple[str, ScopeCity]) -> None:
    leaks: list[str] = []
    unanswered: list[str] = []
    fired = 0
    for name, fire, body in fire_all(app, client, city_db[1]):
        fired += 1
        leaks += [f"{name} {fire.url or fire.values}: {marker}"
                  for marker in B_MARKERS if marker in body]
        unanswered += [f"{name} {fire.url or fire.values}: expected {wanted!r} (did it fire?)"
                       for wanted in fire.expect if wanted not in body]
    assert not leaks, "department B's data reached department A's head:\n" + "\n".join(leaks)
    assert not unanswered, "\n".join(unanswered)
    assert fired == sum(len(f) for f in SCOPED.values())


def test_the_same_requests_by_a_leader_do_reach_department_b(
        tmp_path: Path, city_db: tuple[str, ScopeCity]) -> None:
    """The control: with the whole city's scope the forged requests find B's cases, so the
    test above passes because of the scope, not because the requests miss the data."""
    url, city = city_db
    dash_app = create_app(Settings(data_dir=tmp_path, database_url=url))
    bodies = {name: body for name, _, body in fire_all(dash_app, logged_in_client(dash_app, LEADER),
                                                          city) if B_MARKERS[0] in body}
    assert {"map-card.children", "grids-crumbs.children", "quality-status.children",
            "/desk/export.<any(csv, xlsx):kind>", "desk-grid.getRowsResponse",
            "case-body.children"} <= set(
        bodies)


def test_a_view_cached_for_one_caller_is_not_served_to_another(
        tmp_path: Path, city_db: tuple[str, ScopeCity], identity: Identity) -> None:
    """The grid page and the quality page cache their reads for every browser: a leader's
    read first, then department A's head on the same view must still get only A's cases."""
    url, city = city_db
    dash_app = create_app(Settings(data_dir=tmp_path, database_url=url))
    clients = {"leader": logged_in_client(dash_app, LEADER),
               "head": logged_in_client(dash_app, identity)}
    caller = {"client": clients["leader"]}
    callbacks, _ = names(dash_app)
    shared = {"grids-crumbs.children": Fire({"grids-url.search": f"?area={STREET_S2}"}),
              "quality-status.children": Fire({"quality-tick.n_intervals": 1,
                                               "quality-lang.data": "zh"})}

    def body(name: str) -> str:
        key = callbacks[name]
        resp = caller["client"].post(
            "/_dash-update-component",
            json=dash_request(key, dash_app.callback_map[key], shared[name]))
        assert resp.status_code == 200
        return readable(resp.data)

    for name in shared:
        assert B_MARKERS[0] in body(name), name
    caller["client"] = clients["head"]
    for name in shared:
        assert B_MARKERS[0] not in body(name), name
