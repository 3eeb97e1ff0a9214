"""What a page receives and what the registry holds: the types the router and pages share.

Kept apart from ``dashboard.pages`` (the registry itself) so that shared UI such as the nav bar
can read a request's links without importing every page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from settings import Settings
from snapshot.store import AreaStatus, Snapshot


def query_of(search: str | None) -> dict[str, str]:
    """Return a query string's parameters, the last value of each (URLs are hand-edited)."""
    return {k: v[-1] for k, v in parse_qs((search or "").lstrip("?")).items()}


@dataclass(frozen=True)
class NavLink:
    """One entry of the top bar: a page's path and the i18n key of its label."""

    path: str
    label: str


@dataclass(frozen=True)
class PageRequest:
    """One page load: the URL's parameters, the reader's language, the clock and the data.

    ``snapshot`` and ``area_status`` read the scheduled snapshot store (never the database), so a
    layout function stays free of sessions and SQL.
    """

    path: str
    query: Mapping[str, str]
    lang: str
    settings: Settings
    now: datetime
    nav: tuple[NavLink, ...]
    snapshot: Callable[[str], Snapshot | None]
    area_status: Callable[[str], AreaStatus]
    presentable: Callable[[str], Page | None]


@dataclass(frozen=True)
class Retry:
    """A page that could not show its data yet: the router shows ``content`` and asks again."""

    content: Any


Layout = Callable[[PageRequest], Any]


@dataclass(frozen=True)
class Page:
    """A registered page: where it lives, how it is drawn, and where it is listed.

    ``name`` is also its token in ``/present?pages=…``; ``presentable`` pages may be shown by
    the meeting carousel; ``in_nav`` pages have a link in the top bar; ``grid`` pages draw a
    dash-ag-grid table (only their index loads its script: ``dashboard.bundles``); ``lazy``
    names the chunks its first screen needs and ``fetches`` the data URLs its layout's
    components fetch, both preloaded by its index.
    """

    name: str
    path: str
    layout: Layout
    nav_label: str
    in_nav: bool = True
    presentable: bool = True
    aliases: tuple[str, ...] = ()
    grid: bool = False
    # Scripts Dash loads only once a component first renders (``dashboard.bundles.LAZY``), to
    # fetch beside the page's own: the wall's first clusters waited for its map's chunk.
    lazy: tuple[str, ...] = ()
    # The data URLs the page's components fetch once its layout renders (the wall's GeoJSON,
    # whose version the snapshot knows when the index is served), to fetch with the scripts.
    fetches: Callable[[PageRequest], tuple[str, ...]] | None = None

    @property
    def paths(self) -> tuple[str, ...]:
        """Every path that opens this page."""
        return (self.path, *self.aliases)
