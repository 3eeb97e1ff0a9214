"""Benchmark the wall's first paint with the page's own scripts (dashboard/bundles.py) against
the baseline of Dash's defaults (every component library on every page, full plotly.js).

    python bench/bench_first_paint.py [--cases 20000] [--runs 5]
                                      [--db /tmp/gridwatch-bench-paint.sqlite3]

Generates the demo city (reused while it holds that many cases) and serves it twice in this
process: once as the app is built, once with ``bundles.register`` left out — the same app as
before the bundles, which is the baseline. A fresh headless Chromium context (cold cache)
opens /screen, alternating the two servers, and the bench reads the milliseconds from
navigation start to the first KPI tile filled, the first map clusters drawn and the trend chart
drawn, and the JavaScript bytes on the wire, on loopback and on a throttled office link
(20 Mbit/s, 20 ms). Medians; quote ratio = bundles / baseline.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import threading
from collections.abc import Iterator
from contextlib import contextmanager
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
PAINTED = """() => {
  const tile = document.querySelector('.gw-tile-value');
  const marks = document.querySelector('.gw-cluster, path.gw-case');
  const trend = document.querySelector('#trend-graph .trace');
  return tile && tile.textContent !== '—' && marks && trend ? performance.now() : false;
}"""


@contextmanager
def serving(path: Path, *, baseline: bool) -> Iterator[str]:
    """Serve the city (the baseline: without dashboard.bundles) and yield its base URL."""
    settings = Settings(data_dir=path.parent, database_url=f"sqlite:///{path}", open_wall=True)
    ctx = create_context(settings)
    ctx.store.refresh()
    if baseline:
        with mock.patch.object(bundles, "register", lambda app: None):
            app = create_app(context=ctx)
    else:
        app = create_app(context=ctx)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        ctx.engine.dispose()


def one_load(browser: Browser, url: str, throttle: bool) -> tuple[float, int]:
    """Open /screen cold; return (ms to tiles, clusters and trend drawn, JS bytes on the wire)."""
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
    ms = float(page.wait_for_function(PAINTED, timeout=120_000, polling="raf").json_value())
    context.close()
    return ms, sum(scripts.values())


def main() -> None:
    """Parse the arguments, alternate the two servers, print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--db", type=Path, default=Path("/tmp/gridwatch-bench-paint.sqlite3"))
    args = parser.parse_args()
    prepare(args.db, args.cases, args.seed).dispose()
    with serving(args.db, baseline=False) as new, serving(args.db, baseline=True) as old, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_ARGS, headless=True)
        for throttle in (False, True):
            times: dict[str, list[float]] = {"bundles": [], "baseline": []}
            sizes: dict[str, int] = {}
            one_load(browser, new, throttle)  # warm the servers' caches, not the browser's
            one_load(browser, old, throttle)
            for _ in range(args.runs):
                for label, url in (("bundles", new), ("baseline", old)):
                    ms, size = one_load(browser, url, throttle)
                    times[label].append(ms)
                    sizes[label] = size
            link = "office link 20 Mbit/s, 20 ms" if throttle else "loopback"
            print(f"/screen first paint (tiles, clusters, trend), {link}, median of {args.runs}:")
            for label in ("bundles", "baseline"):
                print(f"  {label:9s} {statistics.median(times[label]):7.0f} ms, "
                      f"JS on the wire {sizes[label] / 1000:7.0f} kB")
            ratio = statistics.median(times["bundles"]) / statistics.median(times["baseline"])
            print(f"  ratio bundles / baseline: time {ratio:.2f}×, JS bytes "
                  f"{sizes['bundles'] / sizes['baseline']:.2f}×")
        browser.close()


if __name__ == "__main__":
    main()
