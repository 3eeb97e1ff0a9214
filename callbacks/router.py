"""The router: a URL's path → the registered page's layout (``dashboard.pages``).

Dash routes in the browser, so the server also answers an unknown page path with status 404
(and the same styled page), as a proxy, a link checker or a person with curl expects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dash import Dash, Input, Output
from flask import Response, request
from werkzeug.exceptions import HTTPException

from dashboard import ids, pages, shell
from dashboard.i18n import pick_language
from dashboard.routing import Retry, query_of
from settings import Settings
from snapshot.store import SnapshotSource

# The endpoints of Dash's index: "/" and the catch-all that serves it for every other path.
_CATCH_ALL = ("/<path:path>", "/")


def register(app: Dash, store: SnapshotSource, settings: Settings) -> None:
    """Wire the router callback and the server's 404 for unknown page paths."""

    def render(pathname: str | None, search: str | None, _retry: int | None) -> tuple[Any, bool]:
        query = query_of(search)
        page = pages.page_for(pathname)
        if page is None:
            return shell.create_not_found(pick_language(query.get("lang"), settings.language)), True
        content = page.layout(pages.request_for(page, query, store, settings))
        if isinstance(content, Retry):
            return content.content, False
        return content, True

    app.callback(Output(ids.PAGE, "children"), Output(ids.PAGE_RETRY, "disabled"),
                 Input(ids.URL, "pathname"), Input(ids.URL, "search"),
                 Input(ids.PAGE_RETRY, "n_intervals"))(render)
    app.server.before_request(not_found_hook(app, pages.page_paths()))


def not_found_hook(app: Dash, paths: frozenset[str]) -> Callable[[], Response | None]:
    """Return a before-request hook answering 404 for a GET of a path no page or route has.

    Dash's catch-all rule answers every path with its index, so the URL map decides: a path
    whose only match is that rule (or Dash's "/") and that no page registered is not found.
    """

    def hook() -> Response | None:
        path = request.path
        if request.method != "GET" or path in paths or path.rstrip("/") in paths:
            return None
        try:
            endpoint, _ = app.server.url_map.bind("").match(path, method="GET")
        except HTTPException:
            return None  # werkzeug answers it (404, 405, a redirect) as usual
        if endpoint not in _CATCH_ALL:
            return None
        return Response(app.index(), status=404, mimetype="text/html")

    return hook
