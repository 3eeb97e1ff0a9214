"""The wall's scripts in a real Chromium: no dash-ag-grid, plotly.js's basic bundle draws the
trend; a page with a table still gets its grid. Prints the JavaScript bytes on the wire."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, Request, expect

from dashboard import bundles, ids
from snapshot.store import DISTRICT
from tests.browser.conftest import LiveApp

pytestmark = pytest.mark.browser


def test_the_wall_draws_its_trend_with_the_basic_bundle_and_no_grid(
        browser: Browser, live_app: LiveApp) -> None:
    context = browser.new_context(viewport={"width": 1920, "height": 1080})  # a cold cache
    page = context.new_page()
    scripts: dict[str, int] = {}
    fetched: list[str] = []
    data: list[str] = []

    def count(request: Request) -> None:
        if request.url.split("?")[0].endswith(".js"):
            scripts[request.url.split("?")[0]] = request.sizes()["responseBodySize"]
            fetched.append(request.url.split("?")[0])
        elif ".geojson" in request.url:
            data.append(request.url)

    page.on("requestfinished", count)
    assert live_app.ctx.store.get(DISTRICT) is not None  # held: the index preloads its map data
    page.goto(f"{live_app.url}/screen")
    expect(page.locator(f"#{ids.TREND} .main-svg").first).to_be_visible(timeout=30000)
    expect(page.locator(f"#{ids.TREND} .trace").first).to_be_attached()
    expect(page.locator(".gw-cluster, path.gw-case").first).to_be_attached(timeout=30000)
    preloads = page.eval_on_selector_all('link[rel="preload"][as="fetch"]',
                                         "links => links.map(link => link.href)")
    assert page.evaluate("() => window.Plotly.version") == "4.1.1"
    context.close()
    assert not [u for u in scripts if "dash_ag_grid" in u], scripts
    # The chunks the wall preloads are the ones dash-renderer asks for: each fetched once
    # (a preload under another URL would be fetched a second time when the component renders).
    for path in (*bundles.LAZY["graph"], *bundles.LAZY["geojson"]):
        assert fetched.count(f"{live_app.url}/{path}") == 1, (path, fetched)
    # The same for the map's GeoJSON: preloaded with the index, fetched once, then drawn.
    assert len(preloads) == 3 and all(".geojson?area=" in url for url in preloads), preloads
    assert sorted(data) == sorted(preloads), (data, preloads)
    plotly = [size for u, size in scripts.items() if u.endswith(bundles.PLOTLY_PATH)]
    assert plotly and plotly[0] < 450_000, scripts  # the basic bundle gzipped, ~395 kB
    assert all(urlparse(u).hostname == "127.0.0.1" for u in scripts), scripts
    print(f"\n/screen scripts on the wire: {sum(scripts.values()) / 1000:.0f} kB in "
          f"{len(scripts)} files, plotly.js {plotly[0] / 1000:.0f} kB")


def test_a_page_with_a_table_still_draws_it(open_page: Callable[..., Page]) -> None:
    page = open_page("/grids")
    expect(page.locator("#grids-table .ag-row").first).to_be_visible(timeout=30000)
    expect(page.locator(f"#{ids.GRIDS_TREND} .main-svg").first).to_be_visible(timeout=30000)
