"""``gridwatch serve`` runs a production server: waitress with keep-alive and its thread count.

A wall polls every few seconds; over one kept-alive connection a poll costs no new TCP
handshake. The test starts the real command in a subprocess and sends two requests over one
``http.client`` connection.
"""

from __future__ import annotations

import http.client
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import create_app, create_context
from cli import production_server
from queries import accounts
from queries.engine import init_db
from settings import Settings
from tests.handbuilt import build_handbuilt

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[int]:
    """Run ``gridwatch serve`` on the hand-built city (one user, a real key); yield its port."""
    url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    ctx = create_context(Settings(data_dir=tmp_path, database_url=url))
    init_db(ctx.engine)
    with ctx.sessions() as session:
        build_handbuilt(session)
        accounts.add_user(session, "chief", accounts.generate_password(), "leader",
                          now=ctx.settings.now_live())
        session.commit()
    ctx.engine.dispose()
    port = free_port()
    env = {**os.environ, "GRIDWATCH_DATA_DIR": str(tmp_path), "GRIDWATCH_DATABASE_URL": url,
           "GRIDWATCH_SECRET_KEY": "k" * 64, "GRIDWATCH_RUN_SCHEDULER": "false",
           "GRIDWATCH_THREADS": "2"}
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        line = ""
        while "serving on" not in line:
            left = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([proc.stdout], [], [], left)
            assert ready and proc.poll() is None, f"serve did not start: {line}"
            line = proc.stdout.readline()
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


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
