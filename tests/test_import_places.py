"""``gridwatch import-places``: good rows in, every bad row quarantined with its reason, and a
second import of the same file a no-op. Grids from tests.handbuilt: G1 spans lon
120.100–120.101, lat 30.299–30.300; G4 spans lon 120.103–120.104 (same latitudes)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ingest.cli_places import import_places_command
from ingest.places_import import PlacesFileError, import_places
from queries.models import PointOfInterest, QuarantinedRow
from tests.handbuilt import build_city

NOW = datetime(2026, 11, 20, 10, 0)
HEADER = ("id,layer,kind,name,address,lat,lon,opening_hours,accessible,baby_care,family_room,"
          "free,paper,managing_unit,phone,description")
GOOD = [
    "T1,toilet,公厕,西苑路公厕,西苑路1号,30.2995,120.1005,24/7,1,0,1,是,,环卫所,,",
    "T2,公厕,公厕,东苑路公厕,东苑路9号,30.2995,120.1035,Mo-Fr 06:00-22:00; PH off,有,有,无,"
    "1,0,环卫所,0571-1,",
    "M1,culture,博物馆,西城博物馆,西苑路3号,30.2991,120.1001,Tu-Su 09:00-17:00; Mo off,0,0,0,"
    ",,文旅局,,\"古城, 史\"",
]
BAD = [  # (line, reason fragment)
    (",toilet,公厕,无编号公厕,,30.2995,120.1005,24/7,,,,,,,,", "missing id"),
    ("T3,park,公园,西苑公园,,30.2995,120.1005,24/7,,,,,,,,", "layer='park'"),
    ("T4,toilet,公厕,远方公厕,,30.4,120.1005,24/7,,,,,,,,", "outside every unit grid"),
    ("T5,toilet,公厕,坐标错公厕,,abc,120.1005,24/7,,,,,,,,", "lat='abc': not a number"),
    ("T6,toilet,公厕,时间错公厕,,30.2995,120.1005,sometimes,,,,,,,,", "not an OSM opening_hours"),
    ("T7,toilet,公厕,标志错公厕,,30.2995,120.1005,24/7,maybe,,,,,,,", "accessible='maybe'"),
    ("T1,toilet,公厕,重复公厕,,30.2995,120.1005,24/7,,,,,,,,", "appears twice"),
]


@pytest.fixture
def city(session: Session) -> dict[str, int]:
    built = build_city(session)
    session.commit()
    return built.areas


def _write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding=encoding)
    return path


def test_good_rows_in_bad_rows_quarantined_second_import_a_no_op(
        session: Session, city: dict[str, int], tmp_path: Path) -> None:
    path = _write(tmp_path / "places.csv", GOOD + [line for line, _ in BAD])
    first = import_places(session, path, now=NOW)
    session.commit()
    assert (first.inserted, first.updated, first.unchanged, first.quarantined) == (3, 0, 0, 7)
    places = {p.external_id: p for p in session.scalars(select(PointOfInterest))}
    assert set(places) == {"T1", "T2", "M1"}
    t1, t2, m1 = places["T1"], places["T2"], places["M1"]
    assert t1.grid_id == city["G1"] and t2.grid_id == city["G4"] and m1.grid_id == city["G1"]
    assert (t1.accessible, t1.baby_care, t1.family_room, t1.free, t1.paper) == \
        (True, False, True, True, None)
    assert (t2.accessible, t2.baby_care, t2.family_room, t2.free, t2.paper) == \
        (True, True, False, True, False)
    assert t2.opening_hours == "Mo-Fr 06:00-22:00; PH off" and t2.phone == "0571-1"
    assert m1.layer == "culture" and m1.description == "古城, 史" and m1.phone is None
    assert t1.source == "places.csv"

    kept = session.scalars(select(QuarantinedRow).order_by(QuarantinedRow.row_number)).all()
    assert [q.row_number for q in kept] == [5, 6, 7, 8, 9, 10, 11]  # header is line 1
    for row, (_line, fragment) in zip(kept, BAD, strict=True):
        assert fragment in row.reason, (row.reason, fragment)
        assert row.source == "import-places:places.csv" and row.at == NOW
    assert json.loads(kept[2].payload)["name"] == "远方公厕"

    second = import_places(session, path, now=NOW)
    session.commit()
    assert (second.inserted, second.updated, second.unchanged, second.quarantined,
            second.already_quarantined) == (0, 0, 3, 0, 7)
    assert session.scalar(select(func.count()).select_from(PointOfInterest)) == 3
    assert session.scalar(select(func.count()).select_from(QuarantinedRow)) == 7


def test_a_changed_row_updates_its_place(session: Session, city: dict[str, int],
                                         tmp_path: Path) -> None:
    path = _write(tmp_path / "places.csv", GOOD)
    import_places(session, path, now=NOW)
    session.commit()
    changed = [GOOD[0].replace("24/7", "06:00-22:00"), *GOOD[1:]]
    summary = import_places(session, _write(path, changed), now=NOW)
    session.commit()
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 1, 2)
    assert session.scalars(select(PointOfInterest.opening_hours)
                           .where(PointOfInterest.external_id == "T1")).one() == "06:00-22:00"


def test_geojson_and_gbk(session: Session, city: dict[str, int], tmp_path: Path) -> None:
    geo = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "A1", "geometry": {"type": "Point",
                                                   "coordinates": [120.1005, 30.2995]},
         "properties": {"layer": "convenience", "kind": "AED", "name": "地铁站AED",
                        "opening_hours": "24/7", "free": True}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
         "properties": {"id": "L1", "layer": "culture", "kind": "特色街区", "name": "老街"}},
    ]}
    path = tmp_path / "aed.geojson"
    path.write_text(json.dumps(geo, ensure_ascii=False), encoding="utf-8")
    summary = import_places(session, path, now=NOW)
    assert (summary.inserted, summary.quarantined) == (1, 1)
    assert "LineString" in summary.reasons[0]
    gbk = _write(tmp_path / "gbk.csv", GOOD[:1], encoding="gbk")
    assert import_places(session, gbk, now=NOW).inserted == 1


def test_unreadable_files_fail_in_one_line(session: Session, city: dict[str, int],
                                           tmp_path: Path) -> None:
    for name, body, fragment in (("x.xlsx", "", "expected a .csv or .geojson"),
                                 ("x.geojson", "{", "not JSON"),
                                 ("x.csv", "a,b\n1,2\n", "the header must name")):
        (tmp_path / name).write_text(body, encoding="utf-8")
        with pytest.raises(PlacesFileError, match=fragment):
            import_places(session, tmp_path / name, now=NOW)


def test_the_command_reports_and_a_rerun_changes_nothing(engine: Engine, session: Session,
                                                          city: dict[str, int],
                                                          tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDWATCH_DATABASE_URL", str(engine.url))
    path = _write(tmp_path / "places.csv", GOOD + [BAD[2][0]])
    runner = CliRunner()
    first = runner.invoke(import_places_command, [str(path)])
    assert first.exit_code == 0, first.output
    assert "imported 3 new, 0 updated, 0 unchanged; 1 rows quarantined" in first.output
    again = runner.invoke(import_places_command, [str(path)])
    assert "imported 0 new, 0 updated, 3 unchanged; 0 rows quarantined (1 already" in again.output
    missing = runner.invoke(import_places_command, [str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1 and "cannot read" in missing.output


def test_an_older_database_gains_the_place_columns(empty_database_url: str) -> None:
    from sqlalchemy import inspect, text

    from queries.engine import init_db, make_engine

    engine = make_engine(empty_database_url)
    with engine.begin() as conn:  # the table as the previous release created it
        conn.execute(text("CREATE TABLE points_of_interest (id INTEGER PRIMARY KEY, layer "
                          "VARCHAR(16), kind VARCHAR(16), name VARCHAR(64), address VARCHAR(128),"
                          " lat FLOAT, lon FLOAT, grid_id INTEGER, opening_hours VARCHAR(32), "
                          "accessible BOOLEAN, baby_care BOOLEAN, family_room BOOLEAN, status "
                          "VARCHAR(8), managing_unit VARCHAR(64), phone VARCHAR(20))"))
    init_db(engine)
    init_db(engine)  # twice: nothing left to add
    columns = {c["name"] for c in inspect(engine).get_columns("points_of_interest")}
    assert {"free", "paper", "description", "source", "external_id"} <= columns
    engine.dispose()
