"""Who a test app's requests come from.

``logged_in_client`` logs a real account in through ``/login`` (the session cookie and CSRF
header a browser carries), for tests of what a role may see. ``install_identity`` adds a
``before_request`` after the login hook that sets ``flask.g.identity`` outright: the browser
tests' apps serve a leader that way on the open wall, where no login form is in the way.
"""

from __future__ import annotations

import re

from dash import Dash
from flask import Flask, g
from flask.testing import FlaskClient

from queries import accounts
from queries.models import Area, Department
from queries.scope import Scope
from security.identity import ROLE_LEADER, Identity
from security.sessions import CSRF_COOKIE

LEADER = Identity("leader", ROLE_LEADER, Scope.everything(), "领导")


def install_identity(server: Flask, identity: Identity) -> None:
    """Make every request of ``server`` come from ``identity``."""
    server.before_request(lambda: setattr(g, "identity", identity))


def as_leader(app: Dash) -> Flask:
    """Return the app's server with every request from a leader (the browser tests' caller)."""
    install_identity(app.server, LEADER)
    return app.server


PASSWORD = "correct horse battery staple"


def logged_in_client(app: Dash, identity: Identity) -> FlaskClient:
    """Create ``identity``'s account in the app's database and log in through ``/login`` as a
    browser does; the client then sends the CSRF header on every POST, as dash-renderer does.

    Department and area scopes name their first department or area; the leader's is the city.
    """
    ctx = app.server.config["GRIDWATCH"]
    with ctx.writes() as session:  # the write connection: the app may read on a read-only role
        department = area = None
        if identity.scope.department_ids:
            department = session.get(Department, min(identity.scope.department_ids)).code
        if identity.scope.area_ids:
            area = session.get(Area, min(identity.scope.area_ids)).code
        accounts.add_user(session, identity.username, PASSWORD, identity.role,
                          now=ctx.settings.now(), display_name=identity.display_name,
                          department=department, area=area)
        session.commit()
    client = app.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None, "the login form carries no CSRF token"
    resp = client.post("/login", data={"username": identity.username, "password": PASSWORD,
                                       "csrf_token": token.group(1), "next": "/screen"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/screen", resp.data
    cookie = client.get_cookie(CSRF_COOKIE)  # the login may have issued a fresh token
    assert cookie is not None
    client.environ_base["HTTP_X_CSRFTOKEN"] = cookie.value
    return client
