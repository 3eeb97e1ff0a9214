"""Benchmark the case importer against a bare CSV load, in the same run; run on demand.

    python bench/import.py [--rows 1000000] [--seed 5]

In a temporary folder: the demo city's areas (≈500 unit grids, real polygons) in a fresh
SQLite database, and a CSV of ``--rows`` cases (id, report and closure times, status, minor
class, a point inside a random grid at 6 decimals). It times

- **baseline**: ``csv.reader`` over the file and one ``executemany`` per 5,000 rows of the
  same rows into the same ``cases`` table of another fresh database (constant category and
  street, no parsing, no checks, no area assignment), and
- **import**: ``CaseImporter`` with a mapping, i.e. timestamps parsed, values mapped, every
  point assigned to its grid by the locator, upsert by (source, id), quarantine checks,

and prints rows per second for both and their ratio (goal ≤ 2×).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import shapely
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ingest.democity import generate
from ingest.importer.mapping import parse_mapping
from ingest.importer.pipeline import CaseImporter
from ingest.importer.readers import open_source
from queries.engine import init_db, make_engine
from queries.models import Area, Case, Category
from queries.workcalendar import default_calendar

NOW = datetime(2026, 11, 30, 12, 0)
MAPPING = """\
name: bench
format: csv
encoding: utf-8
timezone: Asia/Shanghai
fields:
  external_id: id
  reported_at: reported
  registered_at: {field: reported_at}
  closed_at: closed
  status: status
  category_minor: minor
  source: {const: 巡查上报}
  lon: lon
  lat: lat
status:
  map: {open: 立案, closed: 结案}
source:
  default: 巡查上报
deadline:
  from: category
"""
HEADER = ["id", "reported", "closed", "status", "minor", "lon", "lat"]
BATCH = 5_000


def make_city(url: str) -> tuple[list[str], list[tuple[float, float, float, float]]]:
    """Build the demo city's areas only; return minor classes and the grids' bounds."""
    engine = make_engine(url)
    init_db(engine)
    generate(engine, cases=0, seed=3, now=NOW)
    with Session(engine) as session:
        minors = list(session.scalars(select(Category.minor).order_by(Category.id)))
        grids = [shapely.from_geojson(g) for g in session.scalars(
            select(Area.geometry).where(Area.level == "grid"))]
    engine.dispose()
    return minors, [tuple(g.buffer(-1e-5).bounds) for g in grids]  # type: ignore[misc]


def write_csv(path: Path, rows: int, seed: int, minors: list[str],
              grids: list[tuple[float, float, float, float]]) -> None:
    """Write ``rows`` cases; each point is drawn inside a grid's bounding box, near its centre."""
    rng = random.Random(seed)
    start = NOW - timedelta(days=365)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for k in range(rows):
            west, south, east, north = grids[rng.randrange(len(grids))]
            cx, cy = (west + east) / 2, (south + north) / 2
            lon = cx + (east - west) * rng.uniform(-0.1, 0.1)
            lat = cy + (north - south) * rng.uniform(-0.1, 0.1)
            reported = start + timedelta(seconds=rng.randrange(360 * 86_400))
            closed = reported + timedelta(hours=rng.uniform(1, 100))
            is_closed = closed < NOW and rng.random() < 0.8
            writer.writerow([f"B{k:08d}", reported.strftime("%Y-%m-%d %H:%M:%S"),
                             closed.strftime("%Y-%m-%d %H:%M:%S") if is_closed else "",
                             "closed" if is_closed else "open", rng.choice(minors),
                             f"{lon:.6f}", f"{lat:.6f}"])


def baseline(url: str, path: Path) -> tuple[float, int]:
    """csv.reader + executemany of the same rows into the same table; return (s, rows)."""
    engine = make_engine(url)
    init_db(engine)
    generate(engine, cases=0, seed=3, now=NOW)
    with Session(engine) as session:
        category = session.scalar(select(func.min(Category.id)))
        street = session.scalar(select(func.min(Area.id)).where(Area.level == "street"))
    table = Case.__table__
    columns = ["source_system", "external_id", "source", "category_id", "description",
               "address", "lat", "lon", "location_precise", "street_id", "status", "urgency",
               "severity", "valid_report", "reported_at", "closed_at", "extended",
               "misdispatched", "rework_count"]
    statement = insert(table).compile(dialect=engine.dialect, column_keys=columns)
    order = statement.positiontup
    started = time.perf_counter()
    n = 0
    with engine.connect() as conn, path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        batch: list[tuple] = []
        for ident, reported, closed, status, _minor, lon, lat in reader:
            row = {"source_system": "bench", "external_id": ident, "source": "巡查上报",
                   "category_id": category, "description": "", "address": "", "lat": lat,
                   "lon": lon, "location_precise": 1, "street_id": street, "status": status,
                   "urgency": "一般", "severity": 1, "valid_report": 1, "reported_at": reported,
                   "closed_at": closed or None, "extended": 0, "misdispatched": 0,
                   "rework_count": 0}
            batch.append(tuple(row[c] for c in order))
            if len(batch) >= BATCH:
                with conn.begin():
                    conn.exec_driver_sql(statement.string, batch)
                n += len(batch)
                batch = []
        if batch:
            with conn.begin():
                conn.exec_driver_sql(statement.string, batch)
            n += len(batch)
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds, n


def run_import(url: str, path: Path) -> tuple[float, int, int]:
    """Import the file with the pipeline; return (s, rows read, rows with a grid)."""
    engine = make_engine(url)
    started = time.perf_counter()
    importer = CaseImporter(engine, parse_mapping(MAPPING), now=NOW,
                            city_timezone="Asia/Shanghai", calendar=default_calendar(),
                            batch_size=BATCH)
    summary = importer.run(open_source(path, "csv", encoding="utf-8"))
    seconds = time.perf_counter() - started
    with Session(engine) as session:
        gridded = session.scalar(select(func.count()).select_from(Case).where(
            Case.grid_id.is_not(None))) or 0
    engine.dispose()
    if summary.quarantined_total:
        print(f"  quarantined: {dict(summary.quarantined)}")
    return seconds, summary.read, gridded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        minors, grids = make_city(f"sqlite:///{base / 'import.sqlite3'}")
        path = base / "cases.csv"
        began = time.perf_counter()
        write_csv(path, args.rows, args.seed, minors, grids)
        print(f"{args.rows:,} rows, {path.stat().st_size / 1e6:,.0f} MB, {len(grids)} grids "
              f"(written in {time.perf_counter() - began:.1f} s)")
        base_s, base_n = baseline(f"sqlite:///{base / 'baseline.sqlite3'}", path)
        print(f"baseline  csv + executemany: {base_s:7.1f} s  {base_n / base_s:10,.0f} rows/s")
        imp_s, imp_n, gridded = run_import(f"sqlite:///{base / 'import.sqlite3'}", path)
        print(f"import    CaseImporter:      {imp_s:7.1f} s  {imp_n / imp_s:10,.0f} rows/s "
              f"({gridded:,} assigned to a grid)")
        print(f"ratio import / baseline: {imp_s / base_s:.2f}×  (goal ≤ 2×)")


if __name__ == "__main__":
    main()
