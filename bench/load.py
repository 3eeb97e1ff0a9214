"""Load-test the wall's poll: N simulated walls against a multi-worker server on PostgreSQL.

Issue 13 asks whether database load stays flat as walls are added. The bench starts a
throwaway PostgreSQL cluster on loopback (``log_statement=all`` to a file), writes the demo
city into it with the ``gridwatch`` commands, and serves it with ``--server``:

- ``wsgi``: by hand, as docs/postgresql.md says: ``gunicorn -w 2 "app:wsgi()"`` (gunicorn's
  default sync workers) beside one ``gridwatch scheduler``, which publishes the snapshot to the
  ``snapshots`` table the workers read;
- ``serve-workers``: ``gridwatch serve --workers 2`` (threaded gunicorn workers with
  keep-alive, the command itself the one scheduler).

Beside either, the demo simulator adds and moves cases (``--daily-cases``), so snapshots
change between builds as in a busy city.

Each simulated wall does what assets/screen.js does in Chromium, with the request headers
and the Dash refresh body captured from Chromium itself at the start: it takes its kiosk
cookie, then every ``poll_ms`` (the wall's default: half the refresh interval) asks
``/api/version?area=&v=STAMP``; on a new stamp it posts the refresh callback to
``/_dash-update-component`` with the versions it holds, and fetches the map's GeoJSON URLs the
answer names (revalidating with the ETag a URL it already holds, as Chromium's cache does).
Walls start at random moments of the first interval, as real walls do. Each wall has its own
kiosk token, as each wall PC does (``gridwatch token add``); ``--one-token`` shares one.
Answers come encoded as Chromium asks (zstd, br or gzip); they are decoded with the modules
Flask-Compress itself requires, so the bench adds no dependency.

Per N the bench reports requests per second, latency percentiles (request sent to body
read), the server's CPU (utime + stime of the server's processes and all their descendants,
the scheduler included, from /proc, over the window, per second) and the DB statements per
minute the server's sessions logged in the window (the simulator's and the bench's own are
told apart by ``application_name``). The baseline, measured in the same run: the statements
one snapshot build issues (counted in this process with ``before_cursor_execute``) times the
requests per minute, which is what a server with no snapshot would send. Run from the repo
root:
``PYTHONPATH=. python bench/load.py [--walls 1,50,200] [--seconds 25]``.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import http.client
import json
import multiprocessing
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import quote

import brotli
from backports import zstd
from bench_poll import CHROMIUM_ARGS
from bench_screen import recorded_statements
from playwright.sync_api import Request, sync_playwright

from app import create_context
from dashboard import ids
from ingest.simulator import Simulator
from queries import accounts
from queries.rules import load_rules
from queries.workcalendar import default_calendar
from security.sessions import CSRF_COOKIE, CSRF_HEADER, KIOSK_COOKIE
from settings import Settings
from snapshot.routes import VERSION_URL
from snapshot.store import DISTRICT, SnapshotStore

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SERVERS = ("wsgi", "serve-workers")
WORKERS = 2
MAX_WALLS = 500          # bounds: walls per step, seconds per window, cases
MAX_SECONDS = 120
MAX_CASES = 50_000
SERVER_APP = "gridwatch-server"   # application_name of every session the server opens
SIMULATOR_APP = "bench-simulator"
SETUP_APP = "bench-setup"
STATEMENT = re.compile(r"\[(\d+)\] app=(\S*) LOG:  (?:statement|execute [^:]*): (.*)")
SAME_GOAL = 0.10  # "the same for 1 and 200 walls": within ±10 %
P95_GOAL_MS = 20.0


# --- the throwaway PostgreSQL cluster -------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Cluster:
    url: str
    log: Path
    data: Path

    def pid(self) -> int:
        """The postmaster's process id (its backends are its children)."""
        return int((self.data / "postmaster.pid").read_text().split()[0])


@contextmanager
def cluster(work: Path) -> Iterator[Cluster]:
    """Start PostgreSQL in ``work`` on a free loopback port, logging every statement; as root
    it runs as the Debian package's ``postgres`` user (PostgreSQL refuses root)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: [int(x) for x in re.findall(r"\d+", p)])
    if not found:
        raise SystemExit("PostgreSQL is not installed: apt-get install postgresql")
    bindir = Path(found[-1]).parent
    root = os.getuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if root else []
    owner = "postgres" if root else os.environ.get("USER", "postgres")
    work.chmod(0o755)
    if root:
        shutil.chown(work, "postgres")
    data, log = work / "data", work / "postgres.log"
    subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(data), "-U", owner, "-A", "trust",
                    "-E", "UTF8", "--no-locale"], check=True, capture_output=True)
    port = free_port()
    with open(data / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write(f"listen_addresses = '127.0.0.1'\nport = {port}\n"
                   f"unix_socket_directories = '{work}'\nmax_connections = 200\n"
                   "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                   "log_statement = 'all'\nlog_line_prefix = '%m [%p] app=%a '\n")
    subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-s",
                    "start"], check=True)
    try:
        subprocess.run([*run_as, str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port),
                        "-U", owner, "gridwatch"], check=True)
        yield Cluster(f"postgresql://{owner}@127.0.0.1:{port}/gridwatch", log, data)
    finally:
        subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True)


CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SELECT 1", "")  # and the pool's pre-ping
PURPOSES = ("kiosk token", "shared snapshot", "build and reads")


def purpose(sql: str) -> str | None:
    """What a statement is for; None for transaction control and the pool's ping."""
    if sql in CONTROL:
        return None
    if "KIOSK_TOKENS" in sql:
        return "kiosk token"
    return "shared snapshot" if "SNAPSHOTS" in sql else "build and reads"


def count_statements(log: Path, start: int, end: int) -> Counter[str]:
    """Count the server's statements logged between two byte offsets, by purpose.

    A session's transaction (the pool's ping, BEGIN, its statements, ROLLBACK or COMMIT: one
    backend's lines in order) counts whole under the purpose of its first real statement, so
    a kiosk-token check's BEGIN, ping and ROLLBACK count as the check's.
    """
    with open(log, "rb") as f:
        f.seek(start)
        text = f.read(end - start).decode("utf-8", "replace")
    kinds: Counter[str] = Counter()
    pending: Counter[str] = Counter()  # backend pid → statements of its open transaction
    why: dict[str, str] = {}
    for match in STATEMENT.finditer(text):
        backend, app, sql = match.groups()
        if app != SERVER_APP:
            continue
        sql = sql.strip().rstrip(";").upper()
        pending[backend] += 1
        found = purpose(sql)
        if found is not None:
            why.setdefault(backend, found)
        if sql in ("COMMIT", "ROLLBACK"):
            kinds[why.pop(backend, "control")] += pending.pop(backend)
    for backend, count in pending.items():  # transactions the window's end cut
        kinds[why.get(backend, "control")] += count
    return kinds


# --- the demo city, the accounts and the baseline ----------------------------------------

def gridwatch(env: dict[str, str], *args: str) -> None:
    """Run one ``gridwatch`` command as the README says, failing loudly."""
    done = subprocess.run([str(BIN / "gridwatch"), *args], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"gridwatch {' '.join(args)} failed: {done.stderr.strip()}")


def prepare(env: dict[str, str], cases: int, tokens: int) -> list[str]:
    """Write the demo city, one leader (``serve`` refuses to run without a user) and the
    walls' kiosk tokens; return the tokens' secrets."""
    gridwatch(env, "init-db")
    gridwatch(env, "generate", "--cases", str(cases), "--seed", "7")
    ctx = create_context(Settings.from_env(env))
    now = datetime.now()
    with ctx.sessions() as session:
        accounts.add_user(session, "bench-leader", secrets.token_hex(16), "leader", now=now)
        found = [accounts.add_token(session, f"bench-wall-{n}", now=now) for n in range(tokens)]
        session.commit()
    ctx.engine.dispose()
    return found


def statements_per_build(env: dict[str, str]) -> tuple[int, int]:
    """Count the SQL statements of a district snapshot build, cold (a fresh process) and
    again (what every later tick costs)."""
    ctx = create_context(Settings.from_env(env), shared=False)
    assert isinstance(ctx.store, SnapshotStore)
    counts = []
    for _ in range(2):
        now = ctx.settings.now().replace(microsecond=0)
        counts.append(len(recorded_statements(
            ctx.engine, partial(ctx.store.builder, DISTRICT, now))))
    ctx.engine.dispose()
    return counts[0], counts[1]


# --- the live city and the server ----------------------------------------------------------

def simulate(env: dict[str, str], daily_cases: float, stop: Any) -> None:
    """The live city (a child process): the demo simulator at ``daily_cases`` a day, so the
    snapshot changes between builds and the walls run their refresh as in a busy command
    center. ``gridwatch scheduler`` would run it at the demo city's own rate, a few cases a
    day for a few thousand cases: no stamp would change within a window."""
    os.environ.update(env, PGAPPNAME=SIMULATOR_APP)
    settings = Settings.from_env(env)
    ctx = create_context(settings)
    simulator = Simulator(ctx.writes, daily_cases=daily_cases,
                          repeat=load_rules(settings.rules_file or None).repeat,
                          calendar=default_calendar(settings.calendar_file), clock=settings.now,
                          tick_seconds=settings.simulator_seconds)
    while not stop.is_set():
        simulator.tick()
        stop.wait(settings.simulator_seconds)
    ctx.engine.dispose()


@dataclass
class Server:
    kind: str
    port: int
    processes: list[subprocess.Popen[bytes]]  # the server first, then its scheduler if apart
    log: Path

    def cpu_ticks(self) -> dict[int, int]:
        """The CPU ticks of every process of the deployment (``cpu_ticks`` of each)."""
        return {pid: t for p in self.processes for pid, t in cpu_ticks(p.pid).items()}


def server_commands(kind: str, port: int) -> list[list[str]]:
    """``wsgi``: gunicorn by hand as docs/postgresql.md says (its default sync workers) beside
    one ``gridwatch scheduler`` that publishes the snapshot; ``serve-workers``: the command."""
    if kind == "wsgi":
        return [[str(BIN / "gunicorn"), "-w", str(WORKERS), "-b", f"127.0.0.1:{port}",
                 "app:wsgi()"], [str(BIN / "gridwatch"), "scheduler"]]
    return [[str(BIN / "gridwatch"), "serve", "--workers", str(WORKERS), "--host", "127.0.0.1",
             "--port", str(port)]]


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop a process we started in its own session, and everything it started."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def serving(kind: str, env: dict[str, str], work: Path, daily_cases: float) -> Iterator[Server]:
    """Start the deployment and the simulator beside it; stop the deployment by its own
    process groups and the simulator by its event, whatever happens. Every session the
    deployment opens (workers and scheduler) is ``SERVER_APP``."""
    port = free_port()
    log = work / f"{kind}.log"
    server_env = {**env, "PGAPPNAME": SERVER_APP}
    if kind == "wsgi":  # the workers run no jobs (docs/postgresql.md)
        server_env["GRIDWATCH_RUN_SCHEDULER"] = "false"
    spawn = multiprocessing.get_context("spawn")
    stop = spawn.Event()
    simulator = spawn.Process(target=simulate, args=(env, daily_cases, stop), daemon=True)
    if daily_cases > 0:
        simulator.start()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with open(log, "wb") as out:
            for n, command in enumerate(server_commands(kind, port)):
                # the scheduler beside the workers runs the jobs: it is the one with them on
                run = {**server_env, "GRIDWATCH_RUN_SCHEDULER": "true"} if n else server_env
                processes.append(subprocess.Popen(command, cwd=ROOT, env=run, stdout=out,
                                                  stderr=subprocess.STDOUT,
                                                  start_new_session=True))
        server = Server(kind, port, processes, log)
        wait_ready(server)
        yield server
    finally:
        for process in processes:
            stop_group(process)
        stop.set()
        if simulator.is_alive():
            simulator.join(timeout=20)


def wait_ready(server: Server, seconds: float = 90) -> None:
    """Wait until /healthz answers (its first call builds the district snapshot)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in server.processes):
            raise SystemExit(f"{server.kind} exited: {server.log.read_text()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{server.kind} did not answer /healthz in {seconds:.0f} s")


def cpu_ticks(root: int) -> dict[int, int]:
    """utime + stime (clock ticks) of ``root`` and every process below it, from /proc."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            text = Path(stat).read_text()
        except OSError:
            continue  # ended while we looked
        fields = text[text.rindex(")") + 2:].split()
        pid = int(stat.split("/")[2])
        parents[pid] = int(fields[1])
        ticks[pid] = int(fields[11]) + int(fields[12])
    inside = {root}
    grew = True
    while grew:
        below = {pid for pid, parent in parents.items() if parent in inside} - inside
        inside |= below
        grew = bool(below)
    return {pid: ticks[pid] for pid in inside if pid in ticks}


# --- what Chromium sends --------------------------------------------------------------------

@dataclass(frozen=True)
class Capture:
    """Chromium's own requests of a wall: the poll and the Dash refresh, headers and body."""

    poll_path: str
    poll_headers: dict[str, str]
    refresh_path: str
    refresh_headers: dict[str, str]
    refresh_body: dict[str, Any]


PER_WALL_HEADERS = ("cookie", "content-length", CSRF_HEADER.lower())


def _headers(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.all_headers().items()
            if not k.startswith(":") and k not in PER_WALL_HEADERS}


def capture(port: int, secret: str) -> Capture:
    """Open the wall in Debian's Chromium; keep its first poll and one Dash refresh."""
    base = f"http://127.0.0.1:{port}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
        page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
        page.goto(f"{base}/screen?kiosk={secret}")
        page.wait_for_selector(f"#{ids.SCREEN_UPDATED}")
        with page.expect_request(lambda r: VERSION_URL in r.url, timeout=60_000) as polled:
            pass
        poll = polled.value
        with page.expect_request_finished(
                lambda r: "/_dash-update-component" in r.url
                and ids.SCREEN_VERSION.encode() in (r.post_data_buffer or b"")) as refreshed:
            page.evaluate("() => window.dash_clientside.set_props("
                          f"'{ids.SCREEN_POLL}', {{data: 'bench-capture'}})")
        refresh = refreshed.value
        found = Capture(
            poll_path=poll.url.removeprefix(base).split("&v=")[0] + "&v=",
            poll_headers=_headers(poll),
            refresh_path=refresh.url.removeprefix(base),
            refresh_headers=_headers(refresh),
            refresh_body=json.loads(refresh.post_data_buffer or b"{}"),
        )
        browser.close()
    return found


def decoded(headers: http.client.HTTPMessage, body: bytes) -> bytes:
    encoding = headers.get("Content-Encoding", "")
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "br":
        return bytes(brotli.decompress(body))
    if encoding == "zstd":
        return bytes(zstd.decompress(body))
    return body


def with_value(items: list[Any], component: str, value: Any) -> list[Any]:
    """Return a Dash ``inputs``/``state`` list with one component's value replaced."""
    return [dict(item, value=value) if isinstance(item, dict) and item.get("id") == component
            else item for item in items]


# --- the walls ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Hit:
    kind: str       # poll, refresh, map, setup
    started: float  # time.monotonic()
    seconds: float
    status: int


@dataclass
class Wall:
    """One wall PC: its own kiosk token, keep-alive connection, cookies, stamp and versions."""

    port: int
    secret: str
    shape: Capture
    poll_seconds: float
    hits: list[Hit]
    cookies: dict[str, str] = field(default_factory=dict)
    stamp: str = ""
    known: dict[str, str] = field(default_factory=dict)
    etags: dict[str, str] = field(default_factory=dict)  # the browser's cache of map layers
    conn: http.client.HTTPConnection | None = None

    def request(self, kind: str, method: str, path: str, headers: dict[str, str],
                body: bytes | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
        sent = dict(headers)
        if self.cookies:
            sent["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST":
            sent[CSRF_HEADER] = self.cookies.get(CSRF_COOKIE, "")
        started = time.monotonic()
        for attempt in (1, 2):  # a kept-alive connection the server closed: reopen, as browsers do
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request(method, path, body, sent)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        self.hits.append(Hit(kind, started, time.monotonic() - started, resp.status))
        for line in resp.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(line).items():
                self.cookies[name] = morsel.value
        if resp.will_close and self.conn is not None:
            self.conn.close()
            self.conn = None
        return resp.status, resp.headers, data

    def setup(self) -> None:
        """What page load leaves behind: the kiosk cookie, the stamp, the versions drawn."""
        self.request("setup", "GET", f"/screen?kiosk={self.secret}", self.shape.poll_headers)
        if KIOSK_COOKIE not in self.cookies:
            raise SystemExit("the kiosk token was refused")
        self.poll("setup")

    def poll(self, kind: str = "poll") -> None:
        status, headers, data = self.request(
            kind, "GET", self.shape.poll_path + quote(self.stamp, safe=""), self.shape.poll_headers)
        answer = decoded(headers, data).decode() if status == 200 else ""
        if answer and answer != self.stamp:
            self.stamp = answer
            self.refresh("setup" if kind == "setup" else "refresh")

    def refresh(self, kind: str) -> None:
        """The Dash refresh the new stamp runs, then the map layers it names."""
        body = dict(self.shape.refresh_body)
        body["inputs"] = with_value(body["inputs"], ids.SCREEN_POLL, self.stamp)
        body["state"] = with_value(body["state"], ids.SCREEN_VERSION, self.known)
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        status, headers, data = self.request(kind, "POST", self.shape.refresh_path,
                                             self.shape.refresh_headers, raw)
        if status != 200:
            return
        answer = json.loads(decoded(headers, data)).get("response", {})
        self.known = answer.get(ids.SCREEN_VERSION, {}).get("data") or self.known
        for layer in (ids.MAP_CASES, ids.MAP_DENSITY):
            url = answer.get(layer, {}).get("url")
            if url:  # no-cache with an ETag: Chromium revalidates a URL it holds
                held = {"if-none-match": self.etags[url]} if url in self.etags else {}
                _, got, _ = self.request("setup" if kind == "setup" else "map", "GET", url,
                                         {**self.shape.poll_headers, **held})
                if got.get("ETag"):
                    self.etags[url] = got["ETag"]

    def run(self, first: float, stop: float) -> None:
        """Poll every ``poll_seconds`` after the last answer, as screen.js's setTimeout does."""
        at = first
        while True:
            time.sleep(max(0.0, at - time.monotonic()))
            if time.monotonic() >= stop:
                return
            try:
                self.poll()
            except OSError:
                self.hits.append(Hit("poll", time.monotonic(), 0.0, 0))
            at = time.monotonic() + self.poll_seconds


# --- one step: N walls for a window ------------------------------------------------------

@dataclass(frozen=True)
class Step:
    server: str
    walls: int
    seconds: float
    hits: list[Hit]
    cpu_seconds: float    # the server's processes
    db_cpu_seconds: float  # PostgreSQL's (statement logging included)
    bench_cpu_seconds: float  # this process: the walls themselves
    statements: Counter[str]

    def per_minute(self, count: float) -> float:
        return count * 60.0 / self.seconds

    @property
    def requests(self) -> int:
        return len(self.hits)

    @property
    def statements_per_minute(self) -> float:
        return self.per_minute(sum(self.statements.values()))


def run_step(server: Server, pg: Cluster, shape: Capture, secrets_: list[str],
             walls: int, seconds: float, warmup: float, poll_seconds: float) -> Step:
    """Set N walls up, let them settle for ``warmup``, measure ``seconds``, stop them."""
    hits: list[Hit] = []
    crew = [Wall(server.port, secrets_[n % len(secrets_)], shape, poll_seconds, hits)
            for n in range(walls)]
    for wall in crew:
        wall.setup()
    start = time.monotonic() + warmup
    stop = start + seconds
    threads = [threading.Thread(
        target=wall.run, args=(time.monotonic() + random.uniform(0, poll_seconds), stop + 1),
        daemon=True) for wall in crew]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, start - time.monotonic()))
    ticks0, db0, offset0 = server.cpu_ticks(), cpu_ticks(pg.pid()), pg.log.stat().st_size
    began, mine = time.monotonic(), time.process_time()
    time.sleep(max(0.0, stop - time.monotonic()))
    ticks1, db1, offset1 = server.cpu_ticks(), cpu_ticks(pg.pid()), pg.log.stat().st_size
    elapsed, mine = time.monotonic() - began, time.process_time() - mine
    for thread in threads:
        thread.join(timeout=70)
    for wall in crew:
        if wall.conn is not None:
            wall.conn.close()
    window = [h for h in hits if began <= h.started < began + elapsed and h.kind != "setup"]
    return Step(server.kind, walls, elapsed, window, used_seconds(ticks0, ticks1),
                used_seconds(db0, db1), mine, count_statements(pg.log, offset0, offset1))


def used_seconds(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU seconds a process tree used between two ``cpu_ticks`` readings."""
    return sum(t - before.get(pid, 0) for pid, t in after.items()) / os.sysconf("SC_CLK_TCK")


# --- the report -----------------------------------------------------------------------------

def percentile_ms(step: Step, q: int, kind: str | None = None) -> float | None:
    latencies = [h.seconds * 1000 for h in step.hits if kind in (None, h.kind)]
    if len(latencies) < 2:
        return None
    return statistics.quantiles(latencies, n=100, method="inclusive")[q - 1]


def shown(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def ratio(a: float | None, b: float | None) -> str:
    return "—" if a is None or not b else f"{a / b:.2f}×"


def report(steps: list[Step], per_build: int) -> None:
    """Print the table, the statement lines against the no-snapshot baseline and the goals."""
    print("\nserver         walls  req/s   p50 ms  p95 ms  p99 ms  polls refreshes maps  "
          "errors  CPU s/s  stmts/min")
    for s in steps:
        kinds = Counter(h.kind for h in s.hits)
        errors = sum(1 for h in s.hits if h.status not in (200, 304))
        print(f"{s.server:<14} {s.walls:>5}  {s.requests / s.seconds:>6.1f}  "
              f"{shown(percentile_ms(s, 50)):>6}  {shown(percentile_ms(s, 95)):>6}  "
              f"{shown(percentile_ms(s, 99)):>6}  {kinds['poll']:>5} {kinds['refresh']:>9} "
              f"{kinds['map']:>4}  {errors:>6}  {s.cpu_seconds / s.seconds:>7.3f}  "
              f"{s.statements_per_minute:>9,.0f}")
    print("\nlatency p50 / p95 ms by request, and CPU s/s of PostgreSQL and of the walls "
          "(this process):")
    for s in steps:
        parts = ", ".join(f"{kind} {shown(percentile_ms(s, 50, kind))} / "
                          f"{shown(percentile_ms(s, 95, kind))}"
                          for kind in ("poll", "refresh", "map"))
        print(f"  {s.server} {s.walls:>3} walls: {parts}; PostgreSQL "
              f"{s.db_cpu_seconds / s.seconds:.3f}, walls {s.bench_cpu_seconds / s.seconds:.3f}")
    print(f"\none district snapshot build issues {per_build} SQL statements (counted in this "
          "process, a build after the first)")
    for s in steps:
        without = per_build * s.per_minute(s.requests)
        parts = ", ".join(f"{k} {s.per_minute(v):,.0f}" for k, v in s.statements.most_common())
        print(f"{s.server} {s.walls} walls — DB statements/min: measured "
              f"{s.statements_per_minute:,.0f}, without a snapshot {without:,.0f}, ratio "
              f"{ratio(s.statements_per_minute, without)}  ({parts or 'none'})")
    servers = list(dict.fromkeys(s.server for s in steps))
    for server in servers:
        mine = {s.walls: s for s in steps if s.server == server}
        few, many = min(mine), max(mine)
        if few == many:
            continue
        low, high = mine[few].statements_per_minute, mine[many].statements_per_minute
        same = low > 0 and abs(high / low - 1) <= SAME_GOAL
        print(f"{server}: goal — DB statements/min the same for {few} and {many} walls "
              f"(within ±{SAME_GOAL:.0%}): {many} walls / {few} wall{'s' * (few > 1)} = "
              f"{ratio(high, low)}, {'met' if same else 'not met'}")
        kind_ratios = ", ".join(
            f"{kind} {ratio(mine[many].statements[kind], mine[few].statements[kind])}"
            for kind in PURPOSES if mine[few].statements[kind])
        print(f"{server}: by purpose, {many} walls / {few}: {kind_ratios or '—'}")
        p95 = percentile_ms(mine[many], 95)
        met = p95 is not None and p95 <= P95_GOAL_MS
        print(f"{server}: goal — p95 ≤ {P95_GOAL_MS:.0f} ms at {many} walls: p95 "
              f"{shown(p95)} ms, {'met' if met else 'not met'} (the polls alone: "
              f"{shown(percentile_ms(mine[many], 95, 'poll'))} ms)")
    if len(servers) == 2:
        a, b = servers
        print(f"\nside by side, {b} / {a}:")
        for walls in sorted({s.walls for s in steps}):
            pair = {s.server: s for s in steps if s.walls == walls}
            if a in pair and b in pair:
                x, y = pair[a], pair[b]
                print(f"  {walls:>4} walls: DB statements/min "
                      f"{ratio(y.statements_per_minute, x.statements_per_minute)}, p95 "
                      f"{ratio(percentile_ms(y, 95), percentile_ms(x, 95))}, CPU "
                      f"{ratio(y.cpu_seconds / y.seconds, x.cpu_seconds / x.seconds)}")


def wall_counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or any(not 1 <= n <= MAX_WALLS for n in counts):
        raise argparse.ArgumentTypeError(f"wall counts from 1 to {MAX_WALLS}, comma-separated")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--walls", type=wall_counts, default=[1, 50, 200],
                        help=f"comma-separated wall counts, each 1–{MAX_WALLS}")
    parser.add_argument("--seconds", type=float, default=None,
                        help=f"measured window per count (at most {MAX_SECONDS}; default three "
                             "refresh intervals, so every window holds the same builds)")
    parser.add_argument("--warmup", type=float, default=None,
                        help="seconds between the walls' start and the window (one poll interval)")
    parser.add_argument("--server", action="append", choices=SERVERS,
                        help="server to run (repeat for both; default wsgi)")
    parser.add_argument("--cases", type=int, default=3_000)
    parser.add_argument("--refresh-seconds", type=int, default=10,
                        help="GRIDWATCH_REFRESH_SECONDS; the wall polls twice per interval")
    parser.add_argument("--one-token", action="store_true",
                        help="every wall shares one kiosk token (default: a token per wall)")
    parser.add_argument("--daily-cases", type=float, default=20_000,
                        help="the live simulator's rate, cases a day (0: off, the stamp then "
                             "changes only with the clock)")
    args = parser.parse_args()
    if args.seconds is None:
        args.seconds = 3.0 * args.refresh_seconds
    if not 1 <= args.seconds <= MAX_SECONDS or not 1 <= args.cases <= MAX_CASES:
        parser.error(f"--seconds 1–{MAX_SECONDS}, --cases 1–{MAX_CASES:,}")
    servers = args.server or ["wsgi"]
    poll_seconds = args.refresh_seconds / 2  # the layout's default poll_ms
    warmup = poll_seconds + 2 if args.warmup is None else min(args.warmup, MAX_SECONDS)
    print(f"walls {args.walls}, window {args.seconds:.0f} s, warm-up {warmup:.0f} s, poll every "
          f"{poll_seconds:g} s, {args.cases:,} cases, servers {servers}, "
          f"{'one token' if args.one_token else 'a kiosk token per wall'}, simulator "
          f"{args.daily_cases:,.0f} cases a day; {os.cpu_count()} cores, {os.uname().release}")
    steps: list[Step] = []
    with tempfile.TemporaryDirectory(prefix="gridwatch-load-") as folder, \
            cluster(Path(folder)) as pg:
        work = Path(folder)
        env = {**os.environ, "GRIDWATCH_DATABASE_URL": pg.url, "PGAPPNAME": SETUP_APP,
               "GRIDWATCH_SECRET_KEY": secrets.token_hex(32), "GRIDWATCH_DATA_DIR": str(work),
               "GRIDWATCH_REFRESH_SECONDS": str(args.refresh_seconds),
               "GRIDWATCH_SIMULATE": "false"}
        env.pop("GRIDWATCH_WRITE_DATABASE_URL", None)
        found = prepare(env, args.cases, 1 if args.one_token else max(args.walls))
        cold, per_build = statements_per_build(env)
        print(f"snapshot build: {cold} SQL statements cold, {per_build} after")
        shape: Capture | None = None
        for kind in servers:
            with serving(kind, env, work, args.daily_cases) as server:
                if shape is None:
                    shape = capture(server.port, found[0])
                for walls in args.walls:
                    step = run_step(server, pg, shape, found, walls, args.seconds, warmup,
                                    poll_seconds)
                    steps.append(step)
                    print(f"  {kind} {walls} walls: {step.requests} requests in "
                          f"{step.seconds:.1f} s", flush=True)
    report(steps, per_build)


if __name__ == "__main__":
    main()
