"""路长 sections as data: point assignment (locator, importer, demo city, simulator), the
schema upgrade of an older database, and ``import-sections`` with its quarantine."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
import shapely
from pyproj import Geod
from shapely.geometry import box
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from ingest.democity import generate
from ingest.importer.mapping import parse_mapping
from ingest.importer.pipeline import CaseImporter
from ingest.importer.readers import open_source
from ingest.sections_import import SectionsFileError, assign_cases, import_sections
from ingest.spatial import SectionLocator
from queries.engine import init_db, make_engine
from queries.models import Case, QuarantinedRow, RoadSection, SectionCheckin
from queries.workcalendar import default_calendar
from tests.handbuilt import LAT0, LON0, STEP, build_handbuilt
from tests.handbuilt_sections import build_sections

NOW = datetime(2026, 11, 20, 12, 0)


# ---------------------------------------------------------------------- the locator


def test_locator_picks_the_smallest_code_where_sections_overlap() -> None:
    geoms = [box(0, 0, 2, 1), box(1, 0, 3, 1)]
    for order in ((0, 1), (1, 0)):  # the load order does not matter
        loc = SectionLocator([[10, 20][i] for i in order], [["B", "A"][i] for i in order],
                             [geoms[i] for i in order])
        # 1.5 lies in both: "A" (id 20) wins; 0.5 only in "B"; 2.5 only in "A"; 5 in none.
        assert loc.locate_many([1.5, 0.5, 2.5, 5.0], [0.5] * 4) == [20, 10, 20, None]


def test_locator_handles_empty_and_non_finite_input() -> None:
    loc = SectionLocator([1], ["A"], [box(0, 0, 1, 1)])
    assert loc.locate_many([], []) == []
    assert loc.locate_many([float("nan"), 0.5], [0.5, float("inf")]) == [None, None]
    assert SectionLocator([], [], []).locate(0.5, 0.5) is None
    with pytest.raises(ValueError, match="2 longitudes but 1 latitudes"):
        loc.locate_many([0.1, 0.2], [0.1])


def test_hand_built_cases_get_the_section_of_their_grid(session: Session) -> None:
    hb = build_handbuilt(session)
    ids = build_sections(session)
    got = dict(session.execute(select(Case.external_id, Case.section_id)).all())
    expected_grids = {"LZ-A": ("G1", "G2"), "LZ-B": ("G3", "G4"), "LZ-C": ("G5",)}
    grid_of = dict(session.execute(select(Case.external_id, Case.grid_id)).all())
    for ext, section in got.items():
        code = next(c for c, grids in expected_grids.items()
                    if grid_of[ext] in {hb.areas[g] for g in grids})
        assert section == ids[code], ext
    # An imprecise point (a default geocode) gets no section on the next assignment.
    case = session.scalars(select(Case).where(Case.external_id == "HB-003")).one()
    case.location_precise = False
    session.flush()
    assert assign_cases(session).moved == 1
    assert case.section_id is None
    assert assign_cases(session).moved == 0  # nothing left to change


MAPPING = """
name: sections-test
format: csv
fields:
  external_id: id
  reported_at: reported
  category_major: major
  category_minor: minor
  lon: lon
  lat: lat
  area: grid
area: {level: grid}
category: {limit_hours: 24, urgent_limit_hours: 4}
coordinates:
  crs: wgs84
  default_geocodes:
    - {lon: %(dlon).6f, lat: %(dlat).6f, radius_m: 5}
deadline: {from: category}
source: {default: 巡查上报}
"""


def test_the_case_importer_assigns_sections_by_point(engine: Engine, session: Session,
                                                     tmp_path: Path) -> None:
    build_handbuilt(session)
    ids = build_sections(session)
    session.commit()
    lat = LAT0 - STEP / 2
    g1, g5 = LON0 + STEP * 0.5, LON0 + STEP * 4.5
    outside_strip = LAT0 - STEP * 0.1  # inside grid G1, north of every section's strip
    g1_code, g5_code = "33019900100101", "33019900200102"
    rows = ["id,reported,major,minor,lon,lat,grid",
            f"R1,2026-11-19 09:00,公用设施,井盖,{g1:.6f},{lat:.6f},{g1_code}",
            f"R2,2026-11-19 09:00,公用设施,井盖,{g5:.6f},{lat:.6f},{g5_code}",
            f"R3,2026-11-19 09:00,公用设施,井盖,{g1 + 0.0001:.6f},{outside_strip:.6f},{g1_code}",
            f"R4,2026-11-19 09:00,公用设施,井盖,{g5 + 0.0001:.6f},{lat:.6f},{g5_code}"]
    file = tmp_path / "cases.csv"
    file.write_text("\n".join(rows) + "\n", encoding="utf-8")
    # R4 sits on the source's default geocode: imprecise, so no section.
    mapping = parse_mapping(MAPPING % {"dlon": g5 + 0.0001, "dlat": lat})
    importer = CaseImporter(engine, mapping, now=NOW, city_timezone="Asia/Shanghai",
                            calendar=default_calendar())
    summary = importer.run(open_source(file, "csv"))
    assert summary.inserted == 4
    got = dict(session.execute(select(Case.external_id, Case.section_id)
                               .where(Case.source_system == "sections-test")).all())
    assert got == {"R1": ids["LZ-A"], "R2": ids["LZ-C"], "R3": None, "R4": None}
    again = CaseImporter(engine, mapping, now=NOW, city_timezone="Asia/Shanghai",
                         calendar=default_calendar()).run(open_source(file, "csv"))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)


def test_demo_city_generates_136_sections_with_checkins(engine: Engine) -> None:
    generate(engine, cases=3000, now=NOW)
    with Session(engine) as s:
        sections = s.scalars(select(RoadSection).order_by(RoadSection.code)).all()
        assert len(sections) == 136
        assert all(sec.leader and sec.leader_unit and sec.leader_phone and sec.responsible_unit
                   for sec in sections)
        assert len({sec.code for sec in sections}) == 136
        days = s.scalar(select(func.count(func.distinct(SectionCheckin.day))))
        assert days is not None and days > 380  # 13 months of daily check-ins
        # Every case given a section lies inside that section's outline.
        outline = {sec.id: shapely.from_geojson(sec.geometry) for sec in sections}
        placed = s.execute(select(Case.section_id, Case.lon, Case.lat)
                           .where(Case.section_id.is_not(None))).all()
        assert len(placed) > 300
        assert all(outline[sid].intersects(shapely.Point(lon, lat)) for sid, lon, lat in placed)


def test_simulated_cases_get_their_section(engine: Engine,
                                           session_factory: sessionmaker[Session]) -> None:
    from ingest.simulator import Simulator

    generate(engine, cases=2000, now=NOW)
    sim = Simulator(session_factory, seed=3, daily_cases=5_000, clock=lambda: NOW)
    sim.tick(NOW)
    sim.tick(datetime(2026, 11, 20, 13, 0))
    with Session(engine) as s:
        live = s.execute(select(Case.lon, Case.lat, Case.section_id)
                         .where(Case.external_id.like("%L%"))).all()
        assert live
        locator = SectionLocator.load(s)
        assert [r.section_id for r in live] == locator.locate_many(
            [r.lon for r in live], [r.lat for r in live])


@pytest.mark.parametrize("stamp", [
    "DROP TABLE alembic_version",  # from before migrations: stamped 0001, then upgraded
    "UPDATE alembic_version SET version_num = '0002'",  # migrated before sections: 0003
])
def test_an_older_database_gets_the_section_column(tmp_path: Path, stamp: str) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    eng = make_engine(url)
    init_db(eng)
    kept = ", ".join(c["name"] for c in inspect(eng).get_columns("cases")
                     if c["name"] != "section_id")
    with eng.begin() as conn:  # make it look like a database from before sections
        conn.execute(text(f"CREATE TABLE cases_old AS SELECT {kept} FROM cases"))
        conn.execute(text("DROP TABLE cases"))
        conn.execute(text("ALTER TABLE cases_old RENAME TO cases"))
        conn.execute(text("DROP TABLE section_checkins"))
        conn.execute(text("DROP TABLE road_sections"))
        conn.execute(text(stamp))
    assert "section_id" not in {c["name"] for c in inspect(eng).get_columns("cases")}
    init_db(eng)
    init_db(eng)  # idempotent
    inspector = inspect(eng)
    assert "section_id" in {c["name"] for c in inspector.get_columns("cases")}
    assert {"road_sections", "section_checkins"} <= set(inspector.get_table_names())
    assert "ix_cases_section_id" in {i["name"] for i in inspector.get_indexes("cases")}
    eng.dispose()


# ---------------------------------------------------------------------- import-sections


def _feature(props: dict[str, object], geometry: dict[str, object] | None) -> dict[str, object]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _polygon(column: float, width: float) -> dict[str, object]:
    west, east = LON0 + STEP * column, LON0 + STEP * (column + width)
    north, south = LAT0 - STEP * 0.3, LAT0 - STEP * 0.7
    return {"type": "Polygon",
            "coordinates": [[[west, north], [east, north], [east, south], [west, south],
                             [west, north]]]}


def _line(west_col: float, east_col: float) -> dict[str, object]:
    lat = LAT0 - STEP / 2
    return {"type": "LineString",
            "coordinates": [[LON0 + STEP * west_col, lat], [LON0 + STEP * east_col, lat]]}


GOOD = [
    _feature({"code": "S1", "name": "西环路1段", "leader": "王路长", "leader_unit": "区城管局",
              "leader_phone": "13800000001", "responsible_unit": "城西街道", "road": "西环路"},
             _polygon(0, 2)),
    # Chinese property names, a road line buffered 20 m each side.
    _feature({"编号": "S2", "名称": "东环路1段", "路长": "李路长", "责任单位": "城东街道",
              "缓冲米数": 20}, _line(3.2, 4.8)),
]
BAD = [
    (_feature({"code": "S3", "name": "无名"}, _polygon(0, 1)), "missing leader"),
    (_feature({"code": "S1", "name": "重复", "leader": "张"}, _polygon(1, 1)),
     "code 'S1' appears twice in the file"),
    (_feature({"code": "S4", "name": "点", "leader": "赵"},
              {"type": "Point", "coordinates": [LON0, LAT0]}), "not a polygon (Point)"),
    (_feature({"code": "S5", "name": "远", "leader": "钱"},
              {"type": "Polygon", "coordinates": [[[0, 0], [0.01, 0], [0.01, 0.01], [0, 0]]]}),
     "the section lies outside every street of the district"),
    (_feature({"code": "S6", "name": "宽", "leader": "孙", "buffer_m": 900}, _line(0, 1)),
     "buffer_m=900: must be above 0 and at most 500 metres"),
    (_feature({"code": "S7", "name": "无形", "leader": "周"}, None), "no geometry"),
]


def _write(path: Path, features: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False), encoding="utf-8")
    return path


def test_import_sections_good_in_bad_quarantined_second_import_a_no_op(
        session: Session, tmp_path: Path) -> None:
    build_handbuilt(session)
    session.commit()
    file = _write(tmp_path / "sections.geojson", [*GOOD, *(f for f, _ in BAD)])
    summary = import_sections(session, file, now=NOW)
    session.commit()
    assert (summary.read, summary.inserted, summary.quarantined, summary.buffered) == (8, 2, 6, 1)
    reasons = dict(session.execute(select(QuarantinedRow.row_number, QuarantinedRow.reason)
                                   .where(QuarantinedRow.source == "import-sections:"
                                                                   "sections.geojson")).all())
    assert reasons == {3 + k: reason for k, (_, reason) in enumerate(BAD)}
    s1, s2 = session.scalars(select(RoadSection).order_by(RoadSection.code)).all()
    assert (s1.leader, s1.leader_unit, s1.responsible_unit, s1.length_m) == (
        "王路长", "区城管局", "城西街道", None)
    assert (s2.name, s2.leader, s2.responsible_unit) == ("东环路1段", "李路长", "城东街道")
    # The line became a polygon 40 m wide (20 m each side) along its 1.6-grid length.
    outline = shapely.from_geojson(s2.geometry)
    area, _ = Geod(ellps="WGS84").geometry_area_perimeter(outline)
    assert s2.length_m is not None and abs(abs(area) - 40 * s2.length_m) < 0.01 * 40 * s2.length_m
    # The cases were placed: G1, G2 centres in S1; G4's centre (column 3.5) and G5's (4.5) in S2.
    by_section = dict(session.execute(select(Case.section_id, func.count())
                                      .group_by(Case.section_id)).all())
    assert by_section[s1.id] == 14 and by_section[s2.id] == 13
    assert summary.cases_moved == 27

    quarantined_ids = set(session.scalars(select(QuarantinedRow.id)))
    again = import_sections(session, file, now=NOW)
    session.commit()
    assert (again.inserted, again.updated, again.unchanged, again.cases_moved) == (0, 0, 2, 0)
    assert (again.quarantined, again.released) == (6, 0)
    assert set(session.scalars(select(QuarantinedRow.id))) == quarantined_ids

    # Fixing a row releases it; the rest stay.
    fixed = [*GOOD, *(f for f, _ in BAD)]
    fixed[2] = _feature({"code": "S3", "name": "无名", "leader": "吴"}, _polygon(2, 0.2))
    third = import_sections(session, _write(file, fixed), now=NOW)
    assert (third.inserted, third.released, third.quarantined) == (1, 1, 5)


def test_import_sections_refuses_unreadable_files(session: Session, tmp_path: Path) -> None:
    bad = tmp_path / "broken.geojson"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(SectionsFileError, match="not valid JSON"):
        import_sections(session, bad, now=NOW)
    with pytest.raises(SectionsFileError, match="no such file"):
        import_sections(session, tmp_path / "missing.geojson", now=NOW)


def test_the_command_imports_and_reports(session_factory: sessionmaker[Session],
                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         engine: Engine) -> None:
    from click.testing import CliRunner

    from cli import cli

    with session_factory() as s:
        build_handbuilt(s)
        s.commit()
    monkeypatch.setenv("GRIDWATCH_DATABASE_URL", str(engine.url))
    file = _write(tmp_path / "sections.geojson", [*GOOD, BAD[0][0]])
    result = CliRunner().invoke(cli, ["import-sections", str(file)])
    assert result.exit_code == 0, result.output
    assert "read 3 features: 2 new, 0 updated, 0 unchanged (1 road lines buffered); " \
           "1 quarantined" in result.stdout
    assert "quarantined feature 3: missing leader" in result.stderr
    again = CliRunner().invoke(cli, ["import-sections", str(file)])
    assert "0 new, 0 updated, 2 unchanged" in again.stdout
    broken = tmp_path / "broken.geojson"
    broken.write_text("[]", encoding="utf-8")
    failed = CliRunner().invoke(cli, ["import-sections", str(broken)])
    assert failed.exit_code == 1 and "not a GeoJSON object" in failed.stderr
