"""The page registry: path, layout function, nav label, in nav, presentable.

The router (``callbacks.router``), the nav bar and ``/present`` all read this one list, so
adding a page is one entry here plus the page's own feature folder. Dash's ``use_pages`` keeps
a module-global registry that every ``Dash(...)`` rebinds, which fights the app factory and
tests that build several apps; this tuple is immutable and local.
"""

from __future__ import annotations

from collections.abc import Mapping

from dashboard.case import layout as case
from dashboard.desk import layout as desk
from dashboard.grids import layout as grids
from dashboard.grids.state import PATH as GRIDS_PATH
from dashboard.i18n import pick_language
from dashboard.present import layout as present
from dashboard.quality import layout as quality
from dashboard.quality.layout import PATH as QUALITY_PATH
from dashboard.rankings import layout as rankings
from dashboard.rankings.view import PATH as RANKINGS_PATH
from dashboard.routing import NavLink, Page, PageRequest
from dashboard.screen import layout as screen
from dashboard.sections import layout as sections
from dashboard.volunteers import layout as volunteers
from settings import Settings
from snapshot.store import SnapshotSource

PAGES: tuple[Page, ...] = (
    Page("screen", "/screen", screen.page, "nav_screen", aliases=("/",),
         lazy=("graph", "geojson"), fetches=screen.first_fetches),
    Page("grids", GRIDS_PATH, grids.page, "nav_grids", grid=True),
    Page("rankings", RANKINGS_PATH, rankings.page, "nav_rankings", grid=True),
    Page("quality", QUALITY_PATH, quality.page, "nav_quality"),
    Page("volunteers", volunteers.PATH, volunteers.page, "nav_volunteers"),
    Page("sections", sections.PATH, sections.page, "nav_sections"),
    Page("present", "/present", present.page, "nav_present", in_nav=False, presentable=False,
         grid=True),  # the carousel shows the grids and rankings pages
    # Behind a login (never the carousel's, so never a wall page): security.sessions.path_kind.
    Page("desk", desk.PATH, desk.page, "nav_desk", presentable=False, grid=True),
    Page("case", case.PATH, case.page, "case_title", in_nav=False, presentable=False),
)
_BY_PATH = {path: page for page in PAGES for path in page.paths}
_BY_NAME = {page.name: page for page in PAGES}


def page_for(path: str | None) -> Page | None:
    """Return the page registered at ``path`` (a trailing slash is ignored), or None."""
    if not path:
        return _BY_PATH.get("/")
    return _BY_PATH.get(path if path == "/" else path.rstrip("/"))


def presentable(name: str) -> Page | None:
    """Return the page the carousel may show under ``name``, or None for anything else."""
    page = _BY_NAME.get(name)
    return page if page is not None and page.presentable else None


def request_for(page: Page, query: Mapping[str, str], store: SnapshotSource,
                settings: Settings) -> PageRequest:
    """Return what ``page`` receives for a load with these URL parameters: the router's, and
    the index's when it preloads the page's data (``dashboard.bundles``)."""
    return PageRequest(path=page.path, query=query,
                       lang=pick_language(query.get("lang"), settings.language), settings=settings,
                       now=store.clock(), nav=nav_links(), snapshot=store.get,
                       area_status=store.status, presentable=presentable)


def nav_links() -> tuple[NavLink, ...]:
    """Return the top bar's links, in registry order."""
    return tuple(NavLink(p.path, p.nav_label) for p in PAGES if p.in_nav)


def page_paths() -> frozenset[str]:
    """Every path a page answers on (the server answers 404 for any other page path)."""
    return frozenset(_BY_PATH)
