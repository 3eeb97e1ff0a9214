"""Which scope a request reads with: the one place callbacks and routes ask.

Pages behind a login read with the caller's own scope. The wall (大屏) is the command center's
own screen: its kiosk token and the open wall of ``gridwatch demo`` (the only place the login
hook lets an anonymous caller in) read the whole city there; a logged-in person who opens the
wall still reads with their own scope, so a department head clicking another department's case
gets a card without details.
"""

from __future__ import annotations

from queries.scope import Scope
from security.identity import ROLE_ANONYMOUS, ROLE_SCREEN, current_identity

WALL_ROLES = (ROLE_SCREEN, ROLE_ANONYMOUS)


def request_scope() -> Scope:
    """Return this request's scope on a page behind a login (nothing for an anonymous caller)."""
    return current_identity().scope


def wall_scope() -> Scope:
    """Return this request's scope on the wall's pages: everything for the wall's own screen."""
    identity = current_identity()
    return Scope.everything() if identity.role in WALL_ROLES else identity.scope
