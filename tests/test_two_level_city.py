"""A two-level real city (Fairhaven's wards and precincts; grids derived): the map's children
route and the wall's ranking skip the derived grid level, which only repeats its precinct."""

from __future__ import annotations

import orjson
from sqlalchemy.orm import Session

from ingest.areas_import import import_areas
from queries.areas import area_by_code, district
from queries.coords import transform_for
from queries.models import LEVEL_COMMUNITY
from snapshot.build import ranking_section
from snapshot.routes_grids import children_geojson
from tests.test_import_areas import NOW, PRECINCT_OPTIONS, PRECINCTS, WARD_OPTIONS, WARDS

WGS84 = transform_for("wgs84")


def _codes(body: bytes) -> list[str]:
    return [f["properties"]["code"] for f in orjson.loads(body)["features"]]


def test_the_drill_skips_the_derived_grids(session: Session) -> None:
    import_areas(session, WARDS, WARD_OPTIONS, now=NOW)
    import_areas(session, PRECINCTS, PRECINCT_OPTIONS, now=NOW)
    session.commit()
    root = district(session)
    assert root is not None
    # District → the 5 wards; ward 03 → its precincts 0301 … 0306 (never a derived "0306-0").
    assert _codes(children_geojson(session, root, WGS84)) == ["01", "02", "03", "04", "05"]
    ward = area_by_code(session, "03")
    assert ward is not None
    precincts = _codes(children_geojson(session, ward, WGS84))
    assert precincts and all(c.startswith("03") and "-" not in c for c in precincts)
    assert "0306" in precincts
    # The precinct's only grid is derived: the wall ranks the precinct among its siblings.
    precinct = area_by_code(session, "0306")
    assert precinct is not None
    section = ranking_section(session, precinct, NOW)
    assert section["level"] == LEVEL_COMMUNITY
    assert [r["code"] for r in section["rows"] if r["self"]] == ["0306"]
    assert sorted(r["code"] for r in section["rows"]) == sorted(precincts)
    # A ward ranks its precincts, not the derived grids one level down.
    assert section == ranking_section(session, precinct, NOW)
    assert ranking_section(session, ward, NOW)["level"] == LEVEL_COMMUNITY
