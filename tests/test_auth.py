"""Accounts, sessions, kiosk tokens, CSRF and the security headers, through the real app."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from app import create_app, create_context
from queries import accounts
from queries.engine import init_db
from security import sessions as login
from settings import Settings
from tests.handbuilt import build_handbuilt

NOW = datetime(2026, 11, 20, 10, 0)
PASSWORD = "correct horse battery"


class Clock:
    """An epoch clock the test moves by hand (the idle timeout reads it)."""

    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    real = login.register
    monkeypatch.setattr(login.time, "sleep", lambda _s: None)  # the back-off, not waited here

    def with_clock(*args: object, **kwargs: object) -> login.TokenCache:
        kwargs["clock"] = fake
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(login, "register", with_clock)
    return fake


@pytest.fixture
def db(tmp_path: Path, database_url: str) -> Iterator[tuple[Settings, sessionmaker[Session]]]:
    settings = Settings(data_dir=tmp_path, database_url=database_url,
                        secret_key="test-secret")
    ctx = create_context(settings)
    init_db(ctx.engine)
    with ctx.sessions() as session:
        build_handbuilt(session)
        accounts.add_user(session, "boss", PASSWORD, "leader", now=NOW, display_name="王局长")
        session.commit()
    yield settings, ctx.sessions
    ctx.engine.dispose()


@pytest.fixture
def client(db: tuple[Settings, sessionmaker[Session]], clock: Clock) -> FlaskClient:
    settings, _ = db
    return create_app(settings).server.test_client()


def csrf(client: FlaskClient) -> str:
    """Open the login page and return the CSRF token its form carries (= the cookie)."""
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    cookie = client.get_cookie(login.CSRF_COOKIE)
    assert cookie is not None and cookie.value == found.group(1)
    return found.group(1)


def log_in(client: FlaskClient, username: str = "boss", password: str = PASSWORD,
           next_path: str = "/screen") -> int:
    token = csrf(client)
    resp = client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token, "next": next_path})
    return resp.status_code


def callback(client: FlaskClient, header: str | None) -> int:
    headers = {login.CSRF_HEADER: header} if header is not None else {}
    return client.post("/_dash-update-component", json={}, headers=headers).status_code


def test_anonymous_wall_page_redirects_to_login_and_callbacks_get_401(client: FlaskClient) -> None:
    resp = client.get("/grids?area=x")
    assert resp.status_code == 302 and resp.headers["Location"] == "/login?next=%2Fgrids%3Farea%3Dx"
    assert client.post("/_dash-update-component", json={}).status_code == 401
    assert client.get("/api/open-cases.geojson").status_code == 401
    assert client.get("/map").status_code == 200  # the public map stays public
    assert client.get("/login").status_code == 200


def test_login_then_logout(client: FlaskClient) -> None:
    assert log_in(client) == 302
    assert client.get("/screen").status_code == 200
    assert client.post("/logout", data={"csrf_token": client.get_cookie(
        login.CSRF_COOKIE).value}).status_code == 302  # type: ignore[union-attr]
    assert client.get("/screen").status_code == 302


def test_login_without_csrf_token_is_refused(client: FlaskClient) -> None:
    csrf(client)
    resp = client.post("/login", data={"username": "boss", "password": PASSWORD,
                                       "csrf_token": "forged"})
    assert resp.status_code == 403


def test_next_never_leaves_the_site(client: FlaskClient) -> None:
    token = csrf(client)
    resp = client.post("/login", data={"username": "boss", "password": PASSWORD,
                                       "csrf_token": token, "next": "//evil.example/x"})
    assert resp.headers["Location"] == "/"


def test_wrong_password_is_generic_and_five_lock_for_15_minutes(
        client: FlaskClient, db: tuple[Settings, sessionmaker[Session]]) -> None:
    for _ in range(5):
        assert log_in(client, password="wrong password!") == 401
    page = client.get("/login")  # the same message whether the name exists or not
    assert log_in(client, username="nobody", password="x" * 12) == 401
    assert log_in(client) == 401  # right password, but locked
    _, sessions = db
    with sessions() as session:
        account = accounts.get_account(session, "boss")
        assert account is not None and account.locked_until is not None

        rows = accounts.read_audit(session)
    assert [r.action for r in rows].count("login-refused") == 7
    assert page.status_code == 200


def test_verify_login_locks_then_unlocks_after_15_minutes(
        db: tuple[Settings, sessionmaker[Session]]) -> None:
    _, sessions = db
    with sessions() as session:
        results = [accounts.verify_login(session, "boss", "nope", now=NOW) for _ in range(5)]
        assert [r.failures for r in results] == [1, 2, 3, 4, 5]
        assert results[-1].reason == "wrong password; locked"
        assert accounts.verify_login(session, "boss", PASSWORD,
                                     now=NOW + timedelta(minutes=14, seconds=59)).reason == "locked"
        ok = accounts.verify_login(session, "boss", PASSWORD, now=NOW + timedelta(minutes=15))
        assert ok.account is not None and ok.account.display_name == "王局长"


def test_backoff_doubles_from_a_quarter_second_to_four() -> None:
    assert [accounts.backoff_seconds(n) for n in range(0, 7)] == [0, 0.25, 0.5, 1, 2, 4, 4]


def test_disabled_user_cannot_log_in_and_a_live_session_ends(
        client: FlaskClient, db: tuple[Settings, sessionmaker[Session]]) -> None:
    assert log_in(client) == 302
    _, sessions = db
    with sessions() as session:
        accounts.disable_user(session, "boss")
        session.commit()
    assert client.get("/screen").status_code == 302
    assert log_in(client) == 401


def test_idle_timeout_ends_the_session(client: FlaskClient, clock: Clock) -> None:
    assert log_in(client) == 302
    clock.t += 29 * 60
    assert client.get("/screen").status_code == 200  # each request renews it
    clock.t += 29 * 60
    assert client.get("/screen").status_code == 200
    clock.t += 30 * 60 + 1
    assert client.get("/screen").status_code == 302


def test_callback_post_needs_the_csrf_header(client: FlaskClient) -> None:
    assert log_in(client) == 302
    token = client.get_cookie(login.CSRF_COOKIE).value  # type: ignore[union-attr]
    assert callback(client, None) == 403
    assert callback(client, "wrong") == 403
    assert callback(client, token) not in (401, 403)


def test_cross_origin_post_is_refused(client: FlaskClient) -> None:
    resp = client.post("/api/places/1/report", json={"problem": "dirty"},
                       headers={"Origin": "http://evil.example"})
    assert resp.status_code == 403
    same = client.post("/api/places/1/report", json={"problem": "dirty"},
                       headers={"Origin": "http://localhost"})
    assert same.status_code not in (401, 403)  # public, no login, no session CSRF


def test_security_headers_and_size_limits(client: FlaskClient) -> None:
    resp = client.get("/login")
    assert resp.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert client.get("/login?x=" + "a" * 3000).status_code == 414
    big = client.post("/api/places/1/report", data=b"x" * (1024 * 1024 + 1),
                      content_type="application/json")
    assert big.status_code == 413


def test_kiosk_token_opens_only_the_wall_and_stops_when_revoked(
        client: FlaskClient, db: tuple[Settings, sessionmaker[Session]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    _, sessions = db
    with sessions() as session:
        secret = accounts.add_token(session, "hall", now=NOW)
        session.commit()
    first = client.get(f"/screen?kiosk={secret}&lang=en")
    assert first.status_code == 302 and first.headers["Location"] == "/screen?lang=en"
    for path in ("/screen", "/grids", "/rankings", "/present", "/api/open-cases.geojson"):
        assert client.get(path).status_code == 200, path
    assert client.get("/audit").status_code in (403, 404)
    with sessions() as session:
        accounts.revoke_token(session, "hall", now=NOW)
        session.commit()
    # The tokens are read again at most every TOKEN_CACHE_SECONDS; here at every request.
    client.application.config["GRIDWATCH_TOKENS"].seconds = 0
    assert client.get("/screen").status_code == 403
    assert client.post("/_dash-update-component", json={}).status_code == 403
    assert client.get(f"/screen?kiosk={secret}").status_code == 403


def test_publishing_is_refused_to_kiosk_and_anonymous(tmp_path: Path) -> None:
    from callbacks.rankings import RankingsPage
    from queries.scope import Scope
    from security.identity import ANONYMOUS, ROLE_AREA, ROLE_SCREEN, Identity
    from tests.tools import acting_as

    page = RankingsPage(None, Settings(), clock=lambda: NOW)  # type: ignore[arg-type]
    for who in (ANONYMOUS, Identity("token:hall", ROLE_SCREEN, Scope.everything()),
                Identity("s", ROLE_AREA, Scope.area(1))):
        with acting_as(who):
            message, version = page.publish(1, "?month=2026-02", 0)
        assert message.children == "只有领导账号登录后才能发布排名"
        assert version is login_no_update()


def login_no_update() -> object:
    from dash import no_update

    return no_update


def test_open_wall_shows_wall_pages_anonymously_but_nothing_else(
        db: tuple[Settings, sessionmaker[Session]], tmp_path: Path) -> None:
    settings, _ = db
    from dataclasses import replace

    client = create_app(replace(settings, open_wall=True)).server.test_client()
    assert client.get("/screen").status_code == 200
    assert client.get("/api/open-cases.geojson").status_code == 200
    assert client.get("/audit").status_code in (302, 404)


def test_the_watched_set_is_bounded() -> None:
    from snapshot.store import SnapshotStore

    built: list[str] = []

    def builder(code: str, at: datetime) -> object:
        built.append(code)
        raise LookupError(code)

    store = SnapshotStore(builder=builder, refresh_seconds=10, max_areas=2)  # type: ignore[arg-type]
    assert store.watch("a") and store.watch("b") and store.watch("a")
    assert store.watch("c") is False
    assert store.get("c") is None and "c" not in built


def test_serve_refuses_the_dev_key_and_no_user(tmp_path: Path, database_url: str) -> None:
    from click.testing import CliRunner

    from cli import cli

    ctx = create_context(Settings(data_dir=tmp_path, database_url=database_url))
    init_db(ctx.engine)
    with ctx.sessions() as session:
        build_handbuilt(session)
        session.commit()
    with socket.socket() as probe:  # a free port: the refusal comes after the port check
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"GRIDWATCH_DATA_DIR": str(tmp_path), "GRIDWATCH_DATABASE_URL": database_url,
           "GRIDWATCH_PORT": str(port)}
    runner = CliRunner()
    dev = runner.invoke(cli, ["serve"], env=env)
    assert dev.exit_code == 1 and "set GRIDWATCH_SECRET_KEY" in dev.output
    keyed = {**env, "GRIDWATCH_SECRET_KEY": "k" * 64}
    nobody = runner.invoke(cli, ["serve"], env=keyed)
    assert nobody.exit_code == 1
    assert "create a user: gridwatch user add NAME --role leader" in nobody.output
    added = runner.invoke(cli, ["user", "add", "chief", "--role", "leader", "--generate"],
                          env=keyed)
    assert added.exit_code == 0 and "password (shown once): " in added.output
    token = runner.invoke(cli, ["token", "add", "hall"], env=keyed)
    assert "/screen?kiosk=" in token.output
    assert runner.invoke(cli, ["token", "revoke", "hall"], env=keyed).exit_code == 0
    log = runner.invoke(cli, ["audit"], env=keyed).output.splitlines()
    assert [line.split("\t")[1:4] for line in log] == [
        ["cli", "token-revoke", "hall"], ["cli", "token-add", "hall"],
        ["cli", "user-add", "chief"]]
    ctx.engine.dispose()


def test_every_walls_token_costs_one_statement_per_interval(
        db: tuple[Settings, sessionmaker[Session]]) -> None:
    """30 walls polling three times each, plus a stranger: one read of the live tokens, not a
    statement per poll; the next read only after TOKEN_CACHE_SECONDS."""
    _, sessions = db
    with sessions() as session:
        secrets = {f"wall-{i}": accounts.add_token(session, f"wall-{i}", now=NOW)
                   for i in range(30)}
        session.commit()
    statements: list[str] = []
    engine = sessions.kw["bind"]
    listen = event.listens_for(engine, "before_cursor_execute")

    @listen
    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    fake = Clock()
    tokens = login.TokenCache(sessions, clock=fake)
    for _ in range(3):
        for name, secret in secrets.items():
            assert tokens.name(secret) == name
    assert tokens.name("never-issued") is None
    assert len(statements) == 1 and "kiosk_tokens" in statements[0]
    fake.t += login.TOKEN_CACHE_SECONDS
    assert tokens.name(secrets["wall-0"]) == "wall-0"
    assert len(statements) == 2
    event.remove(engine, "before_cursor_execute", count)


def test_a_workers_token_thread_reads_whether_polled_or_not(
        db: tuple[Settings, sessionmaker[Session]]) -> None:
    """The worker's own thread reads the live tokens every interval: a token issued after the
    last poll is known at the next poll without that poll reading anything."""
    _, sessions = db
    tokens = login.TokenCache(sessions, seconds=0.05)
    assert tokens.name("not-yet") is None  # the first read, by the poll
    keeper = tokens.keep_reading()  # every 50 ms: stopped at the end of the test
    assert keeper.thread.daemon
    with sessions() as session:
        secret = accounts.add_token(session, "wall-late", now=NOW)
        session.commit()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and accounts.token_hash(secret) not in (tokens._live or {}):
        time.sleep(0.05)
    keeper.stop()
    assert not keeper.thread.is_alive()
    assert tokens._live is not None and accounts.token_hash(secret) in tokens._live
