"""Benchmark the wall's first paint with the page's own scripts (dashboard/bundles.py) against
the baseline of Dash's defaults (every component library on every page, full plotly.js).

    python bench/bench_first_paint.py [--cases 20000] [--runs 5]
                                      [--db /tmp/gridwatch-bench-paint.sqlite3]

Generates the demo city (reused while it holds that many cases) and serves it three times in
this process: as the app is built; the same with the index's GeoJSON preloads taken out
("no data preload": the app before them); and with ``bundles.register`` left out — the app
before the bundles, which is the baseline. A fresh headless Chromium context (cold cache)
opens /screen, alternating the servers, and the bench reads the milliseconds from navigation
start to the first map clusters drawn (the issue's "first clusters"), and to the first KPI
tile filled, the clusters and the trend chart all drawn, and the JavaScript bytes on the wire,
on loopback and on a throttled office link (20 Mbit/s, 20 ms). Medians; quote each ratio to
the baseline.
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from unittest import mock

from bench_grids import prepare
from bench_screen import CHROMIUM_ARGS
from playwright.sync_api import Browser, Request, sync_playwright
from werkzeug.serving import make_server

from app import create_app, create_context
from dashboard import bundles
from settings import Settings

logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise

OFFICE = {"offline": False, "latency": 20, "downloadThroughput": 20e6 / 8,
          "uploadThroughput": 5e6 / 8}
CLUSTERS = """() => document.querySelector('.gw-cluster, path.gw-case') ? performance.now()
                                                                  : false"""
PAINTED = """() => {
  const tile = document.querySelector('.gw-tile-value');
  const marks = document.querySelector('.gw-cluster, path.gw-case');
  const trend = document.querySelector('#trend-graph .trace');
  return tile && tile.textContent !== '—' && marks && trend ? performance.now() : false;
}"""


DATA_PRELOAD = re.compile(r'<link rel="preload" as="fetch"[^>]*>')
VARIANTS = ("bundles", "no data preload", "baseline")


@contextmanager
def serving(path: Path, variant: str) -> Iterator[str]:
    """Serve the city as ``variant`` (one of VARIANTS) and yield its base URL."""
    settings = Settings(data_dir=path.parent, database_url=f"sqlite:///{path}", open_wall=True)
    ctx = create_context(settings)
    ctx.store.refresh()
    if variant == "baseline":
        with mock.patch.object(bundles, "register", lambda *args: None):
            app = create_app(context=ctx)
    else:
        app = create_app(context=ctx)
    if variant == "no data preload":
        interpolate = app.interpolate_index
        app.interpolate_index = (
            lambda **kwargs: DATA_PRELOAD.sub("", interpolate(**kwargs)))
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        ctx.engine.dispose()


def one_load(browser: Browser, url: str, throttle: bool) -> tuple[float, float, int]:
    """Open /screen cold; return (ms to the first clusters, ms to tiles, clusters and trend
    drawn, JS bytes on the wire)."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    if throttle:
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", OFFICE)
    scripts: dict[str, int] = {}

    def count(request: Request) -> None:
        if request.url.split("?")[0].endswith(".js"):
            scripts[request.url] = request.sizes()["responseBodySize"]

    page.on("requestfinished", count)
    page.goto(f"{url}/screen")
    clusters = float(page.wait_for_function(CLUSTERS, timeout=120_000, polling="raf")
                     .json_value())
    ms = float(page.wait_for_function(PAINTED, timeout=120_000, polling="raf").json_value())
    context.close()
    return clusters, ms, sum(scripts.values())


def main() -> None:
    """Parse the arguments, alternate the two servers, print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--db", type=Path, default=Path("/tmp/gridwatch-bench-paint.sqlite3"))
    args = parser.parse_args()
    prepare(args.db, args.cases, args.seed).dispose()
    with ExitStack() as stack:
        urls = {variant: stack.enter_context(serving(args.db, variant)) for variant in VARIANTS}
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_ARGS, headless=True)
        for throttle in (False, True):
            clusters: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
            painted: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
            sizes: dict[str, int] = {}
            for url in urls.values():  # warm the servers' caches, not the browser's
                one_load(browser, url, throttle)
            for _ in range(args.runs):
                for variant, url in urls.items():
                    first, ms, size = one_load(browser, url, throttle)
                    clusters[variant].append(first)
                    painted[variant].append(ms)
                    sizes[variant] = size
            link = "office link 20 Mbit/s, 20 ms" if throttle else "loopback"
            print(f"/screen, {link}, median of {args.runs} (ratio to the baseline):")
            base_first = statistics.median(clusters["baseline"])
            base_all = statistics.median(painted["baseline"])
            for variant in VARIANTS:
                first = statistics.median(clusters[variant])
                ms = statistics.median(painted[variant])
                print(f"  {variant:16s} first clusters {first:6.0f} ms ({first / base_first:.2f}×)"
                      f", tiles+clusters+trend {ms:6.0f} ms ({ms / base_all:.2f}×), "
                      f"JS {sizes[variant] / 1000:5.0f} kB")
        browser.close()


if __name__ == "__main__":
    main()
