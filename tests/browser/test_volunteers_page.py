"""/volunteers in a real Chromium: the counters equal the named reads, at desk and phone sizes,
and a 4K screenshot; every request stays on this machine."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from queries.volunteers import volunteer_page
from tests.browser.conftest import LiveApp

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("size", [(1920, 1080), (390, 844), (3840, 2160)],
                         ids=["1920x1080", "390x844", "3840x2160"])
def test_volunteers_page(live_app: LiveApp, open_page: Callable[..., Page], artifacts,  # type: ignore[no-untyped-def]
                         size: tuple[int, int]) -> None:
    page = open_page("/volunteers", *size)
    month = page.locator("#vol-tile-teams_month .gw-v-tile-value")
    expect(month).not_to_be_empty(timeout=20000)
    with live_app.ctx.sessions() as session:
        data = volunteer_page(session, now=live_app.ctx.settings.now())
    assert month.inner_text() == f"{data.teams_month:,}"
    label = page.locator("#vol-tile-hours_year .gw-v-tile-label")
    assert label.inner_text() == "本年服务时长(小时)"
    if data.teams:
        expect(page.locator(".gw-v-table tbody tr").first).to_contain_text(data.teams[0].team)
    expect(page.locator("#vol-trend .main-svg").first).to_be_visible(timeout=20000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / f"volunteers-{size[0]}x{size[1]}.png"))
    assert not page.evaluate("() => document.documentElement.scrollWidth > innerWidth + 1")


def test_the_grid_page_shows_the_areas_volunteer_work(live_app: LiveApp,
                                                      open_page: Callable[..., Page]) -> None:
    from datetime import timedelta

    from dashboard.volunteers.view import hours_text
    from queries.areas import district
    from queries.periods import parse_period
    from queries.volunteers import work_by_area

    page = open_page("/grids")
    line = page.locator("#grids-volunteers")
    expect(line).to_contain_text("志愿服务", timeout=20000)
    now = live_app.ctx.settings.now()
    month = parse_period("month", now)
    with live_app.ctx.sessions() as session:
        code = district(session).code  # type: ignore[union-attr]
        work = work_by_area(session, codes=[code], start=month.start,
                            now=min(month.end - timedelta(microseconds=1), now))[code]
    assert f"{hours_text(work.hours)} 小时" in line.inner_text()


def test_the_outlines_lie_under_the_points(open_page: Callable[..., Page]) -> None:
    """The district's outlines are drawn in a pane under the points' (they load on their own
    and, drawn after the points, lay over them and took their hover: found on /sections)."""
    page = open_page("/volunteers")
    page.wait_for_selector(".leaflet-vol-outlines-pane path", state="attached", timeout=20000)
    page.wait_for_timeout(500)
    found = page.evaluate("""() => {
      const map = document.querySelector('.gw-v-map');
      const z = sel => Number(getComputedStyle(map.querySelector(sel)).zIndex);
      const points = Array.from(map.querySelectorAll('.leaflet-overlay-pane path'));
      const missed = points.filter(p => { const r = p.getBoundingClientRect();
        return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) !== p; });
      return {outlines: z('.leaflet-vol-outlines-pane'), overlay: z('.leaflet-overlay-pane'),
              points: points.length, missed: missed.length};
    }""")
    assert found["outlines"] < found["overlay"], found
    # Every point drawn today takes its own hover (a city with no activity yet today has none
    # to try: the z-order above is what keeps it so).
    assert found["missed"] == 0, found

