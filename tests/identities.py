"""Who a test app's requests come from, until the real login hook sets it.

``install_identity`` adds a ``before_request`` that sets ``flask.g.identity``, as the login hook
does once per request; downstream code reads only ``current_identity()``, so swapping this for
the real hook (a session cookie of a test user) changes no test that uses it.
"""

from __future__ import annotations

from dash import Dash
from flask import Flask, g

from queries.scope import Scope
from security.identity import ROLE_LEADER, Identity

LEADER = Identity("leader", ROLE_LEADER, Scope.everything(), "领导")


def install_identity(server: Flask, identity: Identity) -> None:
    """Make every request of ``server`` come from ``identity``."""
    server.before_request(lambda: setattr(g, "identity", identity))


def as_leader(app: Dash) -> Flask:
    """Return the app's server with every request from a leader (the browser tests' caller)."""
    install_identity(app.server, LEADER)
    return app.server
