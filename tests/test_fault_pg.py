"""A real server against a PostgreSQL that stops or freezes (issue 13).

A ``gridwatch serve`` process (waitress, its in-process scheduler) serves a small generated
city from a throwaway PostgreSQL cluster of its own — initdb and pg_ctl in a temporary folder on
a free loopback port, never the PostgreSQL pass's shared cluster. Several simulated walls poll
``/api/version`` with their stamp the way assets/screen.js does, each with its own kiosk token,
and ``/healthz`` is asked too, while PostgreSQL is stopped for a minute (``pg_ctl stop``) or
frozen for a minute (SIGSTOP on the postmaster and every backend, then SIGCONT). Throughout:

* the server process never dies, and no request takes longer than one statement timeout plus
  one connect timeout and a margin (a frozen server ACKs every packet, so only the engine's
  watchdog ends a statement there: queries/engine.py);
* every wall sees its stamp gain ``-stale`` and ``/healthz`` says so within two refresh
  intervals of the fault, and both come back by themselves within two intervals of the restart.

The stop is served by ``gridwatch serve --workers 2`` (gunicorn workers reading the snapshot
the command publishes), the freeze by a single ``gridwatch serve``. Inside the stop's minute, a
worker started then (gunicorn's ``app:wsgi()``, which opens no connection before serving) says
so on ``/healthz`` and recovers by itself once PostgreSQL answers and the scheduler publishes,
and ``gridwatch serve`` started then ends at once with one line (systemd restarts it:
docs/deploy/gridwatch.service). The stale badge is checked once in Chromium in the stop.

The servers are started by ``start_server`` from a command in ``SERVER_COMMANDS``, so another
way of serving (several workers) is one more entry there. The file runs in the PostgreSQL pass
(``tests/pg/run.sh``; the marker keeps it out of the SQLite pass): 4 min here, most of it the
two minutes of outage.
"""

from __future__ import annotations

import glob
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

from queries import accounts
from queries.engine import make_engine, make_session_factory

BINDIRS = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                 key=lambda p: int(re.sub(r"\D", "", p) or 0))
BINDIR = next((d for d in reversed(BINDIRS) if os.access(f"{d}/initdb", os.X_OK)), None)
if BINDIR is None and shutil.which("initdb"):
    BINDIR = str(Path(shutil.which("initdb") or "").parent)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(BINDIR is None, reason="PostgreSQL binaries (initdb, pg_ctl) are not "
                       "installed: apt-get install postgresql (make system-packages)"),
]

REFRESH = 5  # GRIDWATCH_REFRESH_SECONDS: stale after two of these
CONNECT_TIMEOUT = 2  # GRIDWATCH_DB_CONNECT_TIMEOUT
STATEMENT_TIMEOUT = 3  # GRIDWATCH_STATEMENT_TIMEOUT
# The longest a request may take: one statement cut by the watchdog, then one failed connect,
# plus a margin for the shared 2-core machine.
REQUEST_BUDGET = STATEMENT_TIMEOUT + CONNECT_TIMEOUT + 2.0
OUTAGE = 60.0  # seconds PostgreSQL is down or frozen
POLL = 1.0  # a simulated wall's poll interval
SEEN_WITHIN = 2 * REFRESH + POLL + 2.0  # two intervals, one poll, and the request itself
WALLS = 3
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A throwaway PostgreSQL cluster: start, stop, freeze and thaw it, delete it at the end.

    As root (PostgreSQL refuses to run as root) it runs as the Debian package's ``postgres``
    user, in a folder handed to that user, as tests/pg/run.sh does.
    """

    def __init__(self, bindir: str) -> None:
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="gridwatch-fault-"))
        self.folder.chmod(0o755)
        self.owner = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "")
        self.run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        self.data = self.folder / "data"
        self.port = _free_port()
        self._pg("initdb", "-D", str(self.data), "-U", self.owner, "-A", "trust", "-E", "UTF8",
                 "--no-locale")

    def _pg(self, tool: str, *args: str) -> None:
        subprocess.run([*self.run_as, f"{self.bindir}/{tool}", *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)

    def url(self, database: str = "gridwatch") -> str:
        return f"postgresql+psycopg://{self.owner}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w",
                 "-s", "start", "-o",
                 f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                 f"-c unix_socket_directories={self.folder} -c fsync=off "
                 "-c synchronous_commit=off -c full_page_writes=off")

    def stop(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-s", "stop")

    def _pids(self) -> list[int]:
        """The postmaster first, then every process it started (its backends and workers)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                children.append(int(stat.split("/")[2]))
        return [postmaster, *children]

    def freeze(self) -> None:
        """SIGSTOP the postmaster (so it forks no more backends), then its children."""
        for pid in self._pids():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in reversed(self._pids()):
            os.kill(pid, signal.SIGCONT)

    def remove(self) -> None:
        try:
            self.thaw()
        except (OSError, ValueError):
            pass
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


def gridwatch(env: dict[str, str], *args: str) -> str:
    """Run one ``gridwatch`` command to completion and return its output."""
    done = subprocess.run([str(BIN / "gridwatch"), *args], env=env, text=True,
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@dataclass(frozen=True)
class City:
    """The cluster with a generated city, the environment to serve it and the walls' tokens."""

    cluster: Cluster
    env: dict[str, str]
    tokens: tuple[str, ...]


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    assert BINDIR is not None
    cluster = Cluster(BINDIR)
    try:
        cluster.start()
        subprocess.run([*cluster.run_as, f"{BINDIR}/createdb", "-h", "127.0.0.1", "-p",
                        str(cluster.port), "-U", cluster.owner, "gridwatch"], check=True,
                       timeout=60)
        env = {**os.environ, "GRIDWATCH_DATABASE_URL": cluster.url(),
               "GRIDWATCH_DATA_DIR": str(tmp_path_factory.mktemp("data")),
               "GRIDWATCH_SECRET_KEY": "fault-test-" + "0" * 32,
               "GRIDWATCH_REFRESH_SECONDS": str(REFRESH),
               "GRIDWATCH_DB_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
               "GRIDWATCH_STATEMENT_TIMEOUT": str(STATEMENT_TIMEOUT)}
        env.pop("GRIDWATCH_WRITE_DATABASE_URL", None)
        gridwatch({**env, "GRIDWATCH_STATEMENT_TIMEOUT": "120"}, "generate", "--cases", "2000")
        gridwatch(env, "user", "add", "chief", "--role", "leader", "--generate")
        engine = make_engine(cluster.url())  # one token per wall, without a process each
        with make_session_factory(engine)() as session:
            tokens = tuple(accounts.add_token(session, f"wall{n}", now=datetime.now())
                           for n in range(WALLS))
            session.commit()
        engine.dispose()
        yield City(cluster, env, tokens)
    finally:
        cluster.remove()


# How to serve: each entry turns a port into the command that serves the city on it.
SERVER_COMMANDS: dict[str, Callable[[int], list[str]]] = {
    "serve": lambda port: [str(BIN / "gridwatch"), "serve", "--host", "127.0.0.1",
                           "--port", str(port)],
    # Several workers: gunicorn's two below the command, which is the one scheduler and
    # publishes the snapshot they read (snapshot/shared.py).
    "workers": lambda port: [str(BIN / "gridwatch"), "serve", "--workers", "2",
                             "--host", "127.0.0.1", "--port", str(port)],
    # One more gunicorn worker by hand (README: several workers): no jobs, it reads the
    # snapshot the running scheduler publishes, and serves without asking the database first.
    "gunicorn": lambda port: [str(BIN / "gunicorn"), "--workers", "1", "--threads", "8",
                              "--bind", f"127.0.0.1:{port}", "--timeout", "120", "app:wsgi()"],
}


@dataclass
class Server:
    """A serving process and where it listens."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self, tail: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-tail:]


def start_server(command: str, env: dict[str, str], log_dir: Path, *,
                 wait: bool = True) -> Server:
    """Start ``SERVER_COMMANDS[command]`` on a free port; with ``wait``, until /healthz answers
    at all (any status: a server started in an outage answers 503)."""
    port = _free_port()
    log = log_dir / f"{command}-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(SERVER_COMMANDS[command](port), env=env, stdout=out,
                                   stderr=subprocess.STDOUT, cwd=Path(__file__).parent.parent)
    server = Server(process, port, log)
    deadline = time.monotonic() + 90
    while wait and time.monotonic() < deadline:
        assert server.alive(), server.output()
        try:
            get(port, "/healthz", timeout=5)
            return server
        except OSError:
            time.sleep(0.3)
    if wait:
        raise AssertionError(f"{command} did not answer within 90 s:\n{server.output()}")
    return server


def stop_server(server: Server) -> None:
    # SIGTERM, not Ctrl+C: a shell running the suite in the background ignores SIGINT for
    # its children. serve ends at once (it holds nothing to flush), gunicorn stops gracefully.
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


def get(port: int, path: str, *, timeout: float, cookie: str = "") -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


@dataclass(frozen=True)
class Answer:
    """One request a wall made: when (monotonic), what, and how long it took."""

    at: float
    path: str
    status: int  # 0: no answer (the connection failed or timed out)
    body: str
    seconds: float


@dataclass
class Wall:
    """A wall screen's poll loop: /api/version with its stamp over one kept-alive connection
    (as Chromium's fetch reuses it), and /healthz every few polls."""

    port: int
    token: str
    answers: list[Answer] = field(default_factory=list)
    stamp: str = ""
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def _run(self) -> None:
        conn: http.client.HTTPConnection | None = None
        polls = 0
        while not self._stop.is_set():
            path = f"/api/version?area=&v={self.stamp}"
            if polls % 3 == 2:
                path = "/healthz"
            polls += 1
            started = time.monotonic()
            status, body = 0, ""
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                # The wall's cookie on its poll; /healthz is asked as a monitor asks, without.
                cookie = {"Cookie": f"gridwatch_kiosk={self.token}"} if "version" in path else {}
                conn.request("GET", path, headers=cookie)
                resp = conn.getresponse()
                status, body = resp.status, resp.read().decode()
                if resp.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
            self.answers.append(Answer(started, path.split("?")[0], status, body,
                                       time.monotonic() - started))
            if status == 200 and path.startswith("/api/version") and body:
                self.stamp = body
            self._stop.wait(POLL)

    def stale(self) -> bool:
        return self.stamp.endswith("-stale")

    def fresh(self) -> bool:
        return bool(self.stamp) and not self.stale() and not self.stamp.startswith("none")

    def first(self, after: float, test: Callable[[Answer], bool]) -> float | None:
        """When the first answer at or after ``after`` passing ``test`` was asked for."""
        return next((a.at for a in self.answers if a.at >= after and test(a)), None)


def is_stale(a: Answer) -> bool:
    return a.path == "/api/version" and a.status == 200 and a.body.endswith("-stale")


def is_fresh(a: Answer) -> bool:
    return (a.path == "/api/version" and a.status == 200
            and (a.body == "" or not a.body.endswith("-stale")))


def health_bad(a: Answer) -> bool:
    return a.path == "/healthz" and a.status == 503


def health_ok(a: Answer) -> bool:
    return a.path == "/healthz" and a.status == 200 and a.body.startswith("ok")


def wait_for(test: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not test():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def check_walls(walls: list[Wall], server: Server, fault_at: float, back_at: float) -> None:
    """The four promises: alive, bounded requests, stale seen in time, recovered in time."""
    assert server.alive(), server.output()
    slow = [a for w in walls for a in w.answers if a.seconds > REQUEST_BUDGET or a.status == 0]
    assert not slow, f"requests past {REQUEST_BUDGET} s or unanswered: {slow[:5]}"
    failed = [a for w in walls for a in w.answers
              if a.path == "/api/version" and a.status != 200]
    assert not failed, f"polls that failed: {failed[:5]}\n{server.output()}"
    for wall in walls:
        stale_at = wall.first(fault_at, is_stale)
        assert stale_at is not None and stale_at - fault_at <= SEEN_WITHIN, \
            (stale_at and stale_at - fault_at, server.output())
        sick_at = wall.first(fault_at, health_bad)
        assert sick_at is not None and sick_at - fault_at <= SEEN_WITHIN + 2 * POLL
        relapse = wall.first(sick_at, health_ok)  # once it says so, until PostgreSQL is back
        assert relapse is None or relapse >= back_at, relapse - fault_at
        assert all(a.body.startswith("stale: last refresh") for a in wall.answers
                   if health_bad(a) and a.at < back_at)
        fresh_at = wall.first(back_at, is_fresh)
        assert fresh_at is not None and fresh_at - back_at <= SEEN_WITHIN, \
            (fresh_at and fresh_at - back_at, server.output())
        well_at = wall.first(back_at, health_ok)
        assert well_at is not None and well_at - back_at <= SEEN_WITHIN + 2 * POLL
        assert wall.fresh() and wall.answers[-1].status == 200


def run_walls(city: City, server: Server) -> list[Wall]:
    walls = [Wall(server.port, token) for token in city.tokens]
    for wall in walls:
        wall.start()
    wait_for(lambda: all(w.fresh() for w in walls), 60, "the walls never got a fresh stamp")
    return walls


@pytest.fixture
def serving(city: City, tmp_path: Path) -> Iterator[Callable[[str], Server]]:
    """Start servers for a test, stop them after it; PostgreSQL is running again at the end."""
    started: list[Server] = []

    def start(command: str) -> Server:
        server = start_server(command, city.env, tmp_path)
        started.append(server)
        return server

    yield start
    for server in started:
        stop_server(server)


def through_outage(city: City, server: Server, down: Callable[[], None],
                   up: Callable[[], None], badge: StaleBadge | None = None,
                   during: Callable[[], list[Wall]] | None = None) -> None:
    """Walls poll while PostgreSQL goes ``down`` for OUTAGE seconds and comes ``up``; then
    every promise is checked (and the browser's badge, when given, shows and goes).

    ``during`` runs once PostgreSQL is down and returns the walls it started on servers of
    its own: those began without data and must recover by themselves too.
    """
    walls = run_walls(city, server)
    newcomers: list[Wall] = []
    try:
        time.sleep(2)
        fault_at = time.monotonic()
        down()
        try:
            if during is not None:
                newcomers = during()
            if badge is not None:
                badge.expect(stale=True, within=SEEN_WITHIN + REFRESH)
            wait_for(lambda: time.monotonic() >= fault_at + OUTAGE, OUTAGE + 1, "")
        finally:
            up()
        back_at = time.monotonic()
        if badge is not None:
            badge.expect(stale=False, within=SEEN_WITHIN + REFRESH)
        wait_for(lambda: all(w.fresh() and w.first(back_at, health_ok)
                             for w in walls + newcomers),
                 SEEN_WITHIN + 3 * POLL, f"no recovery:\n{server.output()}")
    finally:
        for wall in walls + newcomers:
            wall.stop()
    check_walls(walls, server, fault_at, back_at)
    for wall in newcomers:
        check_newcomer(wall, back_at)


def check_newcomer(wall: Wall, back_at: float) -> None:
    """A wall of a server started in the outage: no data and /healthz saying so, never "ok",
    until PostgreSQL is back; fresh within two intervals of that, by itself."""
    slow = [a for a in wall.answers if a.seconds > REQUEST_BUDGET or a.status == 0]
    assert not slow, slow[:5]
    before = [a for a in wall.answers if a.at < back_at]
    # Never data: a worker that has not read the wall's token yet cannot check it (a 503,
    # which assets/screen.js shows as the stale badge), one that has answers "none-stale".
    polls = [a for a in before if a.path == "/api/version"]
    assert polls and all(a.body == "none-stale" or (a.status == 503 and "unavailable" in a.body)
                         for a in polls), polls[:3]
    health = [a for a in before if a.path == "/healthz"]
    assert health and all(a.status == 503 and a.body.startswith("unavailable: no snapshot")
                          for a in health), health[:3]
    fresh_at = wall.first(back_at, is_fresh)
    assert fresh_at is not None and fresh_at - back_at <= SEEN_WITHIN, fresh_at
    assert wall.first(back_at, health_ok) is not None


def check_serve_refuses(city: City) -> None:
    """``gridwatch serve`` started in the outage cannot check the schema, the city or the
    accounts: it ends at once with one line and status 1 (systemd's Restart= brings it back:
    docs/deploy.md)."""
    started = time.monotonic()
    done = subprocess.run(SERVER_COMMANDS["serve"](_free_port()), env=city.env, text=True,
                          capture_output=True, timeout=60)
    # A refused connection fails at once; what takes time is the interpreter's start-up and
    # imports, 5-20 s on the loaded 2-core machine beside Chromium and the walls.
    assert time.monotonic() - started < CONNECT_TIMEOUT + 30
    assert done.returncode == 1 and "cannot reach the database" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("command", "newcomer"), [("workers", "gunicorn")])
def test_postgresql_stopped_for_a_minute(city: City, serving: Callable[[str], Server],
                                         command: str, newcomer: str) -> None:
    """The running server (two workers and their scheduler) goes stale and recovers; inside the
    same minute ``serve`` started anew refuses with one line, and a ``newcomer`` server
    (another gunicorn worker, which asks the database nothing before serving) starts without
    data and recovers by itself from the snapshot the running scheduler publishes again."""
    server = serving(command)
    badge = StaleBadge(server.port, city.tokens[0])

    def during() -> list[Wall]:
        check_serve_refuses(city)
        late = serving(newcomer)
        walls = [Wall(late.port, token) for token in city.tokens]
        for wall in walls:
            wall.start()
        return walls

    try:
        through_outage(city, server, city.cluster.stop, city.cluster.start, badge, during)
    finally:
        badge.close()


@pytest.mark.parametrize("command", ["serve"])
def test_postgresql_frozen_for_a_minute(city: City, serving: Callable[[str], Server],
                                        command: str) -> None:
    server = serving(command)
    through_outage(city, server, city.cluster.freeze, city.cluster.thaw)
    # What ended the frozen statements: the engine's watchdog (queries/engine.py).
    assert "the database did not answer in time" in server.output(tail=10**7)


class StaleBadge:
    """One real wall in Chromium (Playwright, Debian's /usr/bin/chromium), for the badge."""

    def __init__(self, port: int, token: str) -> None:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(executable_path="/usr/bin/chromium")
        self.page = self._browser.new_page(viewport={"width": 1920, "height": 1080})
        self.page.goto(f"http://127.0.0.1:{port}/screen?kiosk={token}&refresh=2",
                       timeout=60_000)
        self.page.wait_for_selector("#screen-updated", timeout=60_000)

    def expect(self, *, stale: bool, within: float) -> None:
        state = "visible" if stale else "hidden"
        self.page.wait_for_selector("#screen-stale", state=state, timeout=within * 1000)

    def close(self) -> None:
        self._browser.close()
        self._pw.stop()
