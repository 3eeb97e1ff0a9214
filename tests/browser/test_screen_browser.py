"""The big screen in a real Chromium: layout at wall sizes, live values, the card, live updates
and an unreachable database."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Request, expect
from sqlalchemy import select

from dashboard.tiles import value_text
from queries.models import OPEN_STATUSES, STATUS_REPORTED, Case
from snapshot.build import TILE_KEYS
from snapshot.store import DISTRICT
from tests.browser.conftest import REFRESH_SECONDS, LiveApp, kept_pages

pytestmark = pytest.mark.browser

# Two refresh intervals, one browser poll (half an interval) and a little slack.
WITHIN_TWO_INTERVALS_MS = (2 * REFRESH_SECONDS + REFRESH_SECONDS / 2 + 2) * 1000

OVERFLOW_JS = """() => {
  const w = window.innerWidth, h = window.innerHeight, out = [];
  if (document.documentElement.scrollWidth > w || document.documentElement.scrollHeight > h) {
    out.push('document scrolls');
  }
  for (const el of document.querySelectorAll('.gw-screen *')) {
    if (el.closest('.leaflet-pane, .gw-ticker-window, svg')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.left < -1 || r.top < -1 || r.right > w + 1 || r.bottom > h + 1) {
      out.push(el.className || el.tagName);
    }
  }
  return out;
}"""
CUT_TEXT_JS = """() => Array.from(document.querySelectorAll(
    '.gw-tile-value, .gw-tile-label, .gw-tile-deltas, .gw-counter-value, .gw-rank-name, ' +
    '.gw-rank-tag, .gw-panel-title, .gw-title, .gw-clock'))
  .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.textContent)"""


def wait_until_filled(page: Page) -> None:
    """Wait for the tiles, the ranking and the map's markers to show data."""
    expect(page.locator(".gw-tile-value").first).not_to_have_text("—", timeout=15_000)
    expect(page.locator(".gw-rank-row").first).to_be_visible(timeout=15_000)
    page.wait_for_selector(".gw-cluster, path.gw-case", timeout=15_000)


def tile_texts(page: Page) -> dict[str, str]:
    """Return each tile's displayed value by indicator key."""
    return {key: page.locator(f'[id*=\'"index":"{key}"\'] .gw-tile-value').inner_text()
            for key in TILE_KEYS}


def test_clicking_a_case_opens_its_card(open_page: Callable[..., Page],
                                        live_app: LiveApp) -> None:
    page = open_page("/screen")
    wait_until_filled(page)
    markers = page.locator("path.gw-case")
    for _ in range(6):  # click into clusters until single cases show
        if markers.count():
            break
        page.locator(".gw-cluster").first.click()
        page.wait_for_timeout(700)
    markers.first.click()
    card = page.locator("#map-card-frame")
    expect(card).to_be_visible(timeout=5_000)
    expect(card).to_contain_text("处置时限")
    external_id = card.locator(".gw-card-sub").inner_text().split(" · ")[0]
    with live_app.ctx.sessions() as session:
        status = session.scalar(select(Case.status).where(Case.external_id == external_id))
    assert status in OPEN_STATUSES
    page.locator("#map-card-close").click()
    expect(card).to_be_hidden()


def test_a_new_case_shows_within_two_intervals(open_page: Callable[..., Page],
                                               live_app: LiveApp) -> None:
    page = open_page("/screen")
    wait_until_filled(page)
    before = int(tile_texts(page)["reported"].replace(",", ""))
    now = live_app.ctx.store.clock().replace(microsecond=0)
    new_map = page.expect_request(lambda r: "/api/open-cases.geojson" in r.url,
                                  timeout=WITHIN_TWO_INTERVALS_MS)
    with new_map as map_request, live_app.ctx.sessions() as session:
        model = session.scalars(select(Case).where(Case.status.in_(OPEN_STATUSES))
                                .order_by(Case.id).limit(1)).one()
        session.add(Case(
            external_id="TEST-NEW-0001", source=model.source, category_id=model.category_id,
            description="browser test", address="测试地址 1 号", lat=model.lat, lon=model.lon,
            grid_id=model.grid_id, community_id=model.community_id, street_id=model.street_id,
            status=STATUS_REPORTED, reported_at=now,
            deadline_at=now + timedelta(hours=1),
        ))
        session.commit()
        case_id = session.scalar(select(Case.id).where(Case.external_id == "TEST-NEW-0001"))
    features = map_request.value.response().json()["features"]  # type: ignore[union-attr]
    assert case_id in {f["properties"]["id"] for f in features}
    reported = page.locator('[id*=\'"index":"reported"\'] .gw-tile-value')
    expect(reported).to_have_text(f"{before + 1:,}", timeout=WITHIN_TWO_INTERVALS_MS)
    expect(page.locator(".gw-ticker-track")).to_contain_text(f"{now:%H:%M}")
    assert page.evaluate("() => document.querySelectorAll('.leaflet-container').length") == 1


def test_only_a_new_stamp_runs_the_refresh_and_the_label_follows_empty_polls(
        open_page: Callable[..., Page]) -> None:
    """The poll answers empty while nothing changed, and each empty answer names the last
    snapshot refresh, which the 更新于 label shows; the Dash refresh runs once per new stamp,
    never for an empty answer."""
    page = open_page("/screen")
    wait_until_filled(page)
    empty: list[str] = []  # the Gridwatch-Updated of each empty answer
    stamps: list[str] = []
    refreshes: list[str] = []

    def finished(request: Request) -> None:
        response = request.response()
        if response is None:
            return
        if "/api/version" in request.url:
            if response.headers.get("content-length") == "0":
                empty.append(response.headers.get("gridwatch-updated", ""))
            else:
                stamps.append(request.url)
        elif "_dash-update-component" in request.url and b"screen-version" in (
                request.post_data_buffer or b""):
            refreshes.append(request.url)

    page.on("requestfinished", finished)
    label = page.locator("#screen-updated")
    expect(label).not_to_have_text(label.inner_text(), timeout=WITHIN_TWO_INTERVALS_MS)
    page.wait_for_timeout(REFRESH_SECONDS * 1000)
    assert empty and all(empty), (empty, stamps)
    assert len(refreshes) <= len(stamps)


def test_unreachable_database_keeps_numbers_and_shows_stale(open_page: Callable[..., Page],
                                                            live_app: LiveApp) -> None:
    page = open_page("/screen")
    wait_until_filled(page)
    stale = page.locator("#screen-stale")
    expect(stale).to_be_hidden(timeout=WITHIN_TWO_INTERVALS_MS)
    shown = tile_texts(page)
    database = live_app.database
    aside = database.with_name("aside")
    aside.mkdir(exist_ok=True)
    moved = [p for p in (database, Path(f"{database}-wal"), Path(f"{database}-shm")) if p.exists()]
    try:
        for path in moved:
            shutil.move(path, aside / path.name)
        database.write_bytes(b"this is not a database" * 100)
        live_app.ctx.engine.dispose()
        expect(stale).to_be_visible(timeout=WITHIN_TWO_INTERVALS_MS)
        assert tile_texts(page) == shown
    finally:
        database.unlink(missing_ok=True)
        for path in moved:
            shutil.move(aside / path.name, path)
        live_app.ctx.engine.dispose()
    expect(stale).to_be_hidden(timeout=WITHIN_TWO_INTERVALS_MS)
    assert live_app.ctx.store.error(DISTRICT) is None


def test_a_poll_answered_503_shows_stale_until_a_poll_is_answered(
        open_page: Callable[..., Page]) -> None:
    """A server that cannot read the database answers the poll 503 (a worker started in an
    outage has not seen the wall's token): the badge shows over the old numbers, and goes
    with the next answered poll."""
    page = open_page("/screen")
    wait_until_filled(page)
    stale = page.locator("#screen-stale")
    expect(stale).to_be_hidden(timeout=WITHIN_TWO_INTERVALS_MS)
    shown = tile_texts(page)
    page.route("**/api/version*", lambda route: route.fulfill(
        status=503, body="the database is unavailable, retrying"))
    expect(stale).to_be_visible(timeout=WITHIN_TWO_INTERVALS_MS)
    assert tile_texts(page) == shown
    page.unroute("**/api/version*")
    expect(stale).to_be_hidden(timeout=WITHIN_TWO_INTERVALS_MS)


@pytest.fixture(scope="module")
def filled_wall(browser: Browser, live_app: LiveApp) -> Iterator[Callable[[str, int, int], Page]]:
    """Walls filled once for the tests that only read them (the tiles and the layout at 1080p
    share one load); these tests come last, so no kept wall polls during the others."""
    yield from kept_pages(browser, live_app.url, lambda page, _path: wait_until_filled(page))


def test_tiles_show_what_the_database_gives(filled_wall: Callable[[str, int, int], Page],
                                            live_app: LiveApp) -> None:
    page = filled_wall("/screen", 1920, 1080)
    snapshot = live_app.ctx.store.get(DISTRICT)
    assert snapshot is not None
    shown = tile_texts(page)
    # The wall shows the snapshot's figures, each formatted by its kind (the figures themselves
    # are worked out by hand in tests/test_screen_snapshot.py).
    expected = {tile["key"]: value_text(tile) for tile in snapshot.payload["tiles"]}
    assert shown == expected and len(expected) == len(TILE_KEYS)


@pytest.mark.parametrize(
    ("query", "width", "height"),
    [("", 1920, 1080), ("", 3840, 2160), ("", 5760, 1080), ("?lang=en&theme=light", 1920, 1080)],
)
def test_fills_the_wall_without_overflow(filled_wall: Callable[[str, int, int], Page],
                                         artifacts: Path, query: str, width: int,
                                         height: int) -> None:
    page = filled_wall(f"/screen{query}", width, height)
    assert page.evaluate(OVERFLOW_JS) == []
    assert page.evaluate(CUT_TEXT_JS) == []
    value_px = float(page.locator(".gw-tile-value").first.evaluate(
        "el => parseFloat(getComputedStyle(el).fontSize)"))
    assert value_px >= 40 * min(width / 1920, height / 1080)
    page.wait_for_timeout(500)  # let the trend figure settle before the picture
    suffix = "-en-light" if query else ""
    page.screenshot(path=str(artifacts / f"screen-{width}x{height}{suffix}.png"))
