"""The wall's JavaScript travels gzipped with a year-long cache, so a slow office link and a
wall PC reloading at night do not re-download the component libraries."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from app import create_app, create_context
from ingest.democity import DISTRICT_CODE, generate
from queries.engine import init_db
from settings import Settings


@pytest.fixture
def client(tmp_path: Path) -> Iterator[FlaskClient]:
    """The app's server over an empty database (the index and its scripts need no data), with
    the demo's open wall so the index answers without a login."""
    ctx = create_context(
        Settings(
            data_dir=tmp_path, open_wall=True, database_url=f"sqlite:///{tmp_path / 'city.sqlite3'}"
        )
    )
    init_db(ctx.engine)
    yield create_app(context=ctx).server.test_client()
    ctx.engine.dispose()


def test_component_scripts_are_gzipped_and_cached_for_a_year(client: FlaskClient) -> None:
    index = client.get("/screen").get_data(as_text=True)
    scripts = re.findall(r'src="(/_dash-component-suites/[^"]+\.js)"', index)
    renderer = next(s for s in scripts if "dash_renderer" in s)
    plain = client.get(renderer)
    zipped = client.get(renderer, headers={"Accept-Encoding": "gzip"})
    assert plain.headers.get("Content-Encoding") is None
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    # The renderer is ~250 kB of minified JavaScript; gzip takes it below a third.
    assert len(zipped.data) < len(plain.data) / 3
    assert zipped.cache_control.max_age is not None and zipped.cache_control.max_age >= 31536000


def test_small_answers_are_not_compressed(client: FlaskClient) -> None:
    """Below 500 B gzip costs more than it saves (an unchanged poll, /healthz)."""
    resp = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert resp.headers.get("Content-Encoding") is None


AS_OF = datetime(2026, 11, 18, 15, 0)


@pytest.fixture(scope="module")
def city_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    """The app over a small demo city (real outlines and toilets), its snapshot built.

    At a fixed moment, a weekday afternoon: on the live clock a 2,000-case city early on a
    Saturday had two open cases, 502 bytes that gzip cannot halve (failed in CI at 07:40).
    """
    folder = tmp_path_factory.mktemp("geojson")
    settings = Settings(
        data_dir=folder, open_wall=True, database_url=f"sqlite:///{folder / 'city.sqlite3'}",
        as_of=AS_OF,
    )
    ctx = create_context(settings)
    init_db(ctx.engine)
    generate(ctx.engine, cases=2_000, seed=7, now=settings.now())
    ctx.store.refresh()
    yield create_app(context=ctx).server.test_client()
    ctx.engine.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "/api/open-density.geojson",
        "/api/open-cases.geojson",
        "/api/boundaries.geojson",
        f"/api/areas.geojson?parent={DISTRICT_CODE}",
        "/api/places-state.geojson",
        "/api/places.geojson",
    ],
)
def test_every_geojson_route_is_gzipped_for_a_browser(city_client: FlaskClient, url: str) -> None:
    """GeoJSON's own media type is compressed too (flask-compress leaves it out by default):
    the density and the open cases pre-gzipped per snapshot, the rest on the way out."""
    plain = city_client.get(url)
    assert plain.status_code == 200 and plain.mimetype == "application/geo+json"
    assert plain.headers.get("Content-Encoding") is None
    zipped = city_client.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert len(zipped.data) < len(plain.data) / 2
