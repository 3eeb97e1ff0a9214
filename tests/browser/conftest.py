"""Browser-tier fixtures: a small demo city, the real app on a free port, headless Chromium.

Built once per session and shared by every page's browser tests: ``demo_db`` (the SQLite file),
``live_app`` (the app served by werkzeug in a thread, its snapshot refreshed by the real
scheduler every ``REFRESH_SECONDS``), ``browser`` (Debian's Chromium through Playwright) and
``open_page`` (a page at a viewport size that records every request it makes, and fails the
test if any went anywhere but this machine); ``kept_pages`` lets read-only tests share a load.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from app import Context, create_app, create_context, create_jobs
from ingest.democity import generate
from queries.engine import init_db, make_engine
from queries.rules import DEFAULT_RULES_FILE
from settings import Settings
from snapshot.jobs import create_scheduler
from tests.identities import as_leader

REFRESH_SECONDS = 2
DEMO_CASES = 3000
DEMO_SEED = 7
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@dataclass
class LiveApp:
    """The running app: its base URL, its context (settings, engine, store) and database file."""

    url: str
    ctx: Context
    database: Path
    scheduler: BackgroundScheduler
    server: BaseWSGIServer = field(repr=False)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo city in a SQLite file, generated once per test session."""
    path = tmp_path_factory.mktemp("browser") / "demo.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    generate(engine, cases=DEMO_CASES, seed=DEMO_SEED, now=Settings().now())  # the app's clock
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def live_app(demo_db: Path) -> Iterator[LiveApp]:
    """Serve the real app on a free 127.0.0.1 port, refreshed by the real scheduler."""
    settings = Settings(data_dir=demo_db.parent, database_url=f"sqlite:///{demo_db}",
                        refresh_seconds=REFRESH_SECONDS, open_wall=True)
    ctx = create_context(settings)
    app = create_app(context=ctx)
    server = make_server("127.0.0.1", 0, as_leader(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="gridwatch-test-server",
                              daemon=True)
    thread.start()
    scheduler = create_scheduler(create_jobs(ctx), timezone=settings.timezone)
    ctx.store.refresh()
    scheduler.start()
    yield LiveApp(url=f"http://127.0.0.1:{server.server_port}", ctx=ctx, database=demo_db,
                  scheduler=scheduler, server=server)
    scheduler.shutdown(wait=False)
    server.shutdown()
    thread.join(timeout=10)
    ctx.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium (never a downloaded browser)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        yield chromium
        chromium.close()


def local_pages(browser: Browser, base_url: str) -> Iterator[Callable[..., Page]]:
    """Yield a page opener for ``base_url``; afterwards, assert every request stayed local."""
    requests: list[str] = []
    contexts = []

    def open_(path: str = "/screen", width: int = 1920, height: int = 1080) -> Page:
        context = browser.new_context(viewport={"width": width, "height": height},
                                      device_scale_factor=1)
        contexts.append(context)
        page = context.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.goto(f"{base_url}{path}")
        return page

    yield open_
    for context in contexts:
        context.close()
    outside = [u for u in requests if urlparse(u).scheme not in ("data", "blob", "about")
               and urlparse(u).hostname != "127.0.0.1"]
    assert not outside, f"the page fetched from outside this machine: {outside[:5]}"


def kept_pages(browser: Browser, base_url: str,
               fill: Callable[[Page, str], None]) -> Iterator[Callable[[str, int, int], Page]]:
    """Yield an opener of a path at a size that waits for ``fill`` and keeps the last page open
    for the next caller asking for the same path and size: for tests that only read a page,
    so one load serves several. One page stays open at a time (an open wall polls and
    redraws); afterwards, as ``local_pages``, assert every request stayed local."""
    pages = local_pages(browser, base_url)
    open_ = next(pages)
    kept: dict[tuple[str, int, int], Page] = {}

    def filled(path: str, width: int, height: int) -> Page:
        if (path, width, height) not in kept:
            for page in kept.values():
                page.context.close()
            kept.clear()
            page = open_(path, width, height)
            fill(page, path)
            kept[(path, width, height)] = page
        return kept[(path, width, height)]

    yield filled
    next(pages, None)


@pytest.fixture
def open_page(browser: Browser, live_app: LiveApp) -> Iterator[Callable[..., Page]]:
    """Open app paths at a viewport size; afterwards, assert every request stayed local."""
    yield from local_pages(browser, live_app.url)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """The folder for screenshots and other test artifacts (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def rankings_app(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """Serve the app on a copy of the demo city (publishing writes to it) for the rankings page.

    The small demo has about 20 problems per street and month, below the shipped rules'
    min_sample of 30, so these rules rank from 5 problems; no scheduler runs (one snapshot
    refresh lets the big screen show inside presentation mode).
    """
    folder = tmp_path_factory.mktemp("rankings")
    database = folder / "demo.sqlite3"
    shutil.copyfile(demo_db, database)
    rules, count = re.subn(r"(?m)^min_sample: \d+", "min_sample: 5",
                           DEFAULT_RULES_FILE.read_text(encoding="utf-8"))
    assert count == 1, "the shipped rules no longer set min_sample on a line of its own"
    (folder / "rules.yaml").write_text(rules, encoding="utf-8")
    settings = Settings(data_dir=folder, database_url=f"sqlite:///{database}",
                        refresh_seconds=REFRESH_SECONDS, rules_file=str(folder / "rules.yaml"),
                        open_wall=True)
    ctx = create_context(settings)
    server = make_server("127.0.0.1", 0, create_app(context=ctx).server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="gridwatch-rankings-server",
                              daemon=True)
    thread.start()
    ctx.store.refresh()
    yield LiveApp(url=f"http://127.0.0.1:{server.server_port}", ctx=ctx, database=database,
                  scheduler=BackgroundScheduler(), server=server)  # never started
    server.shutdown()
    thread.join(timeout=10)
    ctx.engine.dispose()
