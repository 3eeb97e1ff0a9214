"""Soak the shared snapshot: thousands of refresh cycles under polling walls, memory before/after.

Issue 13's proof that nothing grows: a demo city (``--cases``, a SQLite file generated into
``--workdir`` once, or the database at ``--database-url``) is served by gunicorn workers
(``app:wsgi()``, GRIDWATCH_RUN_SCHEDULER=false, the wall open to anonymous browsers) that run no
jobs; this process is their one scheduler. It runs ``--cycles`` refresh cycles as fast as they
go, each one simulator tick (ingest/simulator.py) and one ``SnapshotPublisher.refresh()``, on a
simulated clock moved ``--tick-seconds`` per cycle, so cases keep moving, the builder's minute
caches expire as in service and the city's day rolls over on a long run.

Meanwhile, in a separate process (so its memory is not counted as the scheduler's), walls poll:
``--pollers`` threads ask /api/version like assets/screen.js (one keep-alive connection each,
the last stamp sent) and fetch the map's GeoJSON when the stamp changes, and one headless
Chromium keeps the wall (/screen, polling every second) open for the whole run.

After ``--warmup`` cycles and at the end it reads the RSS (/proc/<pid>/status VmRSS) of every
gunicorn worker, the master and the scheduler, and the browser's JS heap after a forced GC
(CDP ``HeapProfiler.collectGarbage``, ``Runtime.getHeapUsage``, the least of five readings),
and prints each with its growth; the goal is < 10% for every line. The baseline of each line
is its own value after the warm-up, in the same run; every ``--progress`` cycles the RSS
and the heap are printed too, to tell a plateau from a steady climb.

Run: ``PYTHONPATH=. python bench/soak.py`` (10,000 cycles), or shorter: ``--cycles 2000``.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
GOAL = 0.10  # growth allowed between the warm-up and the end
WALL_POLL_SECONDS = 1  # the browser's wall polls /api/version this often (?refresh=1)
# The JS heap is read this many times half a second apart, each after a forced GC, and the
# least kept: one reading varies by ~1 MiB of 14 with what a Dash refresh holds in flight.
HEAP_READINGS = 5


# --- the walls (a child process) -------------------------------------------------------------

@dataclass
class PollCounts:
    """What one polling thread did: polls, new stamps seen, map fetches, failed requests."""

    polls: int = 0
    changes: int = 0
    maps: int = 0
    map_bytes: int = 0
    errors: int = 0


def poll_wall(port: int, seconds: float, stop: threading.Event, counts: PollCounts) -> None:
    """Poll like assets/screen.js on one kept-alive connection until ``stop``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    stamp = ""
    while not stop.is_set():
        try:
            conn.request("GET", f"/api/version?area=&v={quote(stamp)}")  # "": the district
            resp = conn.getresponse()
            body = resp.read().decode()
            counts.polls += 1
            if resp.status == 200 and body and body != stamp:
                stamp = body
                counts.changes += 1
                conn.request("GET", "/api/open-cases.geojson",
                             headers={"Accept-Encoding": "gzip"})
                geo = conn.getresponse()
                counts.map_bytes += len(geo.read())
                counts.maps += 1
        except (OSError, http.client.HTTPException):
            counts.errors += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        stop.wait(seconds)
    conn.close()


def run_walls(port: int, pollers: int, seconds: float, commands: Any, answers: Any,
              ready: Event) -> None:
    """The walls' process: pollers in threads, the browser's wall in this thread.

    Answers ``heap`` with the least of ``HEAP_READINGS`` used sizes of the JS heap, each after a
    forced GC, and ``stop`` with the counts.
    Between commands it talks to the browser once a second so Playwright's events are read.
    """
    from bench_screen import CHROMIUM_ARGS
    from playwright.sync_api import Request, sync_playwright

    stop = threading.Event()
    counts = [PollCounts() for _ in range(pollers)]
    threads = [threading.Thread(target=poll_wall, args=(port, seconds, stop, c), daemon=True)
               for c in counts]
    for thread in threads:
        thread.start()
    browser_requests: dict[str, int] = {"version": 0, "dash": 0, "geojson": 0, "failed": 0}

    def seen(request: Request) -> None:
        url = request.url
        key = ("version" if "/api/version" in url else "dash" if "/_dash-update" in url
               else "geojson" if ".geojson" in url else "")
        if key:
            browser_requests[key] += 1

    def failed(_request: Request) -> None:
        browser_requests["failed"] += 1

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.on("requestfinished", seen)
        page.on("requestfailed", failed)
        page.goto(f"http://127.0.0.1:{port}/screen?refresh={WALL_POLL_SECONDS}")
        page.wait_for_function(
            """() => {
              const tile = document.querySelector('.gw-tile-value');
              return tile && tile.textContent !== '—'
                && document.querySelector('.gw-cluster, path.gw-case');
            }""", timeout=120_000)
        cdp = page.context.new_cdp_session(page)
        ready.set()
        while True:
            try:
                command = commands.get(timeout=1)
            except queue.Empty:
                page.evaluate("1")  # read the browser's pending events
                continue
            if command == "heap":
                used = []
                for _ in range(HEAP_READINGS):
                    cdp.send("HeapProfiler.collectGarbage")
                    used.append(int(cdp.send("Runtime.getHeapUsage")["usedSize"]))
                    page.wait_for_timeout(500)
                updated = page.evaluate(
                    "(document.getElementById('screen-updated') || {}).textContent || ''")
                answers.put({"heap": min(used), "updated": updated})
            elif command == "stop":
                stop.set()
                for thread in threads:
                    thread.join(timeout=35)
                total = PollCounts()
                for c in counts:
                    for name in vars(total):
                        setattr(total, name, getattr(total, name) + getattr(c, name))
                answers.put({"polls": vars(total), "browser": dict(browser_requests)})
                browser.close()
                return


# --- the city, the workers, the scheduler ------------------------------------------------------

@dataclass
class SimClock:
    """The city clock of the run: moved by hand, one simulator tick per cycle."""

    now: datetime
    seconds: float = 0.0  # the builder caches' timer (they expire on the city's time)

    def advance(self, by: float) -> None:
        self.now += timedelta(seconds=by)
        self.seconds += by

    def __call__(self) -> datetime:
        return self.now

    def timer(self) -> float:
        return self.seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kib(pid: int) -> int | None:
    """A process's resident set (VmRSS, KiB), None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


def children(pid: int) -> list[int]:
    """The direct children of a process (gunicorn's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


@dataclass
class Sample:
    """Memory at one moment: RSS by process label, and the browser's JS heap."""

    rss: dict[str, int] = field(default_factory=dict)  # KiB
    heap: int | None = None  # bytes
    updated: str = ""
    open_cases: int = 0  # the data the processes hold grows with these, not with the cycles
    body_bytes: int = 0  # the district's snapshot in the table (gzip)


def sample(master: int, workers: list[int], commands: Any, answers: Any,
           data: Callable[[], tuple[int, int]]) -> Sample:
    out = Sample()
    out.open_cases, out.body_bytes = data()
    out.rss["scheduler (this process)"] = rss_kib(os.getpid()) or 0
    out.rss[f"gunicorn master {master}"] = rss_kib(master) or 0
    for i, pid in enumerate(workers, 1):
        out.rss[f"worker {i} ({pid})"] = rss_kib(pid) or 0
    commands.put("heap")
    got = answers.get(timeout=120)
    out.heap, out.updated = got["heap"], got["updated"]
    return out


def wait_healthy(port: int, server: subprocess.Popen[bytes], publish: Callable[[], object],
                 seconds: float = 300) -> None:
    """Wait until the workers answer /healthz 200 (they read the published snapshot).

    ``publish`` runs every wait, as the scheduler's job would: workers slow to start on a
    loaded machine would otherwise find the first snapshot stale and answer 503 for ever.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        publish()
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(2)
    raise SystemExit(f"the workers did not become healthy within {seconds:g} s")


def growth(start: float, end: float) -> str:
    return f"{(end - start) / start * 100:+.1f}%" if start else "—"


def verdict(start: float, end: float) -> str:
    if not start:
        return "—"
    return "met" if (end - start) / start < GOAL else "not met"


def report(first: Sample, last: Sample, workers_after: list[int], workers: list[int]) -> None:
    """Print one line per process and one for the browser's heap."""
    print(f"\n  {'process':<28} {'RSS start':>11} {'RSS end':>11} {'growth':>8}  goal < 10%")
    for label, start in first.rss.items():
        end = last.rss.get(label, 0)
        if not end:
            print(f"  {label:<28} {start / 1024:>8.1f} MiB {'gone':>11}")
            continue
        print(f"  {label:<28} {start / 1024:>8.1f} MiB {end / 1024:>7.1f} MiB "
              f"{growth(start, end):>8}  {verdict(start, end)}")
    if first.heap is not None and last.heap is not None:
        print(f"  {'browser JS heap (after GC)':<28} {first.heap / 2**20:>8.1f} MiB "
              f"{last.heap / 2**20:>7.1f} MiB {growth(first.heap, last.heap):>8}  "
              f"{verdict(first.heap, last.heap)}")
    print(f"  the data meanwhile: {first.open_cases:,} → {last.open_cases:,} open cases, the "
          f"district's snapshot {first.body_bytes / 2**10:,.0f} → {last.body_bytes / 2**10:,.0f} "
          f"KiB gzip")
    if workers_after != workers:
        print(f"  workers changed during the run: {workers} → {workers_after} (a restart)")


def main() -> None:
    """Parse the arguments, soak, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=200, help="cycles before the first sample")
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--database-url", default="", help="default: a SQLite file in workdir")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pollers", type=int, default=3, help="polling threads besides the "
                        "browser")
    parser.add_argument("--poll-seconds", type=float, default=0.5)
    parser.add_argument("--tick-seconds", type=float, default=30.0,
                        help="simulated seconds per cycle: 10,000 cycles are ~3.5 city days")
    parser.add_argument("--speedup", type=float, default=5.0,
                        help="the simulator's arrivals × this (a small city has few a day)")
    parser.add_argument("--progress", type=int, default=1000,
                        help="print the memory every this many cycles")
    parser.add_argument("--max-seconds", type=float, default=0,
                        help="stop the cycles after this long (0: run them all); the table "
                        "says how many ran")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gridwatch-bench"))
    args = parser.parse_args()
    if not 0 < args.warmup < args.cycles:
        parser.error("--warmup must be between 0 and --cycles")
    args.workdir.mkdir(parents=True, exist_ok=True)
    soak(args)


def soak(args: argparse.Namespace) -> None:
    """Run the city, the workers, the walls and the cycles; print the figures.

    The app's modules are imported here, not at the top: the walls' process (spawned, so it
    re-imports this file) needs none of them.
    """
    from refresh import database
    from sqlalchemy import func, select

    from cli import gunicorn_command
    from ingest.simulator import Simulator
    from queries.engine import make_session_factory
    from queries.models import OPEN_STATUSES, Case, SharedSnapshot
    from queries.rules import load_rules
    from queries.workcalendar import default_calendar
    from settings import Settings
    from snapshot.build import make_builder
    from snapshot.cache import SharedCache
    from snapshot.shared import SnapshotPublisher, SnapshotTable
    from snapshot.store import DISTRICT

    engine, settings = database(args)
    clock = SimClock(settings.now())
    defaults = SharedCache.__init__.__kwdefaults__
    assert defaults is not None
    defaults["timer"] = clock.timer  # every cache made from here on runs on the city's clock
    sessions = make_session_factory(engine)
    publisher = SnapshotPublisher(make_builder(sessions, settings),
                                  SnapshotTable(sessions, sessions), settings.refresh_seconds,
                                  clock=clock)
    simulator = Simulator(sessions, seed=args.seed, repeat=load_rules().repeat,
                          calendar=default_calendar(), clock=clock, tick_seconds=args.tick_seconds,
                          speedup=args.speedup)

    def city_size() -> tuple[int, int]:
        with engine.connect() as conn:
            open_cases = conn.scalar(select(func.count()).select_from(Case).where(
                Case.status.in_(OPEN_STATUSES)))
            body = conn.scalar(select(func.length(SharedSnapshot.body)).where(
                SharedSnapshot.area_code == DISTRICT))
        return int(open_cases or 0), int(body or 0)

    port = free_port()
    env = {**os.environ, "GRIDWATCH_DATABASE_URL": settings.database_url,
           "GRIDWATCH_DATA_DIR": str(args.workdir), "GRIDWATCH_RUN_SCHEDULER": "false",
           "GRIDWATCH_OPEN_WALL": "true", "GRIDWATCH_PORT": str(port),
           "GRIDWATCH_REFRESH_SECONDS": str(settings.refresh_seconds),
           "PYTHONPATH": str(ROOT)}
    command = gunicorn_command(Settings(data_dir=args.workdir, port=port), args.workers)
    server = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
    spawn = multiprocessing.get_context("spawn")
    commands, answers, ready = spawn.Queue(), spawn.Queue(), spawn.Event()
    walls = spawn.Process(target=run_walls, args=(port, args.pollers, args.poll_seconds,
                                                  commands, answers, ready))
    try:
        wait_healthy(port, server, partial(publisher.publish, DISTRICT))
        workers = children(server.pid)
        walls.start()
        if not ready.wait(180):
            raise SystemExit("the browser's wall did not draw within 180 s")
        print(f"{engine.dialect.name}, {args.cases:,} cases; {len(workers)} gunicorn workers, "
              f"{args.pollers} polling threads every {args.poll_seconds:g} s and one Chromium "
              f"wall (polling every {WALL_POLL_SECONDS} s); {args.cycles:,} cycles of "
              f"{args.tick_seconds:g} simulated seconds, arrivals × {args.speedup:g}")
        versions, version = 0, None
        touched = 0
        first: Sample | None = None
        started = time.perf_counter()
        measured_from = started
        done = 0
        for cycle in range(1, args.cycles + 1):
            clock.advance(args.tick_seconds)
            touched += simulator.tick()
            publisher.refresh()
            published = publisher.table.states()[DISTRICT].version
            if published != version:  # counted, not kept: a set would grow this process
                versions, version = versions + 1, published
            if cycle == args.warmup:
                first = sample(server.pid, workers, commands, answers, city_size)
                measured_from = time.perf_counter()
            if cycle % args.progress == 0:
                commands.put("heap")
                heap = answers.get(timeout=120)["heap"]
                elapsed = time.perf_counter() - started
                print(f"  {cycle:>6,} cycles, {elapsed:,.0f} s, {cycle / elapsed:.1f}/s, "
                      f"city clock {clock.now:%m-%d %H:%M}; RSS MiB: scheduler "
                      f"{(rss_kib(os.getpid()) or 0) / 1024:.1f}, workers "
                      f"{', '.join(f'{(rss_kib(p) or 0) / 1024:.1f}' for p in workers)}; "
                      f"JS heap {heap / 2**20:.1f} MiB", flush=True)
            done = cycle
            if args.max_seconds and cycle > args.warmup and (
                    time.perf_counter() - started > args.max_seconds):
                print(f"  stopped at {cycle:,} of {args.cycles:,} cycles: --max-seconds "
                      f"{args.max_seconds:g} reached")
                break
        ended = time.perf_counter()
        last = sample(server.pid, workers, commands, answers, city_size)
        commands.put("stop")
        counts = answers.get(timeout=120)
        walls.join(timeout=60)
        assert first is not None
        elapsed = ended - started
        rate = done / elapsed
        measured = (done - args.warmup) / (ended - measured_from)
        print(f"\n  {done:,} cycles in {elapsed:,.0f} s: {rate:.1f} cycles/s "
              f"({measured:.1f}/s after the warm-up); {touched:,} cases touched by the "
              f"simulator; city clock moved {clock.seconds / 3600:.1f} h to "
              f"{clock.now:%m-%d %H:%M}")
        print(f"  snapshot versions published: {versions:,} in {done:,} cycles; the walls' "
              f"pollers saw {counts['polls']['changes']:,} new "
              f"stamps in {counts['polls']['polls']:,} polls, fetched the map "
              f"{counts['polls']['maps']:,} times ({counts['polls']['map_bytes'] / 2**10:,.1f} "
              f"KiB gzip), {counts['polls']['errors']} failed requests")
        browser = counts["browser"]
        print(f"  browser wall: {browser['version']:,} polls, {browser['dash']:,} Dash refreshes, "
              f"{browser['geojson']:,} GeoJSON fetches, {browser['failed']} failed; its 更新于 "
              f"label {first.updated!r} at the start, {last.updated!r} at the end")
        report(first, last, children(server.pid), workers)
    finally:
        if walls.is_alive():
            walls.terminate()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        engine.dispose()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
