"""Security headers on every response, and the request-size limits.

The CSP allows scripts from the app itself plus 'unsafe-inline': Dash writes its renderer
configuration and start-up as inline ``<script>`` blocks whose text changes with the app's
config, and plotly needs 'unsafe-eval' (it compiles its number formatters with ``Function``);
everything is served by the app, so no outside origin is allowed anywhere. Styles need
'unsafe-inline' for Dash's and plotly's style attributes.
"""

from __future__ import annotations

from flask import Flask, Response, abort, request

MAX_CONTENT_BYTES = 1024 * 1024  # a callback's payload is a few kB; 1 MB → 413
MAX_QUERY_BYTES = 2048           # longer query strings → 414

CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
       "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
       "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'self'")


def register(server: Flask, *, tile_origin: str = "") -> None:
    """Set the limits and add the headers; ``tile_origin`` (a tile server) joins img-src."""
    server.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_BYTES
    csp = CSP.replace("img-src 'self'", f"img-src 'self' {tile_origin}".rstrip()) \
        if tile_origin else CSP

    @server.before_request
    def _limit_query() -> None:
        if len(request.query_string) > MAX_QUERY_BYTES:
            abort(414)

    @server.after_request
    def _headers(resp: Response) -> Response:
        resp.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        resp.headers.setdefault("Content-Security-Policy", csp)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        return resp
