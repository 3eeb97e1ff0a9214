"""Real-shaped data end to end in a real Chromium: the 311-style export of tests/data imported
through the importer's pipeline, then the wall, /grids and /quality looked at as the city stood
at 2026-11-15 15:00 (``GRIDWATCH_AS_OF``).

Every expected figure is worked out here from the CSV itself with the csv module — an
independent reading of the file by the rules of ``ingest/mappings/cases_311.yaml`` and the
city of ``tests/city311.py`` — never by Gridwatch's code.
"""

from __future__ import annotations

import csv
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import sessionmaker
from werkzeug.serving import make_server

from app import create_app, create_context, create_jobs
from ingest.importer.mapping import load_mapping
from ingest.importer.pipeline import CaseImporter, ImportSummary
from ingest.importer.readers import open_source
from queries.engine import init_db, make_engine
from queries.workcalendar import default_calendar
from settings import Settings
from snapshot.jobs import create_scheduler
from tests.browser.conftest import REFRESH_SECONDS, local_pages
from tests.city311 import TIMEZONE, build_city311

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CSV_FILE = ROOT / "tests" / "data" / "cases_311.csv"
MAPPING = ROOT / "ingest" / "mappings" / "cases_311.yaml"
AS_OF = datetime(2026, 11, 15, 15, 0)  # a Sunday afternoon inside the file's Oct–Nov span
IMPORTED_AT = datetime(2026, 11, 30, 12, 0)  # the import's "now": later closures are future
TIMES = ("%Y-%m-%d %H:%M:%S", "%m/%d/%Y %I:%M:%S %p")  # the mapping's timestamp formats
CITY_HALL = ("-71.0587", "42.3594")  # the mapping's default geocode, exactly as the file has it
CANCELLED = ("Duplicate of Existing Case", "Invalid")  # closure reasons meaning 作废
WARD_LONS = {"1": (-71.09, -71.08), "3": (-71.08, -71.07), "5": (-71.07, -71.05)}
SOUTH, NORTH = 42.34, 42.37


# ------------------------------------------------------------- an independent reading of the CSV

def _time(text: str) -> datetime | None:
    """Parse a timestamp as the mapping does; None when empty, ValueError when unparseable."""
    if not text:
        return None
    for fmt in TIMES:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            pass
    raise ValueError(text)


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def _field_ward(row: dict[str, str]) -> str | None:
    """The ward the area fields name: the precinct's first digit ("306.0", "0306", "0502A"),
    else the ward field ("Ward 3", "03", "3"); None when neither names one of the city's."""
    precinct = row["precinct"].lstrip("0")
    if precinct:
        return precinct[0]
    ward = re.sub(r"^[Ww]ard\s*", "", row["ward"]).lstrip("0")
    return ward if ward in WARD_LONS else None


def _point_ward(row: dict[str, str]) -> str | None:
    """The ward whose box holds the point; None outside the city."""
    lon, lat = float(row["longitude"]), float(row["latitude"])
    if not SOUTH <= lat <= NORTH:
        return None
    return next((w for w, (west, east) in WARD_LONS.items() if west <= lon < east), None)


@dataclass
class Row:
    """One imported row as the city means it."""

    case_id: str
    reported: datetime
    closed: datetime | None
    deadline: datetime | None
    cancelled: bool
    ward: str
    imprecise: bool


def read_csv() -> tuple[int, list[Row], int]:
    """Return (rows read, rows the import takes in, rows it must quarantine)."""
    seen: set[str] = set()
    taken: list[Row] = []
    read = quarantined = 0
    with CSV_FILE.open(encoding="utf-8", errors="replace", newline="") as f:
        for row in csv.DictReader(f):
            read += 1
            row_id = row["case_enquiry_id"]
            duplicate = row_id in seen
            seen.add(row_id)
            try:
                reported, closed = _time(row["open_dt"]), _time(row["closed_dt"])
                deadline = _time(row["target_dt"])
            except ValueError:  # 31/31/2026 25:61
                quarantined += 1
                continue
            city_hall = (row["longitude"], row["latitude"]) == CITY_HALL
            coarse = min(_decimals(row["longitude"]), _decimals(row["latitude"])) < 4
            point_ward = _point_ward(row)
            field_ward = _field_ward(row)
            imprecise = city_hall or coarse or point_ward is None
            ward = field_ward if imprecise else point_ward  # prefer: point, when it is precise
            bad = (duplicate
                   or any("\ufffd" in v for v in row.values())  # an undecodable byte
                   or reported is None  # no open time
                   # 2026-11-01 01:00–02:00 happens twice in New York: ambiguous
                   or (reported.date() == datetime(2026, 11, 1).date() and reported.hour == 1)
                   or (closed is not None and closed < reported)
                   or (closed is not None and closed > IMPORTED_AT)
                   or row["case_status"] not in ("Open", "Closed")
                   or (not row["ward"] and not row["precinct"] and imprecise)  # nowhere to put
                   or ((row["ward"] or row["precinct"]) and field_ward is None)  # "Ward 9"
                   or ward is None)
            if bad:
                quarantined += 1
                continue
            assert reported is not None and ward is not None
            taken.append(Row(row_id, reported, closed, deadline,
                             row["closure_reason"] in CANCELLED, ward, imprecise))
    return read, taken, quarantined


READ, ROWS, QUARANTINED = read_csv()


# ------------------------------------------------------------------------------ the served city

@dataclass
class City311:
    """The served app on the imported 311 city, and what the import said."""

    url: str
    summary: ImportSummary


@pytest.fixture(scope="module")
def city311(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City311]:
    """Build the city, import the CSV as ``gridwatch import-cases`` does, serve at AS_OF."""
    folder = tmp_path_factory.mktemp("city311")
    url = f"sqlite:///{folder / 'city311.sqlite3'}"
    engine = make_engine(url)
    init_db(engine)
    with sessionmaker(engine)() as session:
        build_city311(session)
        session.commit()
    mapping = load_mapping(MAPPING)
    source = open_source(CSV_FILE, mapping.format, encoding=mapping.encoding,
                         sheet=mapping.sheet, header_row=mapping.header_row)
    summary = CaseImporter(engine, mapping, now=IMPORTED_AT, city_timezone=TIMEZONE,
                           calendar=default_calendar()).run(source)
    engine.dispose()
    settings = Settings(data_dir=folder, database_url=url, refresh_seconds=REFRESH_SECONDS,
                        timezone=TIMEZONE, as_of=AS_OF)
    ctx = create_context(settings)
    server = make_server("127.0.0.1", 0, create_app(context=ctx).server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="gridwatch-311-server",
                              daemon=True)
    thread.start()
    scheduler = create_scheduler(create_jobs(ctx), timezone=settings.timezone)
    ctx.store.refresh()
    scheduler.start()
    yield City311(url=f"http://127.0.0.1:{server.server_port}", summary=summary)
    scheduler.shutdown(wait=False)
    server.shutdown()
    thread.join(timeout=10)
    ctx.engine.dispose()


@pytest.fixture
def open_311(browser: Browser, city311: City311) -> Iterator[Callable[..., Page]]:
    """Open the 311 city's pages; afterwards, assert every request stayed on this machine."""
    yield from local_pages(browser, city311.url)


def test_the_import_reads_what_the_csv_holds(city311: City311) -> None:
    # Read = every data row of the file (290); imported = the rows the reading above takes in;
    # read = imported + quarantined, as the importer must keep it.
    assert (city311.summary.read, city311.summary.imported) == (READ, len(ROWS))
    assert READ == len(ROWS) + QUARANTINED
