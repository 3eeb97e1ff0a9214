"""Legible and uncut, measured in a real Chromium: the wall's text at 8 metres, and no page
whose content spills out of a box that hides it.

- ``/screen`` at 1920×1080: every visible piece of text (HTML and the charts' SVG) renders at
  20 CSS px or more.
- the pages' top bar on a 390×844 phone: every link on one line, inside the screen;
- ``/screen``, ``/grids`` and ``/rankings`` at 1920×1080 and 3840×2160, and ``/grids`` and
  ``/rankings`` on a 390×844 phone: no element that hides its overflow (``overflow: hidden``
  or ``clip`` on an axis) holds content wider or taller than itself — that content would be
  cut off unseen.
  Boxes built to scroll or to cut on purpose are left out (the list is ``SKIP``): map and chart
  internals, AG Grid's virtual viewports, the ticker's moving track, and the shared prefix of a
  grid's name (its own number stays whole; see ``dashboard.names``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveApp, kept_pages

pytestmark = pytest.mark.browser

MIN_PX = 20.0
# Text with a direct text node (or SVG text), visible on screen, smaller than the floor.
SMALL_TEXT_JS = """(minPx) => {
  const out = [];
  const visible = el => el.checkVisibility({opacityProperty: true, visibilityProperty: true})
    && el.getClientRects().length > 0;
  for (const el of document.querySelectorAll('.gw-screen *')) {
    const own = Array.from(el.childNodes).some(
      n => n.nodeType === Node.TEXT_NODE && n.textContent.trim() !== '');
    if (!own || !visible(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.right < 0 || r.bottom < 0 || r.left > innerWidth || r.top > innerHeight) continue;
    const px = parseFloat(getComputedStyle(el).fontSize);
    if (px < minPx - 0.01) {
      const name = `${el.tagName}.${el.getAttribute('class') || ''}`;
      out.push(`${px}px ${name}: ${el.textContent.trim().slice(0, 30)}`);
    }
  }
  return out;
}"""
# Parts of pages that scroll or cut by design, so their scroll sizes say nothing about loss.
SKIP = [
  ".leaflet-container", ".js-plotly-plot", "svg", ".gw-ticker-window",
  ".ag-root-wrapper", ".ag-measurement-container", ".ag-aria-description-container",
  ".gw-r-list-prefix", ".gw-rank-prefix", ".dash-dropdown", "[class*='dash-dropdown']",
]
OVERFLOW_JS = """(skip) => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (skip.some(s => el.closest(s))) continue;
    if (el.getClientRects().length === 0 || !el.checkVisibility()) continue;
    const css = getComputedStyle(el);
    const cuts = v => v === 'hidden' || v === 'clip';
    const wide = cuts(css.overflowX) && el.scrollWidth > el.clientWidth + 1;
    const tall = cuts(css.overflowY) && el.scrollHeight > el.clientHeight + 1;
    if (wide || tall) {
      const name = `${el.tagName}.${el.getAttribute('class') || el.id}`;
      out.push(`${wide ? 'wide' : ''}${tall ? 'tall' : ''} ${name}` +
               ` ${el.scrollWidth}x${el.scrollHeight} in ${el.clientWidth}x${el.clientHeight}` +
               `: ${el.textContent.trim().slice(0, 40)}`);
    }
  }
  return out;
}"""
PAGES = [
    ("/screen", 1920, 1080), ("/screen", 3840, 2160),
    ("/grids", 1920, 1080), ("/grids", 3840, 2160), ("/grids", 390, 844),
    ("/rankings", 1920, 1080), ("/rankings", 3840, 2160), ("/rankings", 390, 844),
]


def wait_for_data(page: Page, path: str) -> None:
    """Wait until the page's panels hold data (their sizes are final then)."""
    if path == "/screen":
        expect(page.locator(".gw-tile-value").first).not_to_have_text("—", timeout=30_000)
        expect(page.locator(".gw-rank-row").first).to_be_visible(timeout=20_000)
        page.wait_for_function(
            "() => document.querySelectorAll('.gw-cluster, path.gw-case').length > 0",
            timeout=45_000)
    elif path == "/grids":
        expect(page.locator(".gw-g-tile").first).to_be_visible(timeout=20_000)
        # Attached, not visible: on a phone the tables sit below the first screen.
        page.wait_for_selector(".ag-row", state="attached", timeout=20_000)
    else:
        expect(page.locator(".gw-r-tile").first).to_be_visible(timeout=30_000)
        page.wait_for_selector(".ag-row", timeout=30_000)
    page.wait_for_timeout(1_500)  # charts and counters settle


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (3840, 2160)])
def test_present_scales_pages_and_keeps_its_indicator_off_them(
        open_page: Callable[..., Page], artifacts: Path, width: int, height: int) -> None:
    page = open_page("/present?pages=screen,rankings&seconds=600", width, height)
    frame = page.locator(".gw-present-frame").first
    expect(frame).to_be_visible(timeout=15_000)
    expect(page.locator("#present-indicator")).to_contain_text("1 / 2", timeout=15_000)
    box, hud = frame.bounding_box(), page.locator(".gw-present-hud").bounding_box()
    assert box is not None and hud is not None
    # The pages fill the screen above the indicator's own strip; nothing of them is under it.
    assert box["y"] + box["height"] <= hud["y"] + 1 and hud["y"] + hud["height"] <= height + 1
    assert abs(box["width"] - width) <= 1
    # Drawn at the 1080p design size and scaled as a whole: 2160 / (1080 + 30) on a 4K wall.
    scale = max(1.0, min(width / 1920, height / 1110))
    inner = page.frames[1]
    inner.wait_for_selector(".gw-tile-value", timeout=30_000)
    assert abs(inner.evaluate("() => innerHeight") * scale - box["height"]) <= 2
    assert abs(inner.evaluate("() => innerWidth") - width / scale) <= 2
    expect(inner.locator(".gw-tile-value").first).not_to_have_text("—", timeout=30_000)
    inner.wait_for_timeout(1_500)
    small = inner.evaluate(SMALL_TEXT_JS, MIN_PX)  # CSS px inside the frame, before the scale
    assert not small, "\n".join(small)
    hud_px = float(page.locator(".gw-present-hud").evaluate(
        "el => parseFloat(getComputedStyle(el).fontSize)"))
    assert hud_px >= MIN_PX * scale - 0.5
    page.screenshot(path=str(artifacts / f"present-{width}x{height}.png"))


# Every link of the top bar and every period switch: one line each, inside the screen.
ONE_LINE_JS = """() => Array.from(document.querySelectorAll('.gw-nav-link, .gw-s-period'))
  .filter(el => el.getClientRects().length > 0)
  .map(el => { const r = el.getBoundingClientRect();
               const px = parseFloat(getComputedStyle(el).fontSize);
               return [el.textContent.trim(), r.height / px, r.left, r.right]; })"""


def test_a_phone_gets_the_top_bar_in_rows_of_whole_links(open_page: Callable[..., Page],
                                                           artifacts: Path) -> None:
    """At 390 px the bar wraps into rows: a link squeezed into its share of one row broke its
    name into one character a line (数/据/质/量)."""
    page = open_page("/sections", 390, 844)
    expect(page.locator(".gw-s-period").first).to_be_visible(timeout=20_000)
    links = page.evaluate(ONE_LINE_JS)
    assert len(links) >= 9, links  # the pages of the bar and the three periods
    for name, lines, left, right in links:
        assert lines < 2.0, f"{name} wraps: {lines:.1f} font sizes tall"
        assert left >= 0 and right <= 390 + 0.5, f"{name} is off the screen: {left}–{right}"
    page.screenshot(path=str(artifacts / "top-bar-390x844.png"))


@pytest.fixture(scope="module")
def filled_page(browser: Browser, live_app: LiveApp) -> Iterator[Callable[[str, int, int], Page]]:
    """Pages filled once for the tests that only read them: three measure the wall at 1080p.
    These tests come last, so no kept page polls during the others."""
    yield from kept_pages(browser, live_app.url, wait_for_data)


def test_no_wall_text_below_20_px_at_1080p(filled_page: Callable[[str, int, int], Page],
                                           artifacts: Path) -> None:
    page = filled_page("/screen", 1920, 1080)
    small = page.evaluate(SMALL_TEXT_JS, MIN_PX)
    assert not small, "\n".join(small)
    # The floor is real: the charts' ticks and the tiles' changes are among the measured.
    sizes = page.evaluate("""() => [
      parseFloat(getComputedStyle(document.querySelector('.gw-tile-deltas')).fontSize),
      parseFloat(getComputedStyle(document.querySelector('.gw-graph .xtick text')).fontSize)]""")
    assert all(size >= MIN_PX for size in sizes)
    page.screenshot(path=str(artifacts / "legible-screen-1920x1080.png"))


def test_a_cluster_shows_its_mix_of_lights(filled_page: Callable[[str, int, int], Page]) -> None:
    page = filled_page("/screen", 1920, 1080)
    # How many clusters the small test city draws depends on the hour its open cases fall in,
    # so the page is checked once its markers are drawn: every cluster it has carries a ring.
    page.wait_for_selector(".gw-cluster, path.gw-case", timeout=15_000)
    ring = page.evaluate("() => window.gridwatch.map.clusterRing(1, 1, 4)")
    assert ring == ("conic-gradient(#ff4d4f 0 25.00%, #f5c542 25.00% 50.00%, "
                    "#2ecc71 50.00% 100%)")
    backgrounds = page.evaluate("""() => Array.from(
      document.querySelectorAll('.gw-cluster .gw-cluster-ring')).map(el => el.style.background)""")
    clusters = page.locator(".gw-cluster").count()
    assert len(backgrounds) == clusters and all("conic-gradient" in b for b in backgrounds)


@pytest.mark.parametrize(("path", "width", "height"), PAGES)
def test_no_content_is_cut_off(filled_page: Callable[[str, int, int], Page], artifacts: Path,
                               path: str, width: int, height: int) -> None:
    page = filled_page(path, width, height)
    cut = page.evaluate(OVERFLOW_JS, SKIP)
    assert not cut, "\n".join(cut)
    page.screenshot(path=str(artifacts / f"uncut{path.replace('/', '-')}-{width}x{height}.png"))


def test_rankings_on_a_4k_screen_is_the_1080p_page_twice_the_size(
        open_page: Callable[..., Page]) -> None:
    """Drawn 1:1 at 3840×2160 its 26 px tile figures were 1080p-sized on a wall twice as big."""
    page = open_page("/rankings", 3840, 2160)
    expect(page.locator(".gw-r-tile-value").first).to_be_visible(timeout=30_000)
    tall = page.evaluate("() => document.querySelector('.gw-r-tile-value')"
                         ".getBoundingClientRect().height")
    assert tall >= 2 * 26, tall  # 26 px figures, zoomed twice
    assert not page.evaluate("() => document.documentElement.scrollHeight > innerHeight + 1")

