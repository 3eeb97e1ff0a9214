"""Importing boundaries: the Fairhaven files of tests/data (see make_boundaries.py)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Transformer
from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.areas_import import AreaImportError, AreaImportOptions, import_areas
from ingest.cli_areas import import_areas_command, rules_group
from ingest.spatial import AreaChain, AreaLocator
from queries import hierarchy
from queries.grid_view import grid_view
from queries.models import (
    LEVEL_COMMUNITY,
    LEVEL_DISTRICT,
    LEVEL_GRID,
    LEVEL_STREET,
    SOURCE_PATROL,
    STATUS_REGISTERED,
    Area,
    Case,
    Category,
    QuarantinedRow,
    RoadSection,
)
from queries.periods import parse_period
from queries.rules import RulesError, check_streets, load_rules, parse_rules
from queries.rules_draft import StreetVolume, draft_rules, split_groups
from queries.scope import Scope
from tests.data.make_boundaries import X0, Y0

DATA = Path(__file__).parent / "data"
WARDS, PRECINCTS, BLOCKS = (DATA / f"fairhaven_{n}.geojson" for n in ("wards", "precincts",
                                                                       "blocks"))
NOW = datetime(2026, 12, 1, 9, 0)
FEET = Transformer.from_crs("EPSG:2249", "EPSG:4326", always_xy=True)

WARD_OPTIONS = AreaImportOptions(level=LEVEL_STREET, crs="EPSG:2249", code_field="WARD",
                                 name_field="NAME")
PRECINCT_OPTIONS = AreaImportOptions(level=LEVEL_COMMUNITY, crs="EPSG:2249",
                                     code_field="PRECINCT", name_field="NAME",
                                     parent_field="WARD")
BLOCK_OPTIONS = AreaImportOptions(level=LEVEL_GRID, code_field="BLOCK", name_field="NAME",
                                  parent_field="PRECINCT")


def lonlat(x: float, y: float) -> tuple[float, float]:
    """Return the WGS-84 point of a spot given in feet from Fairhaven's south-west corner."""
    lon, lat = FEET.transform(X0 + x, Y0 + y)
    return float(lon), float(lat)


def run(session: Session, path: Path, options: AreaImportOptions):  # type: ignore[no-untyped-def]
    summary = import_areas(session, path, options, now=NOW)
    session.commit()
    return summary


def areas(session: Session, level: str) -> dict[str, Area]:
    return {a.code: a for a in session.scalars(select(Area).where(Area.level == level))}


def two_level(session: Session) -> None:
    run(session, WARDS, WARD_OPTIONS)
    run(session, PRECINCTS, PRECINCT_OPTIONS)


def three_level(session: Session) -> None:
    two_level(session)
    run(session, BLOCKS, BLOCK_OPTIONS)


def test_wards_import_with_crs_merge_split_rows_keep_multipolygons_and_repair_bowtie(
        session: Session) -> None:
    summary = run(session, WARDS, WARD_OPTIONS)
    assert (summary.read, summary.areas, summary.inserted, summary.merged_rows,
            summary.repaired) == (6, 5, 5, 1, 1)
    assert summary.crs == "EPSG:2249" and not summary.quarantined
    wards = areas(session, LEVEL_STREET)
    assert sorted(wards) == ["01", "02", "03", "04", "05"]
    assert wards["03"].name == "Ward 3"
    # Ward 2 came in two rows (south and north halves): one polygon the size of ward 1.
    w2 = shapely.from_geojson(wards["02"].geometry)
    assert w2.geom_type == "Polygon"
    assert wards["02"].area_m2 == pytest.approx(wards["01"].area_m2, rel=1e-4)
    # 4000 ft × 6000 ft = 24,000,000 US survey ft² ≈ 2,229,684 m² (State Plane's scale: ±0.01%)
    assert wards["01"].area_m2 == pytest.approx(2_229_684, rel=2e-4)
    # Ward 4 keeps Gull Island: a MultiPolygon of two parts.
    w4 = shapely.from_geojson(wards["04"].geometry)
    assert w4.geom_type == "MultiPolygon" and len(w4.geoms) == 2
    # Ward 5, the bowtie, is repaired into its two triangles: half its bounding rectangle.
    w5 = shapely.from_geojson(wards["05"].geometry)
    assert w5.is_valid and w5.geom_type == "MultiPolygon" and len(w5.geoms) == 2
    assert wards["05"].area_m2 == pytest.approx(wards["01"].area_m2, rel=1e-3)  # ½ of 16000×3000
    # Centres lie inside their areas, even for the bowtie's pinched shape.
    for ward in wards.values():
        assert shapely.from_geojson(ward.geometry).contains(
            shapely.Point(ward.center_lon, ward.center_lat))
    # A district root was made: the union of the wards, derived.
    (root,) = areas(session, LEVEL_DISTRICT).values()
    assert (root.code, root.name, root.derived) == ("CITY", "全市", True)
    assert [w.parent_id for w in wards.values()] == [root.id] * 5
    assert root.area_m2 == pytest.approx(sum(w.area_m2 for w in wards.values()), rel=1e-5)


def test_a_one_level_city_derives_community_and_grid(session: Session) -> None:
    run(session, WARDS, WARD_OPTIONS)
    communities, grids = areas(session, LEVEL_COMMUNITY), areas(session, LEVEL_GRID)
    assert sorted(communities) == ["01-0", "02-0", "03-0", "04-0", "05-0"]
    assert sorted(grids) == ["01-0-0", "02-0-0", "03-0-0", "04-0-0", "05-0-0"]
    c3, g3, w3 = communities["03-0"], grids["03-0-0"], areas(session, LEVEL_STREET)["03"]
    assert c3.derived and g3.derived and c3.parent_id == w3.id and g3.parent_id == c3.id
    assert (c3.name, g3.name, c3.geometry, g3.area_m2) == ("Ward 3", "Ward 3", w3.geometry,
                                                           w3.area_m2)
    assert hierarchy.children_to_show(session, w3.id) == []
    loc = AreaLocator.load(session)
    assert loc.locate(*lonlat(10_000, 1_000)) == AreaChain(w3.id, c3.id, g3.id)


def test_missing_crs_is_one_line_asking_for_crs(session: Session) -> None:
    with pytest.raises(AreaImportError, match=r"declares no CRS .* not longitude/latitude: "
                                              r"pass --crs EPSG:nnnn"):
        import_areas(session, WARDS, AreaImportOptions(level=LEVEL_STREET, code_field="WARD"),
                     now=NOW)
    assert session.scalars(select(Area)).first() is None


def test_crs_from_the_file(session: Session) -> None:
    two_level(session)
    summary = run(session, BLOCKS, BLOCK_OPTIONS)  # no --crs: the file declares EPSG:2249
    assert summary.crs == "EPSG:2249" and summary.inserted == 20
    assert summary.removed_derived == 10  # the precincts' derived grids give way


def test_two_level_city_precincts_by_code_the_broken_row_quarantined(session: Session) -> None:
    run(session, WARDS, WARD_OPTIONS)
    summary = run(session, PRECINCTS, PRECINCT_OPTIONS)
    assert (summary.read, summary.inserted, summary.removed_derived, summary.derived) == (
        11, 10, 10, 10)
    assert dict(summary.quarantined) == {"invalid polygon that cannot be repaired": 1}
    (row,) = session.scalars(select(QuarantinedRow))
    assert row.row_number == 11 and row.reason.startswith("invalid polygon that cannot be")
    assert row.source == "import-areas:fairhaven_precincts.geojson:community"
    assert json.loads(row.payload)["PRECINCT"] == "0999"
    precincts, wards = areas(session, LEVEL_COMMUNITY), areas(session, LEVEL_STREET)
    assert sorted(precincts) == ["0101", "0102", "0201", "0202", "0301", "0306", "0401",
                                 "0402", "0502A", "0502B"]
    assert {c: wards_code(session, a) for c, a in precincts.items()} == {
        "0101": "01", "0102": "01", "0201": "02", "0202": "02", "0301": "03", "0306": "03",
        "0401": "04", "0402": "04", "0502A": "05", "0502B": "05"}
    assert not any(a.derived for a in precincts.values()) and len(wards) == 5
    # Precinct 0401 keeps its island.
    assert shapely.from_geojson(precincts["0401"].geometry).geom_type == "MultiPolygon"
    # The grid level is derived, one per precinct, and hidden: a ward lists its precincts, a
    # precinct lists nothing below it.
    grids = areas(session, LEVEL_GRID)
    assert sorted(grids) == sorted(f"{c}-0" for c in precincts)
    assert all(g.derived for g in grids.values())
    w3 = wards["03"]
    assert [a.code for a in hierarchy.children_to_show(session, w3.id)] == ["0301", "0306"]
    assert hierarchy.children_to_show(session, precincts["0306"].id) == []
    view = grid_view(session, "0306", parse_period("2026-11", NOW), NOW,
                     scope=Scope.everything())
    assert view is not None and view.map_parent.code == "03"
    assert [ref.code for ref, _ in view.children] == ["0301", "0306"]
    # Cases still get a grid id: the precinct's derived grid.
    loc = AreaLocator.load(session)
    p306 = precincts["0306"]
    assert loc.locate(*lonlat(9_000, 4_500)) == AreaChain(w3.id, p306.id, grids["0306-0"].id)
    assert loc.find("0306") == loc.locate(*lonlat(9_000, 4_500))
    assert loc.find("Ward 3", level=LEVEL_STREET) == AreaChain(w3.id)


def wards_code(session: Session, area: Area) -> str:
    parent = session.get(Area, area.parent_id)
    assert parent is not None
    return parent.code


def test_parents_by_containment_match_the_parent_field(session: Session) -> None:
    run(session, WARDS, WARD_OPTIONS)
    by_overlap = AreaImportOptions(level=LEVEL_COMMUNITY, crs="EPSG:2249",
                                   code_field="PRECINCT", name_field="NAME")
    run(session, PRECINCTS, by_overlap)
    assert {c: wards_code(session, a) for c, a in areas(session, LEVEL_COMMUNITY).items()} == {
        "0101": "01", "0102": "01", "0201": "02", "0202": "02", "0301": "03", "0306": "03",
        "0401": "04", "0402": "04", "0502A": "05", "0502B": "05"}


def test_three_level_city_and_the_locator(session: Session) -> None:
    three_level(session)
    grids = areas(session, LEVEL_GRID)
    assert len(grids) == 20 and not any(g.derived for g in grids.values())
    assert hierarchy.grid_counts(session, LEVEL_STREET) == {
        a.id: 4 for a in areas(session, LEVEL_STREET).values()}
    loc = AreaLocator.load(session)
    w3, p306 = areas(session, LEVEL_STREET)["03"], areas(session, LEVEL_COMMUNITY)["0306"]
    assert loc.locate(*lonlat(9_000, 4_500)) == AreaChain(w3.id, p306.id, grids["0306-1"].id)
    # Gull Island is in ward 4 and precinct 0401 but in no block: no grid.
    w4, p401 = areas(session, LEVEL_STREET)["04"], areas(session, LEVEL_COMMUNITY)["0401"]
    assert loc.locate(*lonlat(17_500, 1_500)) == AreaChain(w4.id, p401.id, None)
    assert loc.locate(*lonlat(-500, 1_500)) is None  # west of the city


def test_reimport_changes_nothing_and_a_new_vintage_updates(session: Session,
                                                            tmp_path: Path) -> None:
    three_level(session)

    def state() -> list[tuple]:
        rows = session.execute(select(Area.id, Area.code, Area.name, Area.parent_id,
                                      Area.geometry, Area.area_m2, Area.derived)
                               .order_by(Area.id)).all()
        quarantined = session.execute(select(QuarantinedRow.source, QuarantinedRow.row_number,
                                             QuarantinedRow.reason)).all()
        return [tuple(r) for r in rows] + [tuple(q) for q in quarantined]

    before = state()
    for path, options in ((WARDS, WARD_OPTIONS), (PRECINCTS, PRECINCT_OPTIONS),
                          (BLOCKS, BLOCK_OPTIONS)):
        summary = run(session, path, options)
        assert (summary.inserted, summary.updated, summary.derived, summary.removed_derived) == (
            0, 0, 0, 0)
    assert state() == before

    # A newer vintage: ward 1 grows 1000 ft west, ward 3 is renamed.
    doc = json.loads(WARDS.read_text(encoding="utf-8"))
    for feature in doc["features"]:
        if feature["properties"]["WARD"] == "01":
            for point in feature["geometry"]["coordinates"][0]:
                if point[0] == X0:
                    point[0] = X0 - 1000
        if feature["properties"]["WARD"] == "03":
            feature["properties"]["NAME"] = "Ward Three"
    newer = tmp_path / "wards_2027.geojson"
    newer.write_text(json.dumps(doc), encoding="utf-8")
    old_area = areas(session, LEVEL_STREET)["01"].area_m2
    summary = run(session, newer, WARD_OPTIONS)
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 2, 3)
    wards = areas(session, LEVEL_STREET)
    assert wards["01"].area_m2 == pytest.approx(old_area * 5 / 4, rel=1e-3)
    assert wards["03"].name == "Ward Three"


def test_shapefile_and_geopackage_through_pyogrio(session: Session, tmp_path: Path) -> None:
    from pyogrio import raw

    doc = json.loads(PRECINCTS.read_text(encoding="utf-8"))
    geoms = [shapely.geometry.shape(f["geometry"]) for f in doc["features"]][:10]
    fields = {"PRECINCT": np.array([f["properties"]["PRECINCT"] for f in doc["features"][:10]]),
              "NAME": np.array([f["properties"]["NAME"] for f in doc["features"][:10]])}
    run(session, WARDS, WARD_OPTIONS)
    for name, driver in (("precincts.shp", "ESRI Shapefile"), ("precincts.gpkg", "GPKG")):
        path = tmp_path / name
        raw.write(path, shapely.to_wkb(np.array(geoms, dtype=object)), list(fields.values()),
                  fields=list(fields), driver=driver, geometry_type="MultiPolygon",
                  crs="EPSG:2249", promote_to_multi=True)
        summary = run(session, path, AreaImportOptions(level=LEVEL_COMMUNITY,
                                                       code_field="PRECINCT",
                                                       name_field="NAME"))
        assert summary.crs == "EPSG:2249" and summary.areas == 10 and not summary.quarantined
    assert sorted(areas(session, LEVEL_COMMUNITY))[:2] == ["0101", "0102"]


def test_unknown_field_and_unknown_format_are_one_line(session: Session, tmp_path: Path) -> None:
    with pytest.raises(AreaImportError, match=r"no field 'ward' \(--code-field\); the fields "
                                              r"are: NAME, WARD"):
        import_areas(session, WARDS, AreaImportOptions(level=LEVEL_STREET, code_field="ward"),
                     now=NOW)
    odd = tmp_path / "wards.kml"
    odd.write_text("<kml/>", encoding="utf-8")
    with pytest.raises(AreaImportError, match="unknown format '.kml'"):
        import_areas(session, odd, WARD_OPTIONS, now=NOW)
    with pytest.raises(AreaImportError,
                       match=r"no street in the database yet: import the street level first"):
        import_areas(session, BLOCKS, BLOCK_OPTIONS, now=NOW)


def test_importing_grids_into_a_city_without_communities_goes_under_derived_ones(
        session: Session) -> None:
    run(session, WARDS, WARD_OPTIONS)
    # Blocks naming precincts that do not exist: quarantined with the reason …
    summary = run(session, BLOCKS, BLOCK_OPTIONS)
    assert dict(summary.quarantined) == {"parent is no community": 20}
    first = session.scalars(select(QuarantinedRow).order_by(QuarantinedRow.row_number)).first()
    assert first is not None and first.reason == "parent 0101 is no community"
    assert json.loads(first.payload) == {"BLOCK": "0101-1", "NAME": "Block 0101-1",
                                         "PRECINCT": "0101"}  # the row's raw values
    # … but by containment they land under each ward's derived community.
    summary = run(session, BLOCKS, AreaImportOptions(level=LEVEL_GRID, code_field="BLOCK"))
    assert summary.inserted == 20 and summary.removed_derived == 5
    w1 = areas(session, LEVEL_STREET)["01"]
    assert [a.code for a in hierarchy.children_to_show(session, w1.id)] == [
        "0101-1", "0101-2", "0102-1", "0102-2"]
    assert not session.scalars(select(QuarantinedRow)).all()  # the fixed import released them


# -- command line ---------------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, empty_database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    url = empty_database_url
    monkeypatch.setenv("GRIDWATCH_DATABASE_URL", url)
    monkeypatch.setenv("GRIDWATCH_DATA_DIR", str(tmp_path))
    return url


def test_cli_import_and_errors(cli_env: str) -> None:
    runner = CliRunner()
    result = runner.invoke(import_areas_command, [str(WARDS), "--level", "street",
                                                  "--code-field", "WARD"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "pass --crs EPSG:nnnn" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(import_areas_command, [str(WARDS), "--level", "street", "--crs",
                                                  "EPSG:2249", "--code-field", "WARD",
                                                  "--name-field", "NAME"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("read 6 rows → 5 areas: 5 inserted")
    result = runner.invoke(import_areas_command, [str(WARDS), "--level", "street", "--crs",
                                                  "EPSG:99999", "--code-field", "WARD"])
    assert result.exit_code == 1 and "--crs 'EPSG:99999' is not a coordinate system" in \
        result.output
    result = runner.invoke(import_areas_command, ["/nonexistent.geojson", "--level", "street"])
    assert result.exit_code == 1 and "no such file" in result.output


def test_cli_rules_init_writes_loadable_rules_naming_the_real_wards(cli_env: str,
                                                                    tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(rules_group, ["init"])
    assert result.exit_code == 1 and "holds no district" in result.output
    for args in ([str(WARDS), "--level", "street", "--crs", "EPSG:2249", "--code-field", "WARD",
                  "--name-field", "NAME"],
                 [str(PRECINCTS), "--level", "community", "--crs", "EPSG:2249", "--code-field",
                  "PRECINCT", "--name-field", "NAME", "--parent-field", "WARD"]):
        assert runner.invoke(import_areas_command, args).exit_code == 0
    out = tmp_path / "rules.yaml"
    result = runner.invoke(rules_group, ["init", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output == (f"wrote {out}: 5 streets in 1 groups; "
                             "point GRIDWATCH_RULES_FILE at it\n")
    rules = load_rules(out)
    assert rules.groups[0].streets == ("01", "02", "03", "04", "05")
    assert rules.normalise == "none" and rules.min_sample == 1  # no cases yet
    # No 路长 sections yet: the block is written with the default weights and lists of 1.
    assert "# 路长制 · 0 road sections in the database" in out.read_text(encoding="utf-8")
    assert (rules.sections.red, rules.sections.black, rules.sections.min_due) == (1, 1, 3)
    assert dict(rules.sections.weights) == {"close_rate": 0.3, "ontime_close_rate": 0.4,
                                            "checkin_rate": 0.3}
    again = runner.invoke(rules_group, ["init", "--output", str(out)])
    assert again.exit_code == 1 and "pass --force" in again.output


def test_rules_naming_an_unknown_ward_fail_with_the_line(session: Session) -> None:
    two_level(session)
    text = draft_rules(session, now=NOW).replace('- "04"', '- "4"')
    line = text.splitlines().index(next(x for x in text.splitlines() if '- "4"' in x)) + 1
    rules = parse_rules(text, "rules.yaml")
    streets = {a.code: a for a in areas(session, LEVEL_STREET).values()}
    with pytest.raises(RulesError, match=rf"^rules.yaml, line {line}: groups.第一组: 4 is not a "
                                         r"street of 全市"):
        check_streets(rules, streets, "全市")


def test_drafted_thresholds_scale_with_case_volumes(session: Session) -> None:
    three_level(session)
    session.add(Category(id=1, code="SJ01", kind="事件", major="市容环境", minor="暴露垃圾",
                         element="环卫", limit_hours=8.0, urgent_limit_hours=2.0))
    loc = AreaLocator.load(session)
    # September–November 2026: per month, ward 1 has 40 cases, ward 2 30, wards 3–5 20 each.
    n = 0
    for ward, per_month in (("01", 40), ("02", 30), ("03", 20), ("04", 20), ("05", 20)):
        x = {"01": 1000, "02": 5000, "03": 9000, "04": 13000, "05": 4000}[ward]
        y = 7000 if ward == "05" else 1000
        chain = loc.locate(*lonlat(x, y))
        assert chain is not None
        for month in (9, 10, 11):
            for k in range(per_month):
                n += 1
                at = datetime(2026, month, 1 + k % 28, 9, 0)
                session.add(Case(external_id=f"X{n}", source=SOURCE_PATROL, category_id=1,
                                 lat=0, lon=0, street_id=chain.street_id,
                                 community_id=chain.community_id, grid_id=chain.grid_id,
                                 status=STATUS_REGISTERED, reported_at=at, registered_at=at))
    session.commit()
    text = draft_rules(session, now=NOW)
    rules = parse_rules(text, "drafted")
    # Median 20 problems a month: none normalisation, min_sample 20 / 4 = 5; typical
    # deduction 20 × 0.6 = 12 → cap 24; a third 8, a sixth 4.
    assert rules.normalise == "none" and rules.min_sample == 5
    assert dict(rules.caps) == {"problems": 24.0, "repeat": 8.0, "overdue": 8.0, "rework": 4.0}
    assert len(rules.groups) == 1 and rules.bottom_n == 2
    assert (rules.lists.red_streets, rules.lists.red_grids) == (1, 2)
    assert "# Ward 1: 40.0/month, 4 grids" in text


def test_drafted_section_lists_name_a_tenth_of_the_sections(session: Session) -> None:
    three_level(session)
    square = '{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}'
    session.add_all(RoadSection(code=f"L{n:03d}", name=f"路段{n}", leader="王路长",
                                geometry=square, center_lat=0.5, center_lon=0.5)
                    for n in range(136))
    session.commit()
    rules = parse_rules(draft_rules(session, now=NOW), "drafted")
    # 136 sections // 10 = 13, capped at 10 each way.
    assert (rules.sections.red, rules.sections.black) == (10, 10)
    session.query(RoadSection).filter(RoadSection.code >= "L025").delete()
    session.commit()
    rules = parse_rules(draft_rules(session, now=NOW), "drafted")
    assert (rules.sections.red, rules.sections.black) == (2, 2)  # 25 // 10


def test_groups_split_by_volume() -> None:
    streets = [StreetVolume(code=f"S{i}", name=f"S{i}", per_month=float(i), grids=1)
               for i in range(9)]
    assert [[s.code for s in g] for g in split_groups(streets)] == [
        ["S8", "S7", "S6"], ["S5", "S4", "S3"], ["S2", "S1", "S0"]]
    assert [len(g) for g in split_groups(streets[:7])] == [4, 3]
    assert [len(g) for g in split_groups(streets[:5])] == [5]


def _cases_at(session: Session, spots: list[tuple[float, float]]) -> None:
    """Add one registered case at each spot (feet), placed by the locator."""
    session.add(Category(id=1, code="SJ01", kind="事件", major="市容环境", minor="暴露垃圾",
                         element="环卫", limit_hours=8.0, urgent_limit_hours=2.0))
    loc = AreaLocator.load(session)
    for n, (x, y) in enumerate(spots, start=1):
        lon, lat = lonlat(x, y)
        chain = loc.locate(lon, lat)
        assert chain is not None and chain.grid_id is not None
        at = datetime(2026, 11, n, 9, 0)
        session.add(Case(external_id=f"R{n}", source=SOURCE_PATROL, category_id=1, lat=lat,
                         lon=lon, street_id=chain.street_id, community_id=chain.community_id,
                         grid_id=chain.grid_id, status=STATUS_REGISTERED, reported_at=at,
                         registered_at=at))
    session.commit()


def test_reassign_moves_cases_from_derived_grids_into_the_new_blocks(session: Session) -> None:
    two_level(session)
    _cases_at(session, [(1_000, 1_000), (3_000, 1_000), (9_000, 4_500)])
    with pytest.raises(AreaImportError, match="cases already sit in the derived grid 0101-0 of "
                                              "0101: pass --reassign"):
        import_areas(session, BLOCKS, BLOCK_OPTIONS, now=NOW)
    session.rollback()
    summary = import_areas(session, BLOCKS, BLOCK_OPTIONS, now=NOW, reassign=True)
    session.commit()
    assert summary.reassigned is not None
    assert (summary.reassigned.moved, summary.reassigned.unchanged,
            summary.reassigned.outside) == (3, 0, 0)
    assert summary.line().endswith("cases re-located by point: 3 moved, 0 unchanged; kept: "
                                   "0 outside every area, 0 in no grid, 0 imprecise")
    grids = {a.id: a.code for a in areas(session, LEVEL_GRID).values()}
    assert [grids[c.grid_id] for c in session.scalars(select(Case).order_by(Case.id))] == [
        "0101-1", "0101-2", "0306-1"]
    assert "0101-0" not in grids.values()


def test_reassign_refuses_to_drop_a_derived_grid_a_case_still_needs(session: Session) -> None:
    two_level(session)
    _cases_at(session, [(17_500, 1_500)])  # Gull Island: precinct 0401, no block there
    with pytest.raises(AreaImportError, match="derived grid 0401-0 of 0401"):
        import_areas(session, BLOCKS, BLOCK_OPTIONS, now=NOW, reassign=True)


def test_wgs84_file_names_heights_long_codes_and_missing_geometry(session: Session,
                                                                  tmp_path: Path) -> None:
    def square(x: float, z: bool = False) -> dict:
        pts = [[x, 30.0], [x + 0.01, 30.0], [x + 0.01, 30.01], [x, 30.01], [x, 30.0]]
        return {"type": "Polygon", "coordinates": [[p + [12.5] if z else p for p in pts]]}

    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "A", "Name": "东街"}, "geometry": square(120)},
        {"type": "Feature", "properties": {"code": "B", "Name": "西街"},
         "geometry": square(120.01, z=True)},
        {"type": "Feature", "properties": {"code": "X" * 65, "Name": "太长"},
         "geometry": square(120.02)},
        {"type": "Feature", "properties": {"code": "C", "Name": "无界"}, "geometry": None},
        {"type": "Feature", "properties": {"code": "D", "Name": "线"},
         "geometry": {"type": "LineString", "coordinates": [[120, 30], [120.1, 30.1]]}},
        {"type": "Feature", "properties": {"code": "", "Name": "无码"}, "geometry": square(120.03)},
    ]}
    path = tmp_path / "streets.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    summary = run(session, path, AreaImportOptions(level=LEVEL_STREET))
    assert summary.crs == "EPSG:4326" and summary.inserted == 2
    assert dict(summary.quarantined) == {"code longer than 64 characters": 1, "no geometry": 1,
                                         "not a polygon": 1, "no code": 1}
    streets = areas(session, LEVEL_STREET)
    assert {c: a.name for c, a in streets.items()} == {"A": "东街", "B": "西街"}  # "Name" found
    assert json.loads(streets["B"].geometry)["coordinates"][0][0] == [120.01, 30.0]  # 2-D
    reasons = [r.reason for r in session.scalars(select(QuarantinedRow)
                                                 .order_by(QuarantinedRow.row_number))]
    assert reasons == ["code longer than 64 characters (XXXXXXXXXXXXXXXXXXXX…)", "no geometry",
                       "not a polygon (LineString)", "no code (field 'code' is empty)"]
    with pytest.raises(AreaImportError, match=r"no field 'NAME' \(--name-field\)"):
        import_areas(session, path, AreaImportOptions(level=LEVEL_STREET, name_field="NAME"),
                     now=NOW)
