"""Benchmark the big screen: snapshot time against a hand-written floor, map bytes, first render.

Prints, for the demo city and for a large one (``--cases``, default 1,000,000, generated into
``--workdir`` once and reused):

- the snapshot's build time (median of ``--repeat`` builds of the district snapshot), both
  every tick (the month's ranking and the comparison days remembered) and cold (everything
  computed, as happens once a minute);
- its floor: the same data (today's counts, the volunteers, the open cases, the ticker; cold
  also the two comparison days, the 30-day trend, the month so far and last month's same span,
  the assessment's cases and the outlines) fetched by SQL written by hand (bench/floors.py),
  checked to give the same figures as the snapshot, and timed in the same run; the ratio
  snapshot / floor is the figure to quote;
- for reference, the snapshot's own statements replayed on a bare DB-API cursor: not a floor
  (a slow statement is as slow there), it isolates the Python around the SQL;
- the map payload in bytes per open case (plain and gzip);
- the page's time to first render in headless Chromium with ``--open`` open cases (tiles
  filled and the map's markers drawn), measured from navigation start.

Run: ``python bench/bench_screen.py`` (the 1M city takes minutes to generate the first time),
or smaller: ``python bench/bench_screen.py --cases 200000 --demo-cases 20000``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import time as dtime
from functools import partial
from pathlib import Path
from typing import Any

import floors
import orjson
from playwright.sync_api import sync_playwright
from sqlalchemy import Engine, event, func, select, update
from werkzeug.serving import make_server

from app import create_app, create_context
from ingest.democity import generate
from queries.engine import init_db, make_engine, make_session_factory
from queries.models import OPEN_STATUSES, STATUS_HANDLING, Case
from queries.rules import load_rules
from settings import Settings
from snapshot.build import SPAN_MINUTES, TICKER_SIZE, TREND_DAYS, make_builder
from snapshot.store import DISTRICT, Snapshot

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


def city(workdir: Path, cases: int, seed: int) -> Path:
    """Return a SQLite file holding a demo city of ``cases`` cases, generating it if missing."""
    path = workdir / f"city-{cases}.sqlite3"
    if path.exists():
        return path
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    started = time.perf_counter()
    generate(engine, cases=cases, seed=seed, progress=True)
    engine.dispose()
    print(f"  generated {cases:,} cases in {time.perf_counter() - started:.0f} s → {path}")
    return path


def median_seconds(fn: Callable[[], Any], repeat: int) -> float:
    """Return the median wall time of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def recorded_statements(engine: Engine, build: Callable[[], Snapshot]) -> list[tuple[str, Any]]:
    """Run one build and return every SQL statement it sent, with its parameters."""
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any,
               _many: bool) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        build()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return statements


def replay(engine: Engine, statements: list[tuple[str, Any]]) -> None:
    """Execute the statements on a raw DB-API cursor and fetch every row."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
            cursor.fetchall()
        cursor.close()
    finally:
        raw.close()


def _day_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = datetime.combine(now.date(), dtime.min)
    return start, start + timedelta(days=1)


def steady_floor(engine: Engine, now: datetime) -> dict[str, Any]:
    """Fetch by hand what every tick of the district's wall reads; return it for checking."""
    start, end = _day_bounds(now)
    month_start = start.replace(day=1)
    with engine.connect() as conn:
        today = floors.counts(conn, start, end, now).get(0, {})
        return {
            "counts": today,
            "repeats": floors.repeats(conn, start, end),
            "volunteers": floors.volunteers(conn, start, end, month_start, now),
            "open": floors.open_case_rows(conn),
            "newest": floors.newest_rows(conn, TICKER_SIZE),
        }


def cold_floor(engine: Engine, now: datetime) -> dict[str, Any]:
    """Fetch by hand what a cold build reads: a tick, the past days, the 30-day trend (whole
    days ending yesterday: kept five minutes like the past days), the month so far and last
    month's same span (the rate tiles; a tick re-reads the month once a minute), the
    assessment, outlines.

    The assessment's cases are those of this month and the last (for its change); when the
    bottom-of-group streak walks further back, those reads count as the layer's cost.
    """
    out = steady_floor(engine, now)
    start, _ = _day_bounds(now)
    span = (now - start) // timedelta(minutes=SPAN_MINUTES) * timedelta(minutes=SPAN_MINUTES)
    rules = load_rules()
    month_start = start.replace(day=1)
    before = (month_start - timedelta(days=1)).replace(day=1)  # last month, for its change
    month_end = (month_start + timedelta(days=32)).replace(day=1)
    step = timedelta(minutes=SPAN_MINUTES)
    month_span = (now - month_start) // step * step
    with engine.connect() as conn:
        out["trend"] = floors.trend(conn, start.date() - timedelta(days=1), TREND_DAYS)
        for day in (start - timedelta(days=1), start - timedelta(days=7)):
            floors.counts(conn, day, day + span, now)
            floors.repeats(conn, day, day + span)
        out["month"] = floors.counts(conn, month_start, month_end, now).get(0, {})
        floors.counts(conn, before, before + month_span, now)
        floors.repeats(conn, month_start, month_end)
        floors.repeats(conn, before, before + month_span)
        out["assessment"] = floors.assessment_rows(
            conn, before - timedelta(days=rules.repeat.history_days), month_end)
        out["areas"] = floors.outlines(conn)
    return out


def check_floor(snapshot: Snapshot, floor: dict[str, Any]) -> None:
    """Fail unless the hand-written SQL gave the figures the snapshot shows."""
    tiles = {t["key"]: t for t in snapshot.payload["tiles"]}
    n = floor["counts"]
    for key in ("reported", "registered", "dispatched", "closed", "open_overdue",
                "rework_times"):
        assert tiles[key]["value"] == n.get(key, 0), f"{key}: {tiles[key]['value']} vs floor"
    month = floor["month"]  # rates read the month so far
    rate = tiles["ontime_close_rate"]
    assert (rate["num"], rate["den"]) == (month.get("due_closed_ontime", 0), month.get("due", 0))
    assert tiles["repeats"]["value"] == floor["repeats"]
    trend = snapshot.payload["trend"]
    assert (trend["reported"], trend["closed"]) == tuple(floor["trend"])
    teams, on_duty, hours, types = floor["volunteers"]
    v = snapshot.payload["volunteers"]
    assert (v["teams"], v["on_duty"], v["hours"], dict(v["types"])) == (
        teams, on_duty, round(hours), types)
    ids = {f["properties"]["id"] for f in orjson.loads(snapshot.map_geojson)["features"]}
    assert ids == {row[0] for row in floor["open"]}, "open cases differ from the floor"
    assert [t["id"] for t in snapshot.payload["ticker"]] == [row[0] for row in floor["newest"]]


def measure_snapshot(path: Path, repeat: int) -> dict[str, float]:
    """Return cold and steady snapshot times, their raw SQL times and the map bytes."""
    settings = Settings(data_dir=path.parent, database_url=f"sqlite:///{path}")
    engine = make_engine(settings.database_url)
    now = datetime.now().replace(microsecond=0)
    figures: dict[str, float] = {}
    # Cold: a new builder computes everything, outlines and the cached ranking and past days.
    cold_builds, cold_statements = [], []
    for _ in range(repeat):
        builder = make_builder(make_session_factory(engine), settings)
        started = time.perf_counter()
        cold_statements = recorded_statements(engine, partial(builder, DISTRICT, now))
        cold_builds.append(time.perf_counter() - started)
    figures["cold_s"] = statistics.median(cold_builds)
    figures["cold_floor_s"] = median_seconds(lambda: cold_floor(engine, now), repeat)
    figures["cold_sql_s"] = median_seconds(lambda: replay(engine, cold_statements), repeat)
    figures["cold_statements"] = len(cold_statements)

    # Steady: what every tick costs while the ranking and the past days are remembered.
    def build() -> Snapshot:
        return builder(DISTRICT, now)

    snapshot = build()
    check_floor(snapshot, cold_floor(engine, now))
    statements = recorded_statements(engine, build)
    figures["snapshot_s"] = median_seconds(build, repeat)
    figures["floor_s"] = median_seconds(lambda: steady_floor(engine, now), repeat)
    figures["sql_s"] = median_seconds(lambda: replay(engine, statements), repeat)
    figures["statements"] = len(statements)
    figures["open"] = snapshot.map_geojson.count(b'"Feature"')
    figures["map_bytes"] = len(snapshot.map_geojson)
    figures["map_gzip_bytes"] = len(snapshot.map_gzip)
    engine.dispose()
    return figures


def with_open_cases(source: Path, target: Path, wanted: int) -> int:
    """Copy a city and reopen its newest closed cases until ``wanted`` cases are open."""
    shutil.copy(source, target)
    engine = make_engine(f"sqlite:///{target}")
    with make_session_factory(engine)() as session:
        is_open = Case.status.in_(OPEN_STATUSES)
        missing = wanted - (session.scalar(select(func.count()).where(is_open)) or 0)
        if missing > 0:
            newest = (select(Case.id).where(~is_open, Case.cancelled_at.is_(None))
                      .order_by(Case.id.desc()).limit(missing).scalar_subquery())
            session.execute(update(Case).where(Case.id.in_(newest)).values(
                status=STATUS_HANDLING, handled_at=None, closed_at=None))
            session.commit()
        total = session.scalar(select(func.count()).where(is_open)) or 0
    engine.dispose()
    return total


def first_render_ms(path: Path, viewport: tuple[int, int]) -> float:
    """Serve the city and return ms from navigation start to tiles and markers drawn."""
    # The wall opens to an anonymous browser, as under `gridwatch demo` (no login page first).
    settings = Settings(data_dir=path.parent, database_url=f"sqlite:///{path}", open_wall=True)
    ctx = create_context(settings)
    ctx.store.refresh()
    server = make_server("127.0.0.1", 0, create_app(context=ctx).server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                 args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
            page.goto(f"http://127.0.0.1:{server.server_port}/screen")
            handle = page.wait_for_function(
                """() => {
                  const tile = document.querySelector('.gw-tile-value');
                  const marks = document.querySelector('.gw-cluster, path.gw-case');
                  return tile && tile.textContent !== '—' && marks ? performance.now() : false;
                }""", timeout=120_000, polling="raf")
            elapsed = float(handle.json_value())
            browser.close()
    finally:
        server.shutdown()
        thread.join(timeout=10)
        ctx.engine.dispose()
    return elapsed


def report(label: str, figures: dict[str, float]) -> None:
    """Print one city's figures."""
    per_case = figures["map_bytes"] / max(1, figures["open"])
    per_case_gz = figures["map_gzip_bytes"] / max(1, figures["open"])
    print(label)
    for name, build, floor, sql, count in (
        ("every tick", figures["snapshot_s"], figures["floor_s"], figures["sql_s"],
         figures["statements"]),
        ("cold (once a minute)", figures["cold_s"], figures["cold_floor_s"],
         figures["cold_sql_s"], figures["cold_statements"]),
    ):
        print(f"  snapshot, {name:22s} {build * 1000:9.1f} ms;  hand-written SQL floor "
              f"{floor * 1000:9.1f} ms;  ratio {build / floor:5.2f} ×")
        print(f"    (not a floor: its own {int(count)} statements replayed "
              f"{sql * 1000:.1f} ms, ratio {build / sql:.2f})")
    print(f"  open cases on the map    {int(figures['open']):9,d}")
    print(f"  map payload per case     {per_case:9.1f} B  ({per_case_gz:.1f} B gzip)")


def main() -> None:
    """Parse the arguments and print every figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="the large city")
    parser.add_argument("--demo-cases", type=int, default=150_000, help="the demo city")
    parser.add_argument("--open", type=int, default=20_000, help="open cases for first render")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gridwatch-bench"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)

    for label, cases in (("demo city", args.demo_cases), ("large city", args.cases)):
        path = city(args.workdir, cases, args.seed)
        report(f"{label}: {cases:,} cases", measure_snapshot(path, args.repeat))

    render_db = args.workdir / f"render-{args.open}.sqlite3"
    opened = with_open_cases(city(args.workdir, args.demo_cases, args.seed), render_db, args.open)
    ms = first_render_ms(render_db, (1920, 1080))
    print(f"first render in headless Chromium, {opened:,} open cases, 1920×1080: {ms:.0f} ms")


if __name__ == "__main__":
    main()
