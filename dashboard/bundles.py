"""What JavaScript a page loads: plotly.js no larger than our charts need, and dash-ag-grid only
on the pages that draw a table.

Dash puts every component library's script on every page, and fetches plotly.js from the
``plotly`` package (4.8 MB, every trace type) the first time a ``dcc.Graph`` renders. Our
charts are bar and scatter traces only (tests/test_bundles.py checks the code for others), so
the path Dash fetches plotly.js from is answered with plotly.js's *basic* partial bundle of the
same version (scatter, bar, pie; 1.2 MB), vendored in ``assets/vendor/`` with its MIT licence
and pre-gzipped once. The wall and the other pages without a table never render an AgGrid, so
their index leaves dash-ag-grid's 1.3 MB script out; every page is a full load (the nav bar is
plain links), so a page with a table always gets an index that has it.

A chart's and a GeoJSON layer's code are chunks Dash fetches only when the first such component
renders, after the page's scripts have run and its layout has arrived: on the wall that chain
put the map's clusters a few hundred milliseconds behind. A page names the chunks its first
screen needs (``Page.lazy``) and its index preloads them beside its own scripts. The wall's
GeoJSON came last on the same chain (asked for once the map rendered): its URLs carry the
snapshot's map version, known when the index is served, so the index preloads them too
(``Page.fetches``, as ``fetch`` with CORS mode: the request dash-leaflet's ``fetch(url)`` makes).
"""

from __future__ import annotations

import gzip
import re
from html import escape
from typing import Any, cast

from dash import Dash
from flask import Response, request

from dashboard import pages
from dashboard.routing import query_of
from dashboard.vendor import PLOTLY_BASIC, PLOTLY_VERSION
from settings import Settings
from snapshot.store import SnapshotSource

# Where dash-renderer asks for plotly.js when the app serves its scripts itself.
PLOTLY_PATH = "_dash-component-suites/plotly/package_data/plotly.min.js"
# A page's index names each script on a line of its own (dash's _generate_scripts_html).
_GRID_SCRIPT = re.compile(r'[ \t]*<script src="[^"]*/_dash-component-suites/dash_ag_grid/'
                          r'[^"]*"></script>\n?')
# The bundle's URL carries no version: a day's cache, then the ETag answers 304.
CACHE_SECONDS = 24 * 3600
# The lazy chunks a page may preload (``Page.lazy``), by the paths dash-renderer asks for them.
LAZY = {
    "graph": ("_dash-component-suites/dash/dcc/async-graph.js", PLOTLY_PATH),
    "geojson": ("_dash-component-suites/dash_leaflet/async-GeoJSON.js",),
}


def preload_links(prefix: str, names: tuple[str, ...]) -> str:
    """The index's ``<link rel=preload>`` tags for the named lazy chunks."""
    return "".join(f'<link rel="preload" as="script" href="{prefix}{path}">'
                   for name in names for path in LAZY[name])


def fetch_links(urls: tuple[str, ...]) -> str:
    """The index's ``<link rel=preload as=fetch>`` tags for a page's data URLs.

    The URLs are the layout's own (Flask routes, outside Dash's prefix). ``crossorigin`` makes
    the preload a CORS-mode, same-origin-credentials request, as a plain ``fetch(url)`` is;
    without it Chromium would not match it and would fetch the data twice.
    """
    return "".join(f'<link rel="preload" as="fetch" crossorigin href="{escape(url)}">'
                   for url in urls)


def without_grid_script(scripts: str) -> str:
    """The index's script tags without dash-ag-grid's."""
    return _GRID_SCRIPT.sub("", scripts)


def register(app: Dash, store: SnapshotSource, settings: Settings) -> None:
    """Serve the basic plotly.js bundle at Dash's plotly path; leave the grid script out of the
    index of every page registered without ``grid``; preload each page's chunks and data."""
    body = PLOTLY_BASIC.read_bytes()
    packed = gzip.compress(body, compresslevel=9, mtime=0)
    etag = f"plotly-basic-{PLOTLY_VERSION}"
    prefix = cast(str, app.config.requests_pathname_prefix)

    def plotly_basic() -> Response:
        gz = bool(request.accept_encodings["gzip"])
        resp = Response(packed if gz else body, mimetype="application/javascript")
        if gz:
            resp.headers["Content-Encoding"] = "gzip"
        resp.set_etag(etag)
        resp.cache_control.public = True
        resp.cache_control.max_age = CACHE_SECONDS
        resp.vary.add("Accept-Encoding")
        return cast(Response, resp.make_conditional(request))

    # A rule without converters outranks Dash's <package_name>/<path> rule for this one path.
    app.server.add_url_rule(prefix + PLOTLY_PATH, "plotly_basic", plotly_basic)
    interpolate = app.interpolate_index

    def interpolate_index(**kwargs: Any) -> str:
        page = pages.page_for(request.path.removeprefix(prefix.rstrip("/")) or "/")
        if page is not None and not page.grid:
            kwargs["scripts"] = without_grid_script(kwargs.get("scripts", ""))
        if page is not None and page.lazy:
            kwargs["metas"] = kwargs.get("metas", "") + preload_links(prefix, page.lazy)
        if page is not None and page.fetches is not None:
            query = query_of(request.query_string.decode("utf-8", "replace"))
            urls = page.fetches(pages.request_for(page, query, store, settings))
            kwargs["metas"] = kwargs.get("metas", "") + fetch_links(urls)
        return interpolate(**kwargs)

    app.interpolate_index = interpolate_index  # type: ignore[method-assign]
