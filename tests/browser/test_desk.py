"""The case desk in a real Chromium, on a copy of the small demo city, with real logins.

A department head logs in through /login, sees only their department's open cases, opens one
and reads its stages and log, and exports a CSV whose every row is theirs (a real download).
A leader flags one of those cases on its page; the department head's desk then shows it pinned
at the top. Screenshots of the login page, the desk and a case page at 1920×1080 and 1440×900
land in artifacts/.
"""

from __future__ import annotations

import csv
import io
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app import create_app, create_context
from queries import accounts
from queries.models import OPEN_STATUSES, Case, Department
from settings import Settings
from tests.browser.conftest import LiveApp, local_pages

pytestmark = pytest.mark.browser
PASSWORD = "desk-browser-password"
SIZES = ((1920, 1080), (1440, 900))


@dataclass(frozen=True)
class DeskApp:
    """The served app and the department its head's account belongs to."""

    live: LiveApp
    department: str


@pytest.fixture(scope="module")
def desk_app(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeskApp]:
    """Serve the app on a copy of the demo city (flags write to it), with no built-in caller."""
    folder = tmp_path_factory.mktemp("desk")
    database = folder / "demo.sqlite3"
    shutil.copyfile(demo_db, database)
    ctx = create_context(Settings(data_dir=folder, database_url=f"sqlite:///{database}",
                                  open_wall=True))
    server = make_server("127.0.0.1", 0, create_app(context=ctx).server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="gridwatch-desk-server",
                              daemon=True)
    thread.start()
    with ctx.sessions() as session:
        busiest = session.execute(
            select(Department.code, Department.name).join(Case, Case.department_id == Department.id)
            .where(Case.status.in_(OPEN_STATUSES)).group_by(Department.id)
            .order_by(func.count().desc()).limit(1)).one()
        accounts.add_user(session, "desk-head", PASSWORD, "department", now=Settings().now(),
                          display_name="李科长", department=busiest.code)
        accounts.add_user(session, "desk-boss", PASSWORD, "leader", now=Settings().now(),
                          display_name="王局长")
        session.commit()
    yield DeskApp(LiveApp(url=f"http://127.0.0.1:{server.server_port}", ctx=ctx,
                          database=database, scheduler=BackgroundScheduler(), server=server),
                  busiest.name)  # no scheduler runs: the desk reads the database itself
    server.shutdown()
    thread.join(timeout=10)
    ctx.engine.dispose()


@pytest.fixture
def open_desk(browser: Browser, desk_app: DeskApp) -> Iterator[Callable[..., Page]]:
    yield from local_pages(browser, desk_app.live.url)


def open_count(desk_app: DeskApp) -> int:
    with desk_app.live.ctx.sessions() as session:
        return session.scalar(
            select(func.count()).select_from(Case).join(Department)
            .where(Case.status.in_(OPEN_STATUSES), Department.name == desk_app.department)) or 0


def log_in(page: Page, username: str, path: str) -> None:
    """Log in through the form a private page redirected to; wait to be back on ``path``."""
    expect(page.locator("#username")).to_be_visible()
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: urlsplit(url).path == path)


def grid_rows(page: Page) -> list[dict[str, str]]:
    """Return the desk grid's rendered rows (case number, flag, department) in order."""
    rows = page.locator("#desk-grid .ag-center-cols-container .ag-row")
    expect(rows.first).to_be_visible(timeout=30_000)
    for part, column in (("center", "department"), ("pinned-left", "external_id")):
        expect(page.locator(f"#desk-grid .ag-{part}-cols-container .ag-row[row-index='0'] "
                            f"[col-id='{column}']")).not_to_be_empty(timeout=30_000)
    out = []
    for n in range(min(rows.count(), 15)):
        row = page.locator(f"#desk-grid .ag-center-cols-container .ag-row[row-index='{n}']")
        pinned = page.locator(f"#desk-grid .ag-pinned-left-cols-container "
                              f".ag-row[row-index='{n}']")
        out.append({"case": pinned.locator("[col-id='external_id']").inner_text(),
                    "flag": row.locator("[col-id='flagged']").inner_text(),
                    "department": row.locator("[col-id='department']").inner_text()})
    return out


def test_a_department_head_works_the_desk_and_a_leader_supervises(
        open_desk: Callable[..., Page], desk_app: DeskApp, artifacts: Path) -> None:
    department = desk_app.department
    for width, height in SIZES:
        login = open_desk("/login?next=/desk", width=width, height=height)
        expect(login.locator("button[type=submit]")).to_be_visible()
        login.screenshot(path=str(artifacts / f"desk-login-{width}.png"))
    page = open_desk("/desk")  # a private page: the login form, then back
    log_in(page, "desk-head", "/desk")
    rows = grid_rows(page)
    assert rows and {r["department"] for r in rows} == {department}
    total = open_count(desk_app)
    expect(page.locator("#desk-count")).to_have_text(f"共 {total:,} 件", timeout=15_000)
    expect(page.locator("#desk-tiles .gw-d-tile")).to_have_count(6)
    page.screenshot(path=str(artifacts / "desk-1920.png"))
    small = open_desk("/desk", width=1440, height=900)
    log_in(small, "desk-head", "/desk")
    grid_rows(small)
    small.screenshot(path=str(artifacts / "desk-1440.png"))
    # A 4K screen draws the page at twice the size, and all of it stays on the screen.
    large = open_desk("/desk", width=3840, height=2160)
    log_in(large, "desk-head", "/desk")
    grid_rows(large)
    assert large.evaluate("document.documentElement.scrollWidth") <= 3840
    assert large.evaluate("document.documentElement.scrollHeight") <= 2160
    expect(large.locator("#desk-tiles .gw-d-tile").last).to_be_in_viewport()
    large.screenshot(path=str(artifacts / "desk-3840.png"))

    # Export the view: a real download whose every row is this department's.
    with page.expect_download() as download:
        page.locator("#desk-csv").click()
    text = Path(download.value.path()).read_bytes().decode("utf-8-sig")
    header, *exported = list(csv.reader(io.StringIO(text)))
    column = header.index("责任部门")
    assert len(exported) == total and {r[column] for r in exported} == {department}
    assert [r[0] for r in exported[:len(rows)]] == [r["case"] for r in rows]

    # Open the first case: its stages against their limits and its log.
    page.locator("#desk-grid .ag-pinned-left-cols-container .ag-row[row-index='0'] a").click()
    page.wait_for_url("**/desk/case?id=*")
    expect(page.locator(".gw-c-no")).to_have_text(rows[0]["case"], timeout=15_000)
    stages = page.locator(".gw-c-panel:has(h2:text('各环节用时与时限')) tbody tr")
    expect(stages).to_have_count(4)
    expect(stages.first.locator("td").first).to_have_text("立案")
    expect(page.locator(".gw-c-panel:has(h2:text('流转记录')) tr").first).to_contain_text("上报")
    expect(page.locator(".gw-c-map.leaflet-container")).to_be_visible()
    expect(page.locator("#case-flag-button")).to_have_count(0)  # a head cannot flag
    case_path = "/desk/case?" + page.url.split("?", 1)[1]
    for width, height in SIZES:
        view = open_desk(case_path, width=width, height=height)
        log_in(view, "desk-head", "/desk/case")
        expect(view.locator(".gw-c-no")).to_be_visible(timeout=15_000)
        view.wait_for_timeout(800)  # the outlines arrive after the map
        view.screenshot(path=str(artifacts / f"desk-case-{width}.png"), full_page=True)

    # A leader flags the head's last listed case; the head's desk pins it first.
    target = rows[-1]["case"]
    with desk_app.live.ctx.sessions() as session:
        target_id = session.scalar(select(Case.id).where(Case.external_id == target))
    boss = open_desk(f"/desk/case?id={target_id}")
    log_in(boss, "desk-boss", "/desk/case")
    boss.locator("#case-flag-note").fill("请今日办结")
    boss.locator("#case-flag-button").click()
    expect(boss.locator("#case-flag-message")).to_have_text("已督办", timeout=15_000)
    expect(boss.locator("#case-flags")).to_contain_text("请今日办结")
    # The desk opens with one request for its first block: a second (the filters' store firing
    # as the page opens) reloaded the grid and blanked its rows in between.
    blocks: list[str] = []
    page.on("request", lambda r: blocks.append(r.url) if "getRowsRequest" in (
        r.post_data or "") and "_dash-update-component" in r.url else None)
    page.goto(page.url.split("/desk")[0] + "/desk")
    grid_rows(page)
    expect(page.locator("#desk-count")).to_have_text(f"共 {total:,} 件", timeout=15_000)
    page.wait_for_timeout(1500)  # time for a second request, were one coming
    assert len(blocks) == 1, blocks
    # Expectations, not one reading: each retries until its cell shows the pinned row.
    expect(page.locator("#desk-grid .ag-pinned-left-cols-container .ag-row[row-index='0'] "
                        "[col-id='external_id']")).to_have_text(target)
    expect(page.locator("#desk-grid .ag-center-cols-container .ag-row[row-index='0'] "
                        "[col-id='flagged']")).to_have_text("督办")

    # A filter reloads the grid from its first block: a number no case has finds none, and
    # clearing it brings the whole view back (the department may have one open case only).
    search = page.locator("#desk-search")
    search.fill("NO-SUCH-CASE")
    search.press("Enter")
    expect(page.locator("#desk-count")).to_have_text("共 0 件", timeout=15_000)
    expect(page.locator("#desk-grid .ag-center-cols-container .ag-row")).to_have_count(0)
    search.fill("")
    search.press("Enter")
    expect(page.locator("#desk-count")).to_have_text(f"共 {total:,} 件", timeout=15_000)
    expect(page.locator("#desk-grid .ag-pinned-left-cols-container .ag-row[row-index='0'] "
                        "[col-id='external_id']")).to_have_text(target)
    page.screenshot(path=str(artifacts / "desk-pinned-1920.png"))
