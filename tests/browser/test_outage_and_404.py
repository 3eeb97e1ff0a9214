"""In a real Chromium: a page opened during a database outage recovers by itself; the 404 page
and an unknown area are styled; the grid page's CSV export writes formula-like text as text.

The outage is made in the database layer (every statement fails like an unreachable SQLite
file while ``Outage.down`` is set), so the wall's snapshot, /grids and /rankings all meet it.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from werkzeug.serving import make_server

from app import create_app, create_context, create_jobs
from settings import Settings
from snapshot.jobs import create_scheduler
from tests.browser.conftest import REFRESH_SECONDS, local_pages
from tests.identities import as_leader

UNAVAILABLE = "数据暂不可用，正在自动重试…"


@dataclass
class Outage:
    """The served app and the switch of its database."""

    url: str
    street: str = ""  # a street's code, for a wall scoped to it
    down: bool = True


@pytest.fixture(scope="module")
def outage_app(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outage]:
    """Serve a copy of the demo city whose database starts unreachable."""
    database = tmp_path_factory.mktemp("outage") / "demo.sqlite3"
    shutil.copyfile(demo_db, database)
    settings = Settings(data_dir=database.parent, database_url=f"sqlite:///{database}",
                        refresh_seconds=REFRESH_SECONDS, open_wall=True)
    ctx = create_context(settings)
    with sqlite3.connect(database) as conn:
        (street,) = conn.execute("SELECT code FROM areas WHERE level = 'street' ORDER BY code "
                                 "LIMIT 1").fetchone()
    state = Outage(url="", street=street)

    def refuse(*_args: object) -> None:
        if state.down:
            raise OperationalError("SELECT …", {}, sqlite3.OperationalError(
                "unable to open database file"))

    event.listen(ctx.engine, "before_cursor_execute", refuse)
    server = make_server("127.0.0.1", 0, as_leader(create_app(context=ctx)), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    scheduler = create_scheduler(create_jobs(ctx), timezone=settings.timezone)
    scheduler.start()
    state.url = f"http://127.0.0.1:{server.server_port}"
    yield state
    scheduler.shutdown(wait=False)
    server.shutdown()
    thread.join(timeout=10)
    ctx.engine.dispose()


@pytest.fixture
def open_outage(browser: Browser, outage_app: Outage) -> Iterator[Callable[..., Page]]:
    outage_app.down = True
    yield from local_pages(browser, outage_app.url)
    outage_app.down = True


def navigations(page: Page) -> list[str]:
    """Record every main-frame navigation (a reload would add one)."""
    seen: list[str] = []
    page.on("framenavigated", lambda frame: seen.append(frame.url)
            if frame == page.main_frame else None)
    return seen


def test_the_wall_opened_in_an_outage_appears_by_itself(open_outage: Callable[..., Page],
                                                       outage_app: Outage) -> None:
    page = open_outage("/screen")
    moved = navigations(page)
    expect(page.locator(".gw-notfound")).to_have_text(UNAVAILABLE, timeout=15_000)
    expect(page.get_by_text("没有这个区域编码")).to_have_count(0)
    page.wait_for_timeout(3_000)  # still down: it keeps saying so
    expect(page.locator(".gw-notfound")).to_have_text(UNAVAILABLE)
    outage_app.down = False
    expect(page.locator(".gw-tile-value").first).to_be_visible(timeout=30_000)
    expect(page.locator(".gw-rank-row").first).to_be_visible(timeout=15_000)
    expect(page.locator(".gw-notfound")).to_have_count(0)
    assert moved == []  # no reload: the router's retry brought the wall


def test_a_street_wall_in_an_outage_is_not_an_unknown_area(open_outage: Callable[..., Page],
                                                          outage_app: Outage) -> None:
    page = open_outage(f"/screen?area={outage_app.street}")
    expect(page.locator(".gw-notfound")).to_have_text(UNAVAILABLE, timeout=15_000)
    outage_app.down = False
    expect(page.locator(".gw-tile-value").first).to_be_visible(timeout=30_000)


def test_the_grid_page_in_an_outage_says_so_and_recovers(open_outage: Callable[..., Page],
                                                         outage_app: Outage) -> None:
    page = open_outage("/grids")
    moved = navigations(page)
    sheet = page.locator("#grids-sheet")
    expect(sheet).to_be_visible(timeout=15_000)
    expect(sheet).to_have_text(UNAVAILABLE)
    expect(page.get_by_text("No Rows To Show")).to_have_count(0)
    outage_app.down = False
    expect(sheet).to_be_hidden(timeout=30_000)
    expect(page.locator("#grids-table .ag-row").first).to_be_visible(timeout=15_000)
    page.wait_for_selector("path.gw-area", timeout=15_000)
    assert moved == []


def test_the_rankings_page_in_an_outage_says_so_and_recovers(open_outage: Callable[..., Page],
                                                             outage_app: Outage) -> None:
    page = open_outage("/rankings")
    moved = navigations(page)
    sheet = page.locator("#rank-sheet")
    expect(sheet).to_be_visible(timeout=15_000)
    expect(sheet).to_have_text(UNAVAILABLE)
    outage_app.down = False
    expect(sheet).to_be_hidden(timeout=30_000)
    expect(page.locator("#rank-tables .ag-row").first).to_be_visible(timeout=15_000)
    assert moved == []


# --- 404 and unknown areas, on the shared demo app ----------------------------------------


def test_the_404_page_is_styled_with_a_way_back(open_page: Callable[..., Page],
                                                artifacts: Path) -> None:
    page = open_page("/nope")
    box = page.locator(".gw-notfound")
    expect(box.locator("h1")).to_have_text("404", timeout=15_000)
    expect(box).to_contain_text("没有这个页面")
    style = box.evaluate("e => { const s = getComputedStyle(e); return [s.backgroundColor, "
                         "s.color, s.minHeight]; }")
    assert style[0] == "rgb(5, 13, 26)" and style[1] == "rgb(230, 241, 255)"
    h1_px = float(box.locator("h1").evaluate("e => getComputedStyle(e).fontSize")[:-2])
    assert h1_px >= 72
    link = box.locator("a.gw-notfound-link")
    assert link.get_attribute("href") == "/screen"
    assert float(link.evaluate("e => getComputedStyle(e).fontSize")[:-2]) >= 20
    page.screenshot(path=str(artifacts / "notfound-1920.png"))
    link.click()
    expect(page.locator(".gw-tile-value").first).to_be_visible(timeout=15_000)


def test_the_404_page_answers_status_404(browser: Browser, live_app: object) -> None:
    context = browser.new_context()
    response = context.new_page().goto(f"{live_app.url}/nope")  # type: ignore[attr-defined]
    assert response is not None and response.status == 404
    context.close()


def test_an_unknown_grid_area_is_said_and_nothing_empty_is_drawn(
        open_page: Callable[..., Page], artifacts: Path) -> None:
    page = open_page("/grids?area=garbage")
    sheet = page.locator("#grids-sheet")
    expect(sheet).to_be_visible(timeout=15_000)
    expect(sheet).to_contain_text("没有这个区域编码: garbage")
    expect(sheet.locator("a.gw-notfound-link")).to_have_attribute(
        "href", "/grids?period=month&kpi=composite")
    expect(page.get_by_text("No Rows To Show")).to_have_count(0)
    graphs = page.locator(".gw-g-graph .main-svg:first-child")
    expect(graphs).to_have_count(2)
    for n in range(2):
        assert graphs.nth(n).evaluate("e => e.style.background") == "rgba(0, 0, 0, 0)"
    expect(page.locator(".gw-g-graph .annotation-text").first).to_have_text("无数据")
    assert page.locator(".gw-g-graph .xtick").count() == 0  # no default white axes
    page.screenshot(path=str(artifacts / "grids-unknown-area-1920.png"))


def test_the_grid_csv_writes_a_formula_like_name_as_text(open_page: Callable[..., Page],
                                                         tmp_path: Path) -> None:
    page = open_page("/grids")
    page.wait_for_selector("#grids-table .ag-row", timeout=15_000)
    renamed = page.evaluate("""() => {
        const api = window.dash_ag_grid.getApi('grids-table');
        let first = null;
        api.forEachNode((node) => { if (!first) { first = node; } });
        api.applyTransaction({update: [{...first.data, name: '=HYPERLINK("http://x","y")'}]});
        return first.data.code;
    }""")
    with page.expect_download(timeout=15_000) as download:
        page.locator("#grids-csv").click()
    path = tmp_path / "grids.csv"
    download.value.save_as(path)
    text = path.read_text(encoding="utf-8-sig")
    line = next(row for row in text.splitlines() if renamed in row)
    assert line.startswith('"\'=HYPERLINK(""http://x"",""y"")"')
