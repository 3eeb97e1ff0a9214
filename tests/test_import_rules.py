"""Single rules of the pipeline on small synthetic exports in the three-ward city."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
from pyproj import Transformer
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from ingest.importer.mapping import parse_mapping
from ingest.importer.pipeline import CaseImporter, ImportSummary
from ingest.importer.readers import open_source
from queries.coords import wgs84_to_bd09
from queries.models import Case
from queries.workcalendar import default_calendar
from tests.city311 import TIMEZONE, build_city311

NOW = datetime(2026, 11, 30, 12, 0)
MAPPING = """\
name: synthetic
timezone: America/New_York
fields:
  external_id: id
  reported_at: opened
  category_minor: type
  source: {const: x}
  lon: x
  lat: y
  area: ward
source:
  default: 巡查上报
category:
  max_new: 2
area:
  normalise:
    - {pattern: '(?:Ward )?0*(\\d{1,2})', replace: 'Ward \\1'}
deadline: {from: none}
"""


@pytest.fixture
def city(session_factory: sessionmaker[Session]) -> dict[str, int]:
    with session_factory() as s:
        ids = build_city311(s)
        s.commit()
    return ids


def write(path: Path, rows: list[tuple[str, str, str, str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "opened", "type", "x", "y", "ward"])
        for k, (kind, x, y, ward, opened) in enumerate(rows):
            writer.writerow([f"S{k}", opened, kind, x, y, ward])
    return path


def run(engine: Engine, path: Path, mapping: str = MAPPING) -> ImportSummary:
    importer = CaseImporter(engine, parse_mapping(mapping), now=NOW, city_timezone=TIMEZONE,
                            calendar=default_calendar())
    return importer.run(open_source(path, "csv"))


def test_a_point_shared_by_many_rows_is_imprecise(engine: Engine, city: dict[str, int],
                                                  session: Session, tmp_path: Path) -> None:
    rows = [("Pothole", "-71.0750", "42.3600", "3", "2026-11-02 10:00:00")] * 20
    rows += [("Pothole", f"-71.07{k:02d}", "42.3600", "3", "2026-11-02 10:00:00")
             for k in range(10, 40)]
    summary = run(engine, write(tmp_path / "a.csv", rows))
    assert summary.inserted == 50 and summary.imprecise == 20
    notes = dict(session.execute(select(Case.location_note, func.count())
                                 .group_by(Case.location_note)).all())
    assert notes == {"shared_point": 20, None: 30}
    # 19 rows at one point are under the minimum of 20: precise.
    summary = run(engine, write(tmp_path / "b.csv", rows[1:]), MAPPING.replace(
        "name: synthetic", "name: other"))
    assert summary.imprecise == 0


def test_new_categories_stop_at_max_new(engine: Engine, city: dict[str, int],
                                        tmp_path: Path) -> None:
    rows = [(kind, "-71.0750", "42.3600", "3", "2026-11-02 10:00:00")
            for kind in ("A", "B", "A", "C", "D")]
    summary = run(engine, write(tmp_path / "c.csv", rows))
    assert summary.inserted == 3 and dict(summary.quarantined) == {"category_limit": 2}


def test_epsg_and_bd09_points_land_where_wgs84_does(engine: Engine, city: dict[str, int],
                                                    session: Session, tmp_path: Path) -> None:
    to_feet = Transformer.from_crs("EPSG:4326", "EPSG:2249", always_xy=True)
    points = [(-71.0850, 42.3601), (-71.0750, 42.3450), (-71.0600, 42.3650)]
    feet = [to_feet.transform(lon, lat) for lon, lat in points]
    rows = [("Pothole", f"{x:.1f}", f"{y:.1f}", "", "2026-11-02 10:00:00") for x, y in feet]
    no_ward = MAPPING.replace("  area: ward\n", "")
    summary = run(engine, write(tmp_path / "feet.csv", rows),
                  no_ward + "coordinates: {crs: 'EPSG:2249'}\n")
    assert summary.inserted == 3 and summary.imprecise == 0
    baidu = [wgs84_to_bd09(lon, lat) for lon, lat in points]
    rows = [("Pothole", f"{x:.6f}", f"{y:.6f}", "", "2026-11-02 10:00:00") for x, y in baidu]
    summary = run(engine, write(tmp_path / "bd.csv", rows), no_ward.replace(
        "name: synthetic", "name: baidu") + "coordinates: {crs: bd09}\n")
    assert summary.inserted == 3
    placed = session.execute(select(Case.source_system, Case.external_id, Case.lon, Case.lat,
                                    Case.community_id)).all()
    by_source: dict[str, list] = {}
    for source, _, lon, lat, community in sorted(placed, key=lambda r: (r[0], r[1])):
        by_source.setdefault(source, []).append((lon, lat, community))
    for (lon, lat, community), (w_lon, w_lat), (b_lon, b_lat, b_comm) in zip(
            by_source["synthetic"], points, by_source["baidu"], strict=True):
        assert abs(lon - w_lon) < 1e-5 and abs(lat - w_lat) < 1e-5  # a foot is 3e-6 degrees
        assert abs(b_lon - w_lon) < 1e-5 and abs(b_lat - w_lat) < 1e-5
        assert community == b_comm
    assert [c for _, _, c in by_source["synthetic"]] == [city["P101"], city["P307"],
                                                         city["P502A"]]


def test_zero_zero_means_no_point(engine: Engine, city: dict[str, int], session: Session,
                                  tmp_path: Path) -> None:
    rows = [("Pothole", "0", "0", "3", "2026-11-02 10:00:00")]
    summary = run(engine, write(tmp_path / "z.csv", rows))
    assert summary.inserted == 1
    assert session.scalar(select(Case.location_note)) == "area_centre"
