"""The wall's unchanged poll costs ≤ 100 B of body each way: one stamp up, nothing down.

``/api/version?area=A&v=STAMP`` answers 200 with an empty body while STAMP is still the area's
stamp (the snapshot's version, plus ``-stale`` while stale), else 200 with the new stamp; the
browser then runs the Dash refresh (assets/screen.js). Empty is not a 204: waitress closes
the connection after every 204, and a wall polls over one kept-alive connection. A revoked
kiosk token is refused here as on every wall request, so the banner still shows within one
poll.

What the wire test bounds at 100 B: what the app puts in the request (its URL: the script
sets no header and sends no body) and the response body. The headers the browser adds by
itself (Host, User-Agent, Accept*, Cookie, Sec-*, Referer) and those every answer of the app
carries (the security headers, Date, Server) are bounded separately; bench/bench_poll.py
measures them as Chromium sends them.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import Context, create_app, create_context
from cli import production_server
from queries import accounts
from queries.engine import init_db
from security.sessions import KIOSK_COOKIE, AccountCache, TokenCache
from settings import Settings
from snapshot.store import DISTRICT
from tests.handbuilt import build_handbuilt
from tests.identities import LEADER, logged_in_client
from tests.test_outage import DownSessions

NOW = datetime(2026, 5, 12, 10, 30)
LIMIT = 100


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    settings = Settings(
        data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'p.sqlite3'}", open_wall=True
    )
    context = create_context(settings)
    init_db(context.engine)
    with context.sessions() as session:
        build_handbuilt(session)
        session.commit()
    context.store.refresh()
    yield context
    context.engine.dispose()


@pytest.fixture
def client(ctx: Context) -> FlaskClient:
    return create_app(context=ctx).server.test_client()


def test_an_unchanged_poll_is_an_empty_answer(ctx: Context, client: FlaskClient) -> None:
    first = client.get("/api/version")
    stamp = first.get_data(as_text=True)
    snapshot = ctx.store.get(DISTRICT)
    assert first.status_code == 200 and snapshot is not None and stamp == snapshot.version
    again = client.get(f"/api/version?v={stamp}")
    assert again.status_code == 200 and again.data == b"" and again.content_length == 0
    assert again.headers["Cache-Control"] == "no-store"
    # The 更新于 label's time, written as the Dash refresh writes it.
    assert re.fullmatch(r"\d\d:\d\d:\d\d", again.headers["Gridwatch-Updated"])
    assert client.get("/api/version?v=older").get_data(as_text=True) == stamp


def test_a_stale_snapshot_changes_the_stamp(
    ctx: Context, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stale badge needs a refresh even while the content stands still."""
    stamp = client.get("/api/version").get_data(as_text=True)
    later = time.monotonic() + 3 * ctx.settings.refresh_seconds
    monkeypatch.setattr("snapshot.store.time.monotonic", lambda: later)
    stale = client.get(f"/api/version?v={stamp}")
    assert stale.status_code == 200 and stale.get_data(as_text=True) == f"{stamp}-stale"
    monkeypatch.undo()
    assert client.get(f"/api/version?v={stamp}").data == b""


def test_an_area_without_a_snapshot_has_its_own_stamp(client: FlaskClient) -> None:
    resp = client.get("/api/version?area=no-such-area")
    assert resp.status_code == 200 and resp.get_data(as_text=True) == "none-stale"


def kiosk_wall(tmp_path: Path, ctx: Context) -> tuple[Context, Flask, FlaskClient]:
    """The app without the open wall, and a client holding the kiosk token "hall"."""
    closed = create_context(Settings(data_dir=tmp_path, database_url=ctx.settings.database_url))
    server = create_app(context=closed).server
    with closed.sessions() as session:
        secret = accounts.add_token(session, "hall", now=NOW)
        session.commit()
    client = server.test_client()
    client.set_cookie(KIOSK_COOKIE, secret)
    return closed, server, client


def test_a_revoked_kiosk_token_is_refused_at_the_next_poll(tmp_path: Path, ctx: Context) -> None:
    closed, server, client = kiosk_wall(tmp_path, ctx)
    assert client.get("/api/version").status_code == 200
    with closed.sessions() as session:
        accounts.revoke_token(session, "hall", now=NOW)
        session.commit()
    tokens: TokenCache = server.config["GRIDWATCH_TOKENS"]
    tokens.seconds = 0  # the cache's few seconds are shorter than a poll; here: none
    refused = client.get("/api/version")
    assert refused.status_code == 403 and b"kiosk token revoked" in refused.data
    closed.engine.dispose()


def test_in_an_outage_a_known_token_keeps_polling_and_a_new_one_gets_a_503(
        tmp_path: Path, ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    """A wall whose token was checked keeps its stale snapshot and its badge while the database
    is down (each poll failing would keep the ``-stale`` stamp from it); a token never seen is
    not let in, and the answer is a 503 that says why, not a 500."""
    closed, server, client = kiosk_wall(tmp_path, ctx)
    closed.store.refresh()
    stamp = client.get("/api/version").get_data(as_text=True)
    tokens: TokenCache = server.config["GRIDWATCH_TOKENS"]
    tokens.seconds = 0  # every poll asks the database
    tokens.sessions = DownSessions(closed.sessions)  # type: ignore[assignment]
    later = time.monotonic() + 3 * closed.settings.refresh_seconds
    monkeypatch.setattr("snapshot.store.time.monotonic", lambda: later)
    assert client.get(f"/api/version?v={stamp}").get_data(as_text=True) == f"{stamp}-stale"
    stranger = server.test_client()
    stranger.set_cookie(KIOSK_COOKIE, "never-seen")
    refused = stranger.get("/api/version")
    assert refused.status_code == 503 and "unavailable" in refused.get_data(as_text=True)
    assert refused.headers["Retry-After"] == str(closed.settings.refresh_seconds)
    closed.engine.dispose()


def test_in_an_outage_a_logged_in_leader_keeps_polling_too(
        tmp_path: Path, ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same for a leader's browser on the wall: the account read before stands while the
    database is down, so the poll still brings the ``-stale`` stamp."""
    closed = create_context(Settings(data_dir=tmp_path, database_url=ctx.settings.database_url))
    closed.store.refresh()
    app = create_app(context=closed)
    client = logged_in_client(app, LEADER)
    stamp = client.get("/api/version").get_data(as_text=True)
    known: AccountCache = app.server.config["GRIDWATCH_ACCOUNTS"]
    known.sessions = DownSessions(closed.sessions)  # type: ignore[assignment]
    later = time.monotonic() + 3 * closed.settings.refresh_seconds
    monkeypatch.setattr("snapshot.store.time.monotonic", lambda: later)
    polled = client.get(f"/api/version?v={stamp}")
    assert (polled.status_code, polled.get_data(as_text=True)) == (200, f"{stamp}-stale")
    closed.engine.dispose()


def answer(sock: socket.socket) -> tuple[bytes, bytes]:
    """Read one answer (head and body, by its Content-Length) from a kept-alive connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    assert length is not None, "an answer without Content-Length ends its connection"
    while len(body) < int(length[1]):
        body += sock.recv(65536)
    return head, body


def test_unchanged_polls_are_empty_and_share_one_kept_alive_connection(
    ctx: Context, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, port=free_port(), open_wall=True)
    server = production_server(create_app(context=ctx).server, settings)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        stamp = ctx.store.stamp(DISTRICT)
        line = f"GET /api/version?area=&v={stamp} HTTP/1.1\r\n".encode()
        # What Chromium adds by itself, Accept-Encoding included: an empty answer must not be
        # compressed into a non-empty one.
        browser = (
            f"Host: 127.0.0.1:{settings.port}\r\nAccept: */*\r\n"
            "Accept-Encoding: gzip, deflate, br, zstd\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", settings.port), timeout=30) as sock:
            for _ in range(3):
                sock.sendall(line + browser)
                head, body = answer(sock)
                assert head.startswith(b"HTTP/1.1 200")
                assert b"connection: close" not in head.lower()
                assert b"content-encoding" not in head.lower()
                assert body == b""
                assert len(head) < 1024  # every header, the security headers too
        assert len(line) <= LIMIT  # the app sends nothing but the request line
    finally:
        server.close()
        server.task_dispatcher.shutdown()
        thread.join(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
