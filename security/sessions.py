"""Who is calling: the login hook, the login/logout pages, kiosk tokens and CSRF.

One ``before_request`` hook sets ``flask.g.identity`` for every request, from (in order) the
signed session cookie of a logged-in user, a kiosk token cookie, or — on the wall pages under
``gridwatch demo`` (``GRIDWATCH_OPEN_WALL``) — an anonymous caller who sees everything.

Paths fall in four kinds:

* static (``/assets/``, Dash's component bundles, the font): anyone;
* public (``/map`` and its routes, ``/healthz``, ``/login``, ``/logout``): anyone;
* wall (the pages the /present carousel can show, /present itself, and the Dash and map-data
  endpoints they poll): a user, a kiosk token, or the open demo wall;
* everything else (the desk, exports, /audit): a logged-in user only.

Dash callbacks share one endpoint, so a callback that changes state or shows case detail
checks ``current_identity().logged_in`` (or its role) itself; publishing does.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, g, redirect, request, session
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.wrappers import Response as BaseResponse

from dashboard import pages
from queries import accounts
from queries.scope import Scope
from security.identity import ANONYMOUS, ROLE_ANONYMOUS, ROLE_LEADER, ROLE_SCREEN, Identity
from settings import Settings
from snapshot.jobs import Repeating, repeat_in_thread

log = logging.getLogger("gridwatch.auth")

CSRF_COOKIE = "_csrf_token"   # the name dash-renderer reads and sends back as X-CSRFToken
CSRF_HEADER = "X-CSRFToken"
KIOSK_COOKIE = "gridwatch_kiosk"
TOKEN_CACHE_SECONDS = 5.0     # a revoked token stops within this long (≤ one wall poll)

STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/fonts/", "/_favicon.ico")
PUBLIC_PATHS = ("/login", "/logout", "/map", "/healthz")
PUBLIC_PREFIXES = ("/api/places",)
WALL_DATA = ("/_dash-layout", "/_dash-dependencies", "/_dash-update-component", "/_reload-hash",
             "/api/open-cases.geojson", "/api/open-density.geojson", "/api/boundaries.geojson",
             "/api/areas.geojson", "/api/version")
# POSTs exempt from session CSRF: the public map's citizen report (rate-limited, no login; the
# Origin check still applies).
CSRF_EXEMPT_PREFIXES = ("/api/places/",)


def wall_pages() -> tuple[str, ...]:
    """Return the wall pages' paths: what /present can show, plus /present."""
    paths: list[str] = []
    for page in pages.PAGES:
        if page.presentable or page.name == "present":
            paths.extend((page.path, *page.aliases))
    return tuple(paths)


def path_kind(path: str) -> str:
    """Return "static", "public", "wall" or "private" for a request path."""
    if path.startswith(STATIC_PREFIXES):
        return "static"
    if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
        return "public"
    bare = path.rstrip("/") or "/"
    if bare in wall_pages() or path in WALL_DATA:
        return "wall"
    return "private"


@dataclass
class TokenCache:
    """The live kiosk tokens, read all at once at most every ``seconds`` per worker.

    A wall polls every few seconds and every poll carries its token: one statement per
    interval for every token keeps the database's load the same for 1 or 200 walls (checking
    each token on its own cost a statement per wall per poll). One thread reads while the
    others use the last set; an unknown secret costs no statement.

    While the database cannot answer, the tokens live at the last read keep their answer (the
    read is retried every ``seconds``): a wall keeps polling the snapshot it has and shows it
    stale instead of every poll failing. A token not in that set is not let in: the database's
    error is raised (a 503) until a read works again.
    """

    sessions: sessionmaker[Session]
    clock: Callable[[], float] = time.monotonic
    seconds: float = TOKEN_CACHE_SECONDS
    _live: dict[str, str] | None = None  # token hash → name
    _read_at: float | None = None
    _error: SQLAlchemyError | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def name(self, secret: str) -> str | None:
        """Return the token's name while it is live, else None."""
        if not secret:
            return None
        self._read()
        live = self._live or {}
        name = live.get(accounts.token_hash(secret))
        if name is None and self._error is not None:
            raise self._error
        return name

    def keep_reading(self) -> Repeating:
        """Read the tokens every ``seconds`` from a thread of this worker, polled or not (as
        ``SharedSnapshots.keep_checking``): otherwise the reads grew with the workers the walls'
        polls happened to reach (2.00x from 1 wall to 200 with two workers)."""
        return repeat_in_thread(self._read, self.seconds, "gridwatch-token-read")

    def _due(self) -> bool:
        return self._read_at is None or self.clock() - self._read_at >= self.seconds

    def _read(self) -> None:
        if not self._due() or not self._lock.acquire(blocking=self._live is None):
            return
        try:
            if not self._due():
                return
            try:
                with self.sessions() as db:
                    self._live, self._error = accounts.live_tokens(db), None
            except SQLAlchemyError as exc:
                log.debug("kiosk tokens unreadable, keeping the last set", exc_info=True)
                self._error = exc
            self._read_at = self.clock()
        finally:
            self._lock.release()


@dataclass
class AccountCache:
    """The account behind a session cookie, read on every request (a disabled account's
    session ends at its next one).

    While the database cannot answer, an account read before keeps its last answer, as a kiosk
    token does (``TokenCache``): a leader watching the wall keeps the stale snapshot and its
    badge instead of every poll failing. An account never read is not let in.
    """

    sessions: sessionmaker[Session]
    _last: dict[str, accounts.Account | None] = field(default_factory=dict)

    def get(self, username: str) -> accounts.Account | None:
        try:
            with self.sessions() as db:
                account = accounts.get_account(db, username)
        except SQLAlchemyError:
            if username not in self._last:
                raise
            log.debug("account check failed, keeping its last answer", exc_info=True)
            return self._last[username]
        if len(self._last) > 1000:
            self._last.clear()
        self._last[username] = account
        return account


def _same_origin() -> bool:
    """True unless Origin (or, lacking it, Referer) names another host."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null":
        return source is None
    return urlsplit(source).netloc == request.host


def _csrf_ok() -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token", "")
    return bool(cookie) and hmac.compare_digest(cookie, sent)


def register(server: Flask, sessions: sessionmaker[Session], settings: Settings, *,
             clock: Callable[[], float] = time.time,
             now: Callable[[], datetime] | None = None,
             writes: sessionmaker[Session] | None = None) -> TokenCache:
    """Install the hook, CSRF, the login/logout/audit pages; ``clock`` is epoch seconds (the
    idle timeout), ``now`` the city time stamped on audit entries. Logins and audit entries
    are written through ``writes`` (``sessions`` when None); every request's identity is read
    through ``sessions``."""
    writer = writes or sessions
    city_now = now or settings.now_live
    idle = settings.idle_minutes * 60
    tokens = TokenCache(sessions)
    server.config["GRIDWATCH_TOKENS"] = tokens
    known = AccountCache(sessions)
    server.config["GRIDWATCH_ACCOUNTS"] = known
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                         SESSION_COOKIE_SECURE=settings.https)

    def secure() -> bool:
        return settings.https or request.is_secure

    def refuse() -> BaseResponse:
        """Send a page GET to the login form; answer anything else 401 JSON."""
        if request.method == "GET" and request.path not in WALL_DATA:
            return redirect("/login?" + urlencode({"next": request.full_path.rstrip("?")}))
        return Response('{"error": "login required"}', 401, mimetype="application/json")

    def from_session() -> Identity | None:
        username = session.get("user")
        if not username:
            return None
        seen = float(session.get("seen", 0))
        if clock() - seen > idle:
            session.clear()
            return None
        account = known.get(username)
        if account is None or account.disabled:
            session.clear()
            return None
        session["seen"] = clock()
        return Identity(account.username, account.role, account.scope, account.display_name)

    @server.before_request
    def _identify() -> BaseResponse | None:
        kind = path_kind(request.path)
        g.identity = ANONYMOUS
        if request.method == "POST" and not _same_origin():
            return Response('{"error": "cross-origin"}', 403, mimetype="application/json")
        if kind == "static":
            return None
        identity = from_session()
        secret = request.args.get("kiosk") if request.method == "GET" else None
        if secret is not None and identity is None:
            name = tokens.name(secret)
            if name is None:
                return Response("kiosk token refused", 403, mimetype="text/plain")
            args = {k: v for k, v in request.args.items() if k != "kiosk"}
            resp = redirect(request.path + ("?" + urlencode(args) if args else ""))
            resp.set_cookie(KIOSK_COOKIE, secret, httponly=True, samesite="Lax",
                            secure=secure(), max_age=365 * 86400)
            return resp
        if identity is None and request.cookies.get(KIOSK_COOKIE):
            name = tokens.name(request.cookies[KIOSK_COOKIE])
            if name is None:
                if kind == "public":
                    return None
                return Response('{"error": "kiosk token revoked"}', 403,
                                mimetype="application/json")
            identity = Identity(f"token:{name}", ROLE_SCREEN, Scope.everything(), name)
            if kind == "private":
                return Response('{"error": "not a wall page"}', 403, mimetype="application/json")
        if identity is None and kind == "wall" and settings.open_wall:
            identity = Identity("", ROLE_ANONYMOUS, Scope.everything())
        if identity is not None:
            g.identity = identity
        if request.method == "POST" and not request.path.startswith(CSRF_EXEMPT_PREFIXES) \
                and (session.get("user") or request.path == "/login"
                     or request.cookies.get(KIOSK_COOKIE)) and not _csrf_ok():
            return Response('{"error": "csrf"}', 403, mimetype="application/json")
        if kind in ("public",) or identity is not None:
            return None
        return refuse()

    @server.after_request
    def _csrf_cookie(resp: Response) -> Response:
        already = any(h.startswith(CSRF_COOKIE + "=") for h in resp.headers.getlist("Set-Cookie"))
        if not request.cookies.get(CSRF_COOKIE) and not already \
                and not request.path.startswith(STATIC_PREFIXES):
            resp.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(32), httponly=False,
                            samesite="Lax", secure=secure())
        return resp

    def audit(actor: str, action: str, target: str = "", detail: str = "") -> None:
        with writer() as db:
            accounts.audit(db, actor, action, target, detail, now=city_now())
            db.commit()

    @server.get("/login")
    def login_page() -> Response:
        return _login_html(request.args.get("lang"), request.args.get("next", ""), "")

    @server.post("/login")
    def login_post() -> BaseResponse:
        username = request.form.get("username", "").strip()[:64]
        password = request.form.get("password", "")[:1024]
        lang = request.form.get("lang")
        with writer() as db:
            result = accounts.verify_login(db, username, password, now=city_now())
            db.commit()
        if result.account is None:
            log.warning("login refused for %r from %s: %s", username, request.remote_addr,
                        result.reason)
            audit(username or "?", "login-refused", username, result.reason)
            time.sleep(accounts.backoff_seconds(result.failures))
            return _login_html(lang, request.form.get("next", ""), "error", status=401)
        session.clear()
        session["user"] = result.account.username
        session["seen"] = clock()
        log.info("login %r from %s", username, request.remote_addr)
        audit(username, "login", username)
        resp = redirect(_safe_next(request.form.get("next", "")))
        resp.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(32), httponly=False,
                        samesite="Lax", secure=secure())
        return resp

    @server.post("/logout")
    def logout() -> BaseResponse:
        username = session.get("user", "")
        session.clear()
        if username:
            audit(username, "logout", username)
        return redirect("/login")

    @server.get("/audit")
    def audit_page() -> Response:
        if g.identity.role != ROLE_LEADER:
            return Response("leaders only", 403, mimetype="text/plain")
        with sessions() as db:
            rows = accounts.read_audit(db, 200)
        body = "".join(
            f"<tr><td>{r.at:%Y-%m-%d %H:%M:%S}</td><td>{escape(r.actor)}</td>"
            f"<td>{escape(r.action)}</td><td>{escape(r.target)}</td><td>{escape(r.detail)}</td>"
            f"</tr>" for r in rows)
        html = ('<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
                '<title>审计日志 · Audit log</title><link rel="stylesheet" '
                'href="/assets/login.css"></head><body class="audit-body"><h1>审计日志 Audit log'
                '</h1><table class="audit-table"><thead><tr><th>时间 At</th><th>操作人 Actor</th>'
                '<th>操作 Action</th><th>对象 Target</th><th>详情 Detail</th></tr></thead>'
                f'<tbody>{body}</tbody></table></body></html>')
        resp = Response(html, 200, mimetype="text/html")
        resp.cache_control.no_store = True
        return resp

    return tokens


def _safe_next(target: str) -> str:
    """Return a same-site path to go to after logging in (never another host)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


_TEXT = {
    "zh": {"title": "登录 · Gridwatch 城市运行指挥平台", "head": "城市运行指挥平台",
           "user": "用户名", "password": "密码", "submit": "登录",
           "error": "用户名或密码错误，或账号已锁定。请稍后重试或联系管理员。",
           "other": "English", "other_lang": "en"},
    "en": {"title": "Log in · Gridwatch city operations", "head": "City operations center",
           "user": "Username", "password": "Password", "submit": "Log in",
           "error": "Wrong username or password, or the account is locked. Try again later "
                    "or ask an administrator.",
           "other": "中文", "other_lang": "zh"},
}


def _login_html(lang: str | None, next_path: str, message: str, *, status: int = 200) -> Response:
    """Render the login form (server-side HTML; no script, no outside requests)."""
    words = _TEXT["en" if lang == "en" else "zh"]
    code = "en" if lang == "en" else "zh-CN"
    error = f'<p class="login-error" role="alert">{escape(words["error"])}</p>' if message else ""
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    other = "/login?" + urlencode({"lang": words["other_lang"], "next": next_path})
    html = f"""<!doctype html>
<html lang="{code}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(words["title"])}</title>
<link rel="stylesheet" href="/assets/fonts.css"><link rel="stylesheet" href="/assets/login.css">
</head><body class="login-body"><main class="login-card">
<h1 class="login-brand">Gridwatch</h1><p class="login-head">{escape(words["head"])}</p>
{error}
<form method="post" action="/login" class="login-form">
<input type="hidden" name="csrf_token" value="{escape(token)}">
<input type="hidden" name="next" value="{escape(_safe_next(next_path))}">
<input type="hidden" name="lang" value="{'en' if lang == 'en' else 'zh'}">
<label for="username">{escape(words["user"])}</label>
<input id="username" name="username" autocomplete="username" required autofocus maxlength="64">
<label for="password">{escape(words["password"])}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">{escape(words["submit"])}</button>
</form>
<a class="login-lang" href="{escape(other)}">{escape(words["other"])}</a>
</main></body></html>"""
    resp = Response(html, status, mimetype="text/html")
    resp.cache_control.no_store = True
    if not request.cookies.get(CSRF_COOKIE):
        resp.set_cookie(CSRF_COOKIE, token, httponly=False, samesite="Lax",
                        secure=request.is_secure)
    return resp
