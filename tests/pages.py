"""Build a page request the way the router does, without a running app or a database."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from dashboard import pages
from dashboard.routing import PageRequest
from settings import Settings
from snapshot.store import Snapshot


def page_request(path: str, query: Mapping[str, str] | None = None, *, lang: str = "zh",
                 settings: Settings | None = None, now: datetime | None = None,
                 snapshot: Snapshot | None = None) -> PageRequest:
    """Return a request for ``path`` whose snapshot store holds ``snapshot`` (or nothing)."""
    return PageRequest(path=path, query=dict(query or {}), lang=lang,
                       settings=settings or Settings(), now=now or datetime(2026, 11, 20, 10),
                       nav=pages.nav_links(), snapshot=lambda _code: snapshot,
                       area_status=lambda _code: "ready" if snapshot else "unknown",
                       presentable=pages.presentable)
