"""``gridwatch serve`` runs a production server: waitress with keep-alive and its thread count.

A wall polls every few seconds; over one kept-alive connection a poll costs no new TCP
handshake. The test starts the real command in a subprocess and sends two requests over one
``http.client`` connection; ``serve --workers 2`` runs gunicorn workers that share the one
snapshot the command publishes.
"""

from __future__ import annotations

import http.client
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app import create_app, create_context
from cli import production_server
from queries import accounts
from queries.engine import init_db
from queries.models import STATUS_VERIFYING
from settings import Settings
from tests.handbuilt import NOW, build_handbuilt

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def hand_built_database(tmp_path: Path) -> str:
    """The hand-built city with one user in a new SQLite file; return its URL."""
    url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    ctx = create_context(Settings(data_dir=tmp_path, database_url=url))
    init_db(ctx.engine)
    with ctx.sessions() as session:
        build_handbuilt(session)
        accounts.add_user(session, "chief", accounts.generate_password(), "leader",
                          now=ctx.settings.now_live())
        session.commit()
    ctx.engine.dispose()
    return url


@contextmanager
def serving(tmp_path: Path, url: str, *args: str, **env: str) -> Iterator[tuple[int, int]]:
    """Run ``gridwatch serve ARGS`` until it says it serves; yield its port and pid."""
    port = free_port()
    environ = {**os.environ, "GRIDWATCH_DATA_DIR": str(tmp_path), "GRIDWATCH_DATABASE_URL": url,
               "GRIDWATCH_SECRET_KEY": "k" * 64, "GRIDWATCH_THREADS": "2", **env}
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port), *args],
                            cwd=ROOT, env=environ, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        line = ""
        while "serving on" not in line:
            left = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([proc.stdout], [], [], left)
            assert ready and proc.poll() is None, f"serve did not start: {line}"
            line = proc.stdout.readline()
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[int]:
    """Run ``gridwatch serve`` on the hand-built city (one user, a real key); yield its port."""
    with serving(tmp_path, hand_built_database(tmp_path),
                 GRIDWATCH_RUN_SCHEDULER="false") as (port, _pid):
        yield port


def test_two_requests_share_one_kept_alive_connection(served: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", served, timeout=30)
    statuses = []
    sockets = []
    for _ in range(2):
        conn.request("GET", "/healthz")
        resp = conn.getresponse()
        statuses.append(resp.status)
        assert resp.read().split(b":")[0] in (b"ok", b"stale", b"unavailable")
        assert resp.getheader("Connection", "").lower() != "close"
        sockets.append(conn.sock)
    assert statuses[0] in (200, 503) and statuses[0] == statuses[1]
    # http.client opens a new socket only after the server closed the old one
    assert sockets[0] is not None and sockets[0] is sockets[1]
    assert conn.sock is not None and conn.sock.fileno() != -1
    conn.close()


def test_the_server_runs_the_configured_threads(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, port=free_port(), threads=3)
    server = production_server(create_app(settings).server, settings)
    try:
        assert len(server.task_dispatcher.threads) == 3
        assert server.adj.connection_limit >= 200  # a hall of polling walls keeps connections
    finally:
        server.close()
        server.task_dispatcher.shutdown()


# --- several workers ---------------------------------------------------------------------------

def children(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc: no psutil)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def stamps(port: int, count: int) -> set[str]:
    """The poll stamp as ``count`` walls see it, each on a new connection (any worker)."""
    seen = set()
    for _ in range(count):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/api/version")
        seen.add(conn.getresponse().read().decode())
        conn.close()
    return seen


def wait_for(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.25)
    return check()


def test_serve_with_two_workers_serves_one_published_version(tmp_path: Path) -> None:
    """``serve --workers 2``: gunicorn's master and two workers below the command, every
    connection sees the one version the command publishes, a change reaches all of them
    within an interval and a check, and stopping the command stops every worker."""
    url = hand_built_database(tmp_path)
    with serving(tmp_path, url, "--workers", "2", GRIDWATCH_OPEN_WALL="true",
                 GRIDWATCH_REFRESH_SECONDS="2") as (port, pid):
        assert wait_for(lambda: len(children(pid)) == 3, 30)  # gunicorn's master, 2 workers
        below = children(pid)
        assert wait_for(lambda: len(first := stamps(port, 20)) == 1 and not
                        first.pop().startswith("none"), 30)
        before = stamps(port, 20)
        engine = create_engine(url)
        with engine.begin() as conn:  # case 24 is handled: it leaves the map's open cases
            conn.execute(text("UPDATE cases SET status = :s, handled_at = :at "
                              "WHERE external_id = 'HB-024'"),
                         {"s": STATUS_VERIFYING, "at": NOW})
        engine.dispose()
        assert wait_for(lambda: (now := stamps(port, 20)) != before and len(now) == 1, 15)
    assert wait_for(lambda: not any(Path(f"/proc/{p}").exists() for p in below), 30)
