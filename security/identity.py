"""The caller of one request, as every callback and route reads it.

The authentication hook (a Flask ``before_request``) resolves the session cookie or the kiosk
token once per request and stores an ``Identity`` on ``flask.g``; everything downstream asks
``current_identity()`` and passes ``identity.scope`` to ``queries/``. Nothing downstream reads
cookies or tokens itself, so there is one place that decides who someone is.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, has_request_context

from queries.scope import Scope

ROLE_LEADER = "leader"          # 领导: everything, and publishing a month
ROLE_DEPARTMENT = "department"  # 部门负责人: their department's cases
ROLE_AREA = "area"              # 街道 / 网格长: their area's cases
ROLE_SCREEN = "screen"          # 大屏: a kiosk token, read-only wall pages
ROLE_ANONYMOUS = "anonymous"    # nobody: the wall under `gridwatch demo` only
ROLES = (ROLE_LEADER, ROLE_DEPARTMENT, ROLE_AREA, ROLE_SCREEN)


@dataclass(frozen=True)
class Identity:
    """One caller: who (``username``; ``token:<name>`` for a kiosk), their role and scope."""

    username: str
    role: str
    scope: Scope
    display_name: str = ""

    @property
    def logged_in(self) -> bool:
        """True for a user with a session (not a kiosk token, not anonymous)."""
        return self.role in (ROLE_LEADER, ROLE_DEPARTMENT, ROLE_AREA)


ANONYMOUS = Identity(username="", role=ROLE_ANONYMOUS, scope=Scope.nothing())


def current_identity() -> Identity:
    """Return this request's caller (anonymous outside a request or before the hook ran)."""
    if not has_request_context():
        return ANONYMOUS
    identity = g.get("identity")
    return identity if isinstance(identity, Identity) else ANONYMOUS
