"""What each page loads (dashboard/bundles.py): dash-ag-grid's script only on the pages that
draw a table, and plotly.js's basic partial bundle, of plotly's own version, at the path
dash-renderer fetches plotly.js from — enough for every trace type the code draws."""

from __future__ import annotations

import gzip
import re
from html import unescape
from pathlib import Path

import dash_leaflet as dl
import plotly
import pytest
from flask.testing import FlaskClient
from plotly.offline import get_plotlyjs_version
from sqlalchemy.orm import Session

from app import create_app, create_context
from dashboard import bundles, pages
from dashboard.outlines import boundaries_url
from dashboard.screen import layout as screen
from settings import Settings
from snapshot.store import DISTRICT
from tests.handbuilt import build_handbuilt

ROOT = Path(__file__).resolve().parents[1]
GRID_SCRIPT = re.compile(r'<script src="/_dash-component-suites/dash_ag_grid/[^"]+"></script>')
# The trace types plotly.js's basic bundle holds (its README: scatter, bar, pie).
BASIC_TRACES = {"Scatter", "Bar", "Pie"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    path = tmp_path_factory.mktemp("bundles") / "x.sqlite3"
    app = create_app(Settings(database_url=f"sqlite:///{path}", open_wall=True))
    return app.server.test_client()


def test_only_the_pages_with_a_table_load_the_grid_script(client: FlaskClient) -> None:
    # The case page (no table either) needs a login even under open_wall: left out here.
    wall = [path for p in pages.PAGES if not p.grid and p.name != "case" for path in p.paths]
    assert {"/", "/screen", "/sections", "/volunteers", "/quality"} <= set(wall)
    for path in wall:
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert not GRID_SCRIPT.search(answer.get_data(as_text=True)), f"{path} loads dash-ag-grid"
    for path in ("/grids", "/rankings", "/present"):
        index = client.get(path).get_data(as_text=True)
        assert GRID_SCRIPT.search(index), path
        # The vendored bundle is never a page script: dcc.Graph fetches it when it first draws.
        assert "/assets/vendor/" not in index, path


def test_the_wall_preloads_its_charts_and_maps_chunks(client: FlaskClient) -> None:
    index = client.get("/screen").get_data(as_text=True)
    head = index.split("</head>")[0]
    preloaded = re.findall(r'<link rel="preload" as="script" href="/([^"]+)">', head)
    assert preloaded == ["_dash-component-suites/dash/dcc/async-graph.js", bundles.PLOTLY_PATH,
                         "_dash-component-suites/dash_leaflet/async-GeoJSON.js"]
    for path in preloaded:
        answer = client.get("/" + path)
        assert answer.status_code == 200 and answer.mimetype.endswith("javascript"), path
    assert 'rel="preload"' not in client.get("/volunteers").get_data(as_text=True)


def test_the_registry_marks_every_page_whose_layout_draws_a_table() -> None:
    # A layout module that builds dag.AgGrid must belong to a page registered with grid=True.
    drawers = {p.parent.name for p in (ROOT / "dashboard").rglob("*.py")
               if "AgGrid(" in p.read_text(encoding="utf-8")}
    assert drawers == {"grids", "rankings", "desk"}
    assert {p.name for p in pages.PAGES if p.grid} == drawers | {"present"}


def test_plotly_is_the_basic_bundle_of_plotlys_own_version(client: FlaskClient) -> None:
    assert bundles.PLOTLY_VERSION == get_plotlyjs_version()
    answer = client.get("/" + bundles.PLOTLY_PATH, headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200 and answer.headers["Content-Encoding"] == "gzip"
    body = gzip.decompress(answer.get_data())
    version = get_plotlyjs_version().encode()
    assert body.startswith(b"/**\n* plotly.js (basic - minified) v" + version)
    full = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    # 1.19 MB against 4.82 MB; on the wire 395 kB gzipped.
    assert len(body) < 0.3 * full.stat().st_size
    assert answer.headers["Cache-Control"] == "public, max-age=86400"
    again = client.get("/" + bundles.PLOTLY_PATH,
                       headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304
    plain = client.get("/" + bundles.PLOTLY_PATH)
    assert "Content-Encoding" not in plain.headers and plain.get_data() == body


def test_the_code_draws_only_traces_the_basic_bundle_holds() -> None:
    used = set()
    for folder in ("dashboard", "callbacks", "snapshot"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            used |= set(re.findall(r"\bgo\.([A-Z]\w*)\(", text))
            assert "plotly.express" not in text, path
    traces = used - {"Figure", "Layout"}
    assert traces and traces <= BASIC_TRACES, traces


def test_the_grid_tag_is_removed_from_dashs_script_list() -> None:
    scripts = ('<script src="/_dash-component-suites/dash/deps/react.js"></script>\n'
               '<script src="/_dash-component-suites/dash_ag_grid/dash_ag_grid.v35m1.min.js">'
               '</script>\n<script src="/_dash-component-suites/dash/dash-renderer/x.js"></script>')
    assert bundles.without_grid_script(scripts) == (
        '<script src="/_dash-component-suites/dash/deps/react.js"></script>\n'
        '<script src="/_dash-component-suites/dash/dash-renderer/x.js"></script>')


def test_the_wall_preloads_the_geojson_its_map_fetches(database_url: str, session: Session) -> None:
    """The index names the map's GeoJSON URLs, with the held snapshot's version, exactly as the
    layout's map fetches them; nothing while the area's snapshot is not held (the index never
    waits for a build)."""
    build_handbuilt(session)
    session.commit()
    ctx = create_context(Settings(database_url=database_url, open_wall=True))
    client = create_app(context=ctx).server.test_client()
    street = "330199001"  # 城西街道 (tests/handbuilt.py)

    def fetched(path: str) -> list[str]:
        head = client.get(path).get_data(as_text=True).split("</head>")[0]
        return [unescape(url) for url in
                re.findall(r'<link rel="preload" as="fetch" crossorigin href="([^"]+)">', head)]

    assert fetched("/screen") == []
    assert ctx.store.status(DISTRICT) == "pending"  # the index built nothing
    for path, code in (("/screen", DISTRICT), (f"/screen?area={street}&lang=en", street)):
        snapshot = ctx.store.get(code)
        assert snapshot is not None
        cases, density = screen.map_urls(code, snapshot.map_version)
        assert fetched(path) == [cases, boundaries_url(code), density]
        wall = screen.create_map(ctx.settings, [[0, 0], [1, 1]], code, snapshot.map_version)
        layer_urls = {layer.url for layer in wall.children
                      if isinstance(layer, dl.GeoJSON) and layer.url is not None}  # not places
        assert layer_urls == {cases, boundaries_url(code), density}
        assert client.get(fetched(path)[0]).status_code == 200
    assert fetched("/screen?as_of=not-a-moment") == []
    assert fetched("/volunteers") == []
