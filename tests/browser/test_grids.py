"""The grid page in a real Chromium: drill from the district to a unit grid by clicking the
map, climb back by the breadcrumb, reload the URL; at every step the tiles must be what
``queries.indicators`` gives for that area and period at the moment the page computed them."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from dashboard.grids.view import TILE_KEYS
from queries.areas import area_by_code, children, district
from queries.indicators import Composite, IndicatorSet, Ratio, indicators
from queries.models import Area
from queries.periods import parse_period
from tests.browser.conftest import LiveApp

pytestmark = pytest.mark.browser

# A point inside a polygon, nearest its box's centre first (elementFromPoint: what a click hits).
POINT_INSIDE_JS = """(code) => {
  const el = document.querySelector(`path.gw-area-${code}`);
  if (!el) return null;
  const r = el.getBoundingClientRect(), cx = r.left + r.width / 2, cy = r.top + r.height / 2;
  const points = [];
  for (let i = 1; i < 16; i++) for (let j = 1; j < 16; j++) {
    points.push([r.left + r.width * i / 16, r.top + r.height * j / 16]);
  }
  points.sort((a, b) => Math.hypot(a[0] - cx, a[1] - cy) - Math.hypot(b[0] - cx, b[1] - cy));
  return points.find(([x, y]) => document.elementFromPoint(x, y) === el) || null;
}"""
TILES_JS = """() => Object.fromEntries(Array.from(document.querySelectorAll('.gw-g-tile'))
  .map(el => [el.dataset.key, el.querySelector('.gw-g-tile-text').textContent]))"""


def text_of(values: IndicatorSet, key: str) -> str:
    """Format an indicator as the domain asks: rates two decimals, "—" when undefined."""
    raw = getattr(values, key)
    if isinstance(raw, Ratio):
        return raw.text()
    if isinstance(raw, Composite):
        # Half up, as bulletins round (f"{x:.2f}" would give 95.62 for 95.625).
        return "—" if raw.total is None else str(
            Decimal(repr(raw.total)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    return f"{raw:,}"


def computed_at(page: Page) -> datetime:
    """Return the moment the page's figures were computed (shown in its period line)."""
    return datetime.fromisoformat(page.locator(".gw-g-computed").get_attribute("data-now") or "")


def expected_tiles(live_app: LiveApp, area_code: str, token: str, now: datetime) -> dict[str, str]:
    """Compute the tiles straight from the database."""
    with live_app.ctx.sessions() as session:
        area = area_by_code(session, area_code) if area_code else district(session)
        assert area is not None
        values = indicators(session, parse_period(token, now), area_id=area.id, now=now)
    return {key: text_of(values, key) for key in TILE_KEYS}


def at(page: Page, name: str) -> None:
    """Wait until the page shows ``name`` as the current area, its map drawn."""
    expect(page.locator(".gw-g-crumb-here")).to_have_text(name, timeout=15_000)
    page.wait_for_selector("path.gw-area", timeout=15_000)


def assert_tiles(page: Page, live_app: LiveApp, area_code: str, token: str) -> None:
    shown = page.evaluate(TILES_JS)
    assert shown == expected_tiles(live_app, area_code, token, computed_at(page))


def click_area(page: Page, code: str) -> None:
    """Click an area's polygon on the map, as a person would."""
    page.wait_for_selector(f"path.gw-area-{code}", timeout=15_000)
    point = page.evaluate(POINT_INSIDE_JS, code)
    assert point, f"no visible point inside area {code}"
    page.mouse.click(*point)


def test_drill_down_climb_back_and_reload(open_page: Callable[..., Page], live_app: LiveApp,
                                         artifacts: Path) -> None:
    with live_app.ctx.sessions() as session:
        root = district(session)
        assert root is not None
        street = children(session, root.id)[1]
        community = children(session, street.id)[0]
        grid: Area = children(session, community.id)[0]
        n_streets = len(children(session, root.id))
        n_communities = len(children(session, street.id))
        leader = grid.leader or ""

    page = open_page("/grids")
    at(page, root.name)
    assert page.locator("path.gw-area").count() == n_streets
    assert_tiles(page, live_app, "", "month")
    page.wait_for_timeout(400)  # let the figures settle before the picture
    page.screenshot(path=str(artifacts / "grids-district.png"))

    click_area(page, street.code)
    at(page, street.name)
    assert f"area={street.code}" in page.url
    expect(page.locator("path.gw-area")).to_have_count(n_communities)
    assert_tiles(page, live_app, street.code, "month")

    click_area(page, community.code)
    at(page, community.name)
    assert_tiles(page, live_app, community.code, "month")

    click_area(page, grid.code)
    at(page, grid.name)
    assert f"area={grid.code}" in page.url
    assert_tiles(page, live_app, grid.code, "month")
    expect(page.locator("#grids-roster")).to_contain_text(leader)
    expect(page.locator(f"path.gw-area-{grid.code}.gw-area-selected")).to_have_count(1)
    crumbs = page.locator(".gw-g-crumbs").inner_text()
    assert [part.strip() for part in crumbs.split("›")] == [
        root.name, street.name, community.name, grid.name]
    page.mouse.move(0, 0)
    page.wait_for_timeout(400)
    page.screenshot(path=str(artifacts / "grids-grid.png"))

    page.get_by_text("本季", exact=True).click()  # a control writes the URL
    expect(page).to_have_url(re.compile(r"period=quarter"), timeout=10_000)
    expect(page.locator(".gw-g-period-label")).to_contain_text("季度", timeout=10_000)
    assert_tiles(page, live_app, grid.code, "quarter")

    page.locator(f".gw-g-crumb[data-code='{street.code}']").click()  # climb two levels
    at(page, street.name)
    assert_tiles(page, live_app, street.code, "quarter")
    url, shown_crumbs = page.url, page.locator(".gw-g-crumbs").inner_text()

    page.reload()
    at(page, street.name)
    assert page.url == url
    assert page.locator(".gw-g-crumbs").inner_text() == shown_crumbs
    expect(page.locator("#grids-period input[value='quarter']")).to_be_checked()
    expect(page.locator(".gw-g-period-label")).to_contain_text("季度")
    assert_tiles(page, live_app, street.code, "quarter")

    page.locator(f".gw-g-crumb[data-code='{root.code}']").click()
    at(page, root.name)
    assert "area=" not in page.url and "period=quarter" in page.url
    assert_tiles(page, live_app, "", "quarter")


def test_hover_exports_and_back_button(open_page: Callable[..., Page],
                                       live_app: LiveApp) -> None:
    with live_app.ctx.sessions() as session:
        root = district(session)
        assert root is not None
        street = children(session, root.id)[0]
    page = open_page("/grids?kpi=close_rate")
    at(page, root.name)
    page.mouse.move(*page.evaluate(POINT_INSIDE_JS, street.code))
    tip = page.locator(".gw-g-tip")
    expect(tip).to_contain_text(street.name, timeout=5_000)
    expect(tip).to_contain_text("结案率")
    shown = tip.inner_text()
    assert " / " in shown or "—" in shown  # numerator / denominator, or no value

    with page.expect_download() as csv:
        page.locator("#grids-csv").click()
    assert csv.value.suggested_filename.endswith(".csv")
    head = Path(csv.value.path()).read_bytes().decode("utf-8-sig").splitlines()[0]
    assert head.startswith('"名称","结案率"')  # the chosen indicator next to the name
    with page.expect_download() as xlsx:
        page.locator("#grids-xlsx").click()
    sheet = load_workbook(BytesIO(Path(xlsx.value.path()).read_bytes())).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("名称", "编码") and "结案率" in rows[0]
    assert [r[1] for r in rows[1:-1]] == [a.code for a in children_of(live_app, root.id)]

    page.locator(f"#grids-table .ag-row[row-id='{street.code}'] [col-id='name']").first.click()
    at(page, street.name)
    page.go_back()  # the browser's history walks the views too
    at(page, root.name)
    expect(page.locator("#grids-kpi")).to_contain_text("结案率")


def children_of(live_app: LiveApp, parent_id: int) -> list[Area]:
    """Return an area's children from the database, in code order."""
    with live_app.ctx.sessions() as session:
        return children(session, parent_id)


def test_unknown_area_says_so(open_page: Callable[..., Page]) -> None:
    page = open_page("/grids?area=999999999")
    expect(page.locator(".gw-g-notice")).to_contain_text("没有这个区域编码", timeout=15_000)
