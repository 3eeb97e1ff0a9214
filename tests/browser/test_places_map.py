"""The public livelihood map (/map) in a real Chromium, on a phone and on a desktop.

Layers, search, facility filters, the card, a citizen's report becoming a case (报修中), "near
me" refused and granted, the throttled first screen on a 3G profile, and every request local.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from queries.models import SOURCE_PHOTO, STATUS_REPORTED, Case, PlaceReport
from queries.opening import is_open
from queries.places import LAYERS, Place, list_places
from queries.workcalendar import default_calendar
from tests.browser.conftest import LiveApp

pytestmark = pytest.mark.browser

# Chrome DevTools' "3G" preset (the old "Fast 3G"): 562.5 ms latency, 1.6 Mbit/s down and
# 750 kbit/s up, each × 0.9 as DevTools applies them.
THREE_G = {"offline": False, "latency": 562.5, "downloadThroughput": 1.6e6 * 0.9 / 8,
           "uploadThroughput": 750e3 * 0.9 / 8}
FIRST_SCREEN_BUDGET_MS = 2000
PHONE = (390, 844)
DESKTOP = (1920, 1080)


def _places(live_app: LiveApp) -> list[Place]:
    with live_app.ctx.sessions() as session:
        return list_places(session)


@pytest.fixture
def contexts(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """New browser contexts that record every request; afterwards, all must have been local."""
    made: list[BrowserContext] = []
    urls: list[str] = []

    def new(width: int, height: int, **options: object) -> BrowserContext:
        context = browser.new_context(viewport={"width": width, "height": height},
                                      device_scale_factor=1, **options)
        context.on("request", lambda r: urls.append(r.url))
        made.append(context)
        return context

    yield new
    for context in made:
        context.close()
    outside = [u for u in urls if urlparse(u).scheme not in ("data", "blob", "about")
               and urlparse(u).hostname != "127.0.0.1"]
    assert urls, "no request was recorded"
    assert not outside, f"the map fetched from outside this machine: {outside[:5]}"


def _open(context: BrowserContext, url: str) -> Page:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=20000)
    assert not errors, errors
    return page


def _shown(page: Page) -> dict[str, int]:
    """The markers drawn now, by layer, read from the map itself (one canvas, no nodes)."""
    return page.evaluate("() => gridwatch.places.shown()")


def _count(page: Page) -> int:
    return int(page.locator("#pm-count").get_attribute("data-count") or -1)


WEIGHT_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource');
  return {transfer: nav.transferSize + res.reduce((s, r) => s + r.transferSize, 0),
          decoded: nav.decodedBodySize + res.reduce((s, r) => s + r.decodedBodySize, 0),
          requests: 1 + res.length,
          timeline: [['/map', 0, Math.round(nav.responseEnd)]].concat(res.map(
            r => [r.name.replace(location.origin, ''), Math.round(r.startTime),
                  Math.round(r.responseEnd)]))};
}"""


def _throttled_load(live_app: LiveApp, context: BrowserContext) -> tuple[int, dict]:
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", THREE_G)
    page.goto(f"{live_app.url}/map")
    page.wait_for_selector("body[data-ready='1']", timeout=30000)
    expect(page.locator("#pm-search")).to_be_editable()
    assert _count(page) == len(_places(live_app))
    ready_ms = int(page.locator("body").get_attribute("data-ready-ms") or 0)
    weight = page.evaluate(WEIGHT_JS)
    page.close()
    return ready_ms, weight


def test_first_screen_on_a_throttled_3g_phone(live_app: LiveApp,
                                              contexts: Callable[..., BrowserContext]) -> None:
    # The machine is shared: the best of three cold loads is the page's own cost (network
    # throttling is deterministic; CPU contention from other processes is not).
    runs = [_throttled_load(live_app, contexts(*PHONE)) for _ in range(3)]
    ready_ms, weight = min(runs, key=lambda run: run[0])
    print(f"\n/map first screen on throttled 3G (562.5 ms, 1.44 Mbit/s) at 390×844: best "
          f"{ready_ms} ms of {[r[0] for r in runs]}; page weight "
          f"{weight['transfer'] / 1024:.1f} kB transferred ({weight['decoded'] / 1024:.1f} kB "
          f"decoded) in {weight['requests']} requests; (path, start, end ms): "
          f"{weight['timeline']}")
    assert 0 < ready_ms < FIRST_SCREEN_BUDGET_MS
    assert weight["requests"] == 2 and weight["transfer"] < 100 * 1024


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["390x844", "1920x1080"])
def test_layers_search_and_facility_filters(live_app: LiveApp,
                                            contexts: Callable[..., BrowserContext],
                                            size: tuple[int, int]) -> None:
    places = _places(live_app)
    toilets = [p for p in places if p.layer == "toilet"]
    page = _open(contexts(*size), f"{live_app.url}/map")
    assert _count(page) == len(places) == sum(_shown(page)[k] for k in LAYERS)

    page.click("button[data-toggle='toilet']")  # the toilet layer off: its markers go
    assert _count(page) == len(places) - len(toilets)
    assert _shown(page)["toilet"] == 0 and _shown(page)["culture"] > 0
    page.click("button[data-toggle='toilet']")
    assert _shown(page)["toilet"] == len(toilets)

    target = next(p for p in toilets if sum(q.name == p.name for q in places) == 1)
    page.fill("#pm-search", target.name)
    expect(page.locator(".pm-result-name").first).to_have_text(target.name)
    assert _count(page) == sum(target.name in f"{p.name} {p.address} {p.kind}" for p in places)
    page.locator(".pm-result").first.click()
    card = page.locator("#pm-card")
    expect(card.locator("h2")).to_have_text(target.name)
    facts = card.locator(".pm-facts").inner_text()
    for label, on in (("无障碍", target.accessible), ("母婴室", target.baby_care),
                      ("第三卫生间", target.family_room)):
        assert f"{label}\n{'有' if on else '无'}" in facts, facts
    assert "免费" in facts and "有厕纸" in facts and "开放时间" in facts
    assert "place=" in page.url

    page.fill("#pm-search", "")
    page.click("button[data-toggle='convenience']")
    page.click("button[data-toggle='culture']")
    page.click("button[data-toggle='baby']")  # a facility filter narrows the toilets
    with_baby = sum(p.baby_care for p in toilets)
    assert 0 < _count(page) == with_baby < len(toilets)
    assert "filter=baby" in page.url and "layer=toilet" in page.url
    page.click("button[data-toggle='baby']")
    page.click("button[data-toggle='open']")
    now = live_app.ctx.settings.now()
    calendar = default_calendar()
    open_now = sum(is_open(p.opening_hours, calendar, now) for p in toilets)
    assert abs(_count(page) - open_now) <= 1  # a place may open or close during the test


def test_a_report_becomes_a_case_and_the_card_reads_under_repair(
        live_app: LiveApp, contexts: Callable[..., BrowserContext]) -> None:
    toilet = next(p for p in _places(live_app) if p.layer == "toilet" and not p.repairing)
    page = _open(contexts(*PHONE), f"{live_app.url}/map?place={toilet.id}")
    card = page.locator("#pm-card")
    expect(card.locator("h2")).to_have_text(toilet.name)
    card.locator(".pm-report-open").click()
    card.locator("label[for='pm-p-dirty']").click()
    words = "<img src=x onerror=alert(1)> 地面有积水"
    card.locator("textarea").fill(words)
    card.locator(".pm-send").click()
    expect(card.locator(".pm-report-ok")).to_contain_text("已受理")
    expect(card.locator(".pm-badge")).to_have_text("报修中")
    assert page.locator("#pm-card img").count() == 0

    with live_app.ctx.sessions() as session:
        report = session.scalars(select(PlaceReport).where(PlaceReport.poi_id == toilet.id)).one()
        case = session.get(Case, report.case_id)
    assert case is not None and case.source == SOURCE_PHOTO and case.status == STATUS_REPORTED
    assert words in case.description and toilet.name in case.description
    assert case.grid_id is not None and case.lat == toilet.lat

    again = _open(contexts(*DESKTOP), f"{live_app.url}/map?place={toilet.id}")
    expect(again.locator("#pm-card .pm-badge")).to_have_text("报修中")
    assert _shown(again)["repair"] >= 1


def test_near_me_refused_says_so_and_granted_sorts_by_distance(
        live_app: LiveApp, contexts: Callable[..., BrowserContext]) -> None:
    refused = _open(contexts(*PHONE), f"{live_app.url}/map")
    refused.click("#pm-near")
    expect(refused.locator("#pm-status")).to_contain_text("未获得定位权限")

    place = _places(live_app)[0]
    granted = _open(contexts(*PHONE, geolocation={"latitude": place.lat,
                                                  "longitude": place.lon},
                             permissions=["geolocation"]), f"{live_app.url}/map")
    granted.click("#pm-near")
    expect(granted.locator("#pm-status")).to_contain_text("已按距离排列")
    expect(granted.locator(".pm-result-meta").first).to_contain_text(" m")


def test_english_and_screenshots(live_app: LiveApp, contexts: Callable[..., BrowserContext],
                                 artifacts) -> None:  # type: ignore[no-untyped-def]
    toilet = next(p for p in _places(live_app) if p.layer == "toilet")
    english = _open(contexts(*PHONE), f"{live_app.url}/map?lang=en&place={toilet.id}")
    expect(english.locator(".pm-title")).to_contain_text("Livelihood map")
    expect(english.locator("#pm-card dt").first).to_have_text("Kind")
    for width, height in (PHONE, DESKTOP, (3840, 2160)):
        page = _open(contexts(width, height), f"{live_app.url}/map?place={toilet.id}")
        page.screenshot(path=str(artifacts / f"map-{width}x{height}.png"))
        overflow = page.evaluate("() => document.documentElement.scrollWidth > innerWidth")
        assert not overflow, f"/map scrolls sideways at {width}×{height}"


@pytest.mark.parametrize("path", ["/screen", "/grids"])
def test_the_wall_and_the_grid_page_show_each_toilets_state(
        live_app: LiveApp, contexts: Callable[..., BrowserContext], artifacts,  # type: ignore[no-untyped-def]
        path: str) -> None:
    toilets = [p for p in _places(live_app) if p.layer == "toilet"]
    page = contexts(*DESKTOP).new_page()
    page.goto(f"{live_app.url}{path}")
    toggle = page.locator(".gw-places-toggle label")
    expect(toggle).to_have_text("公厕状态", timeout=20000)
    assert page.locator("path.gw-place").count() == 0  # off by default: the wall is for cases
    toggle.click()
    expect(page.locator("path.gw-place")).to_have_count(len(toilets), timeout=20000)
    repairing = sum(p.repairing for p in toilets)
    assert page.locator("path.gw-place-repair").count() == repairing > 0
    page.screenshot(path=str(artifacts / f"places-layer{path.replace('/', '-')}-1920x1080.png"))
    toggle.click()
    expect(page.locator("path.gw-place")).to_have_count(0)
