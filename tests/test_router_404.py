"""Unknown pages answer 404 with the styled page; every page, route and asset is unaffected.

Dash serves its index for every path, so the router's before-request hook decides: a GET of a
path that only Dash's catch-all matches and no registered page has is not found.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from app import create_app, create_context
from dashboard import pages
from queries.engine import init_db
from settings import Settings
from tests.handbuilt import build_handbuilt


@pytest.fixture
def client(tmp_path: Path) -> Iterator[FlaskClient]:
    """The app's server over the hand-built city."""
    ctx = create_context(Settings(data_dir=tmp_path, open_wall=True,
                                  database_url=f"sqlite:///{tmp_path / 'city.sqlite3'}"))
    init_db(ctx.engine)
    with ctx.sessions() as session:
        build_handbuilt(session)
        session.commit()
    yield create_app(context=ctx).server.test_client()
    ctx.engine.dispose()


@pytest.mark.parametrize("path", ["/nope", "/screens", "/grids/x", "/rankings/2026-02",
                                  "/present/x/y", "/api", "/apix", "/nope?lang=en"])
def test_unknown_paths_answer_404_with_the_app(client: FlaskClient, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 404
    assert resp.mimetype == "text/html"
    assert b"_dash-config" in resp.data  # the app itself, which draws the styled 404


@pytest.mark.parametrize("path", ["/", "/screen", "/screen/", "/grids", "/rankings", "/quality",
                                  "/present", "/grids?area=garbage", "/rankings?month=0001-01"])
def test_every_registered_page_answers_200(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 200


def test_the_registry_and_the_test_agree() -> None:
    assert pages.page_paths() == {"/", "/screen", "/grids", "/rankings", "/quality", "/volunteers",
                                  "/sections", "/present", "/desk", "/desk/case"}


@pytest.mark.parametrize("path", ["/api/open-cases.geojson", "/api/open-density.geojson",
                                  "/api/boundaries.geojson", "/api/areas.geojson",
                                  "/_dash-layout", "/_dash-dependencies", "/assets/shell.css",
                                  "/assets/exports.js"])
def test_routes_and_assets_are_unaffected(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 200


def test_the_health_route_answers_for_itself(client: FlaskClient) -> None:
    # No scheduler ran: the route builds the missing district once, as any first reader does
    # (a worker of several reads the shared table instead), and answers for itself.
    resp = client.get("/healthz")
    assert (resp.status_code, resp.data) == (200, b"ok")


def test_a_missing_asset_is_werkzeugs_plain_404(client: FlaskClient) -> None:
    resp = client.get("/assets/nope.css")
    assert resp.status_code == 404 and b"_dash-config" not in resp.data


def test_only_get_is_judged(client: FlaskClient) -> None:
    assert b"_dash-config" not in client.post("/nope").data  # werkzeug answers other methods
    assert client.head("/screen").status_code == 200
