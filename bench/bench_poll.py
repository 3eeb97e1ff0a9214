"""Benchmark the wall's poll on the wire: bytes each way, as headless Chromium sends them.

Serves a small demo city with ``gridwatch serve``'s server (waitress) behind a kiosk token,
opens the wall in Debian's Chromium and records every request it makes for ``--seconds``:

- the unchanged poll (``/api/version`` answering empty): request line and headers (the
  browser's own, the kiosk cookie included) and body, response status line, headers and body;
- in the same run, the baseline: the Dash refresh (``/_dash-update-component``) the wall runs
  on a new stamp, which is what every poll cost before (the version map, the tile ids and the
  update time both ways). No scheduler runs, so nothing changed; the bench sets a new stamp
  ``--refreshes`` times, as a changed ``/api/version`` would (the refresh at page load, which
  also draws for the screen's scale, is not counted).

Sizes are Chromium's own (Playwright's ``Request.sizes()``). Run from the repo root:
``PYTHONPATH=. python bench/bench_poll.py``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import Request, sync_playwright

from app import create_app, create_context
from cli import production_server
from ingest.democity import generate
from queries import accounts
from queries.engine import init_db, make_engine
from security.sessions import KIOSK_COOKIE
from settings import Settings

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
POLL_SECONDS = 1
SECRET_KEY = "bench-poll-" + "x" * 32


def sizes(request: Request) -> dict[str, int]:
    """Chromium's byte counts of one finished request (headers include the first line)."""
    got: dict[str, Any] = request.sizes()
    return {
        "up_headers": got["requestHeadersSize"],
        "up_body": got["requestBodySize"],
        "down_headers": got["responseHeadersSize"],
        "down_body": got["responseBodySize"],
    }


def record(
    port: int, secret: str, seconds: int, refreshes_wanted: int
) -> tuple[list[dict[str, int]], list[dict[str, int]]]:
    """Open the wall for ``seconds``; return the unchanged polls' and the Dash refreshes' sizes."""
    polls: list[dict[str, int]] = []
    refreshes: list[dict[str, int]] = []

    def finished(request: Request) -> None:
        response = request.response()
        if response is None:
            return
        if "/api/version" in request.url and response.headers.get("content-length") == "0":
            polls.append(sizes(request))
        elif "/_dash-update-component" in request.url and b"screen-version" in (
            request.post_data_buffer or b""
        ):
            refreshes.append(sizes(request))

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(viewport={"width": 1920, "height": 1080})
        context.add_cookies(
            [{"name": KIOSK_COOKIE, "value": secret, "url": f"http://127.0.0.1:{port}"}]
        )
        page = context.new_page()
        page.on("requestfinished", finished)
        page.goto(f"http://127.0.0.1:{port}/screen?refresh={POLL_SECONDS}")
        page.wait_for_selector("#screen-updated")
        page.wait_for_timeout(seconds * 1000)
        refreshes.clear()
        for n in range(refreshes_wanted):
            with page.expect_request_finished(lambda r: "/_dash-update-component" in r.url):
                page.evaluate(
                    "n => window.dash_clientside.set_props('screen-poll', {data: 'bench-' + n})", n
                )
        browser.close()
    return polls, refreshes


def report(label: str, rows: list[dict[str, int]]) -> dict[str, float]:
    median = {key: statistics.median(row[key] for row in rows) for key in rows[0]}
    print(
        f"{label} ({len(rows)} seen): up {median['up_headers']:.0f} B headers + "
        f"{median['up_body']:.0f} B body, down {median['down_headers']:.0f} B headers + "
        f"{median['down_body']:.0f} B body"
    )
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3_000)
    parser.add_argument("--seconds", type=int, default=12)
    parser.add_argument("--refreshes", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "poll.sqlite3"
        settings = Settings(
            data_dir=Path(folder), database_url=f"sqlite:///{path}", port=0, secret_key=SECRET_KEY
        )
        engine = make_engine(settings.database_url)
        init_db(engine)
        generate(engine, cases=args.cases, seed=7, now=settings.now())
        engine.dispose()
        ctx = create_context(settings)
        with ctx.sessions() as session:
            secret = accounts.add_token(session, "bench", now=datetime.now())
            session.commit()
        ctx.store.refresh()
        server = production_server(create_app(context=ctx).server, settings)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            polls, refreshes = record(server.effective_port, secret, args.seconds, args.refreshes)
        finally:
            server.close()
            server.task_dispatcher.shutdown()
            thread.join(timeout=10)
            ctx.engine.dispose()
    if not polls or not refreshes:
        raise SystemExit(f"saw {len(polls)} unchanged polls and {len(refreshes)} refreshes")
    new = report("unchanged poll, /api/version empty", polls)
    old = report("baseline, the Dash refresh it replaces", refreshes)
    up = (new["up_headers"] + new["up_body"]) / (old["up_headers"] + old["up_body"])
    down = (new["down_headers"] + new["down_body"]) / (old["down_headers"] + old["down_body"])
    print(f"new / baseline, headers and body: up {up:.2f}×, down {down:.2f}×")


if __name__ == "__main__":
    main()
