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
from tests.identities import as_leader

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
PRECINCTS = {"1": ("101", "102"), "3": ("306", "307"), "5": ("502A", "502B")}  # north, south
SOUTH, MIDDLE, NORTH = 42.34, 42.355, 42.37


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


def _disagrees(row: dict[str, str], point_ward: str) -> bool:
    """Whether the area fields name another ward or precinct than the one the point is in."""
    named = _field_ward(row)
    precinct = re.sub(r"\.0+$", "", row["precinct"]).lstrip("0")
    half = 0 if float(row["latitude"]) >= MIDDLE else 1
    return named != point_ward or bool(precinct) and precinct != PRECINCTS[point_ward][half]


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
    disagrees: bool  # the fields name another area than the point (or the point is outside)


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
            disagrees = point_ward is None or not imprecise and _disagrees(row, point_ward)
            taken.append(Row(row_id, reported, closed, deadline,
                             row["closure_reason"] in CANCELLED, ward, imprecise, disagrees))
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
                        timezone=TIMEZONE, as_of=AS_OF, open_wall=True)
    ctx = create_context(settings)
    server = make_server("127.0.0.1", 0, as_leader(create_app(context=ctx)), threaded=True)
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


# ------------------------------------------------------------------------ figures from the CSV

DAY_START = AS_OF.replace(hour=0)  # 2026-11-15 00:00, "today" on the wall
MONTH_START = AS_OF.replace(day=1, hour=0)  # 2026-11-01 00:00, "this month"


def open_at_as_of(row: Row) -> bool:
    """Open at AS_OF: reported by then, not closed by then (a cancelled case closes too)."""
    return row.reported <= AS_OF and (row.closed is None or row.closed > AS_OF)


# 上报数 today: imported cases reported on 11-15 before 15:00. The file has three on 11-15
# (101000171 at 19:00, 101000131 at 07:25 PM) — both after 15:00 — so the wall must read 0,
# not the whole day's 2.
TODAY_REPORTED = sum(DAY_START <= r.reported < AS_OF for r in ROWS)
# 立案数 today: the mapping registers a 311 request when it is opened (registered_at =
# reported_at), so the same count.
TODAY_REGISTERED = TODAY_REPORTED
# 超期未结案 at AS_OF: open then (and never cancelled) with a target_dt before 15:00 — 72.
OVERDUE = sum(open_at_as_of(r) and not r.cancelled and r.deadline is not None
              and r.deadline < AS_OF for r in ROWS)
# 按期结案率 month to date, bulletin convention: cases opened 11-01 … 15:00, not cancelled, that
# are closed or past their target_dt by 15:00 (43); of them closed by 15:00 no later than the
# target, or with no target (a 311 request without one is on time) (11): 11 / 43 = 25.58%.
DUE = [r for r in ROWS if MONTH_START <= r.reported < AS_OF and not r.cancelled
       and ((r.closed is not None and r.closed < AS_OF)
            or (r.deadline is not None and r.deadline < AS_OF))]
ON_TIME = [r for r in DUE if r.closed is not None and r.closed < AS_OF
           and (r.deadline is None or r.closed <= r.deadline)]
# Ward 3, this month (11-01 to 15:00): 上报数 = 立案数 = 17 (a precise point places a case; an
# imprecise one — city hall, 3 decimals, outside — goes by its precinct or ward field).
W3_MONTH = sum(r.ward == "3" and MONTH_START <= r.reported < AS_OF for r in ROWS)
# Ward 3's open cases at 15:00: 35, of them 25 past their target (the 超期未结案 tile agrees).
W3_OPEN = [r for r in ROWS if r.ward == "3" and open_at_as_of(r)]
W3_OPEN_OVERDUE = sum(r.deadline is not None and r.deadline < AS_OF for r in W3_OPEN)
# /quality: quarantined rows 22; imprecise locations 44 (37 on city hall, 5 with 3-decimal
# coordinates, 2 outside every precinct but placed by their ward), 44 / 268 = 16.42% of the
# source's cases; area field vs point 8 (6 whose precinct field says 306 while the point is in
# P101, and the 2 outside).
IMPRECISE = sum(r.imprecise for r in ROWS)
DISAGREE = sum(r.disagrees for r in ROWS)


def test_the_hand_worked_figures_are_what_the_file_says() -> None:
    # The literals the pages are checked against, each derived above from the CSV.
    assert (READ, len(ROWS), QUARANTINED) == (290, 268, 22)
    assert (TODAY_REPORTED, OVERDUE, len(ON_TIME), len(DUE)) == (0, 72, 11, 43)
    assert (W3_MONTH, len(W3_OPEN), W3_OPEN_OVERDUE) == (17, 35, 25)
    assert (IMPRECISE, DISAGREE) == (44, 8)


def _pct(numerator: int, denominator: int) -> str:
    return f"{numerator / denominator:.2%}"


# ------------------------------------------------------------------------------------ the pages

def wall_tile(page: Page, key: str) -> str:
    return page.locator(f'[id*=\'"index":"{key}"\'] .gw-tile-value').inner_text()


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (3840, 2160)])
def test_the_wall_stands_at_as_of(open_311: Callable[..., Page], artifacts: Path,
                                  width: int, height: int) -> None:
    page = open_311("/screen", width, height)
    expect(page.locator(".gw-history")).to_have_text("回看", timeout=15_000)
    expect(page.locator(".gw-clock")).to_contain_text("15:00:00", timeout=15_000)
    expect(page.locator(".gw-clock")).to_contain_text("2026-11-15")
    page.wait_for_timeout(2 * REFRESH_SECONDS * 1000)  # a refresh or two: the clock stays put
    expect(page.locator(".gw-clock")).to_contain_text("15:00:00")
    assert wall_tile(page, "reported") == f"{TODAY_REPORTED}"
    assert wall_tile(page, "registered") == f"{TODAY_REGISTERED}"
    assert wall_tile(page, "open_overdue") == f"{OVERDUE}"
    assert wall_tile(page, "ontime_close_rate") == _pct(len(ON_TIME), len(DUE))
    page.wait_for_selector(".gw-cluster, path.gw-case", timeout=15_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / f"real311-screen-{width}x{height}.png"))


GRID_TILES_JS = """() => Object.fromEntries(Array.from(document.querySelectorAll('.gw-g-tile'))
  .map(el => [el.dataset.key, el.querySelector('.gw-g-tile-text').textContent]))"""


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (3840, 2160)])
def test_grids_shows_a_wards_month(open_311: Callable[..., Page], artifacts: Path,
                                   width: int, height: int) -> None:
    # The on-time registration rate as the coloured indicator: its tile joins the page's.
    page = open_311("/grids?area=W3&kpi=ontime_register_rate", width, height)
    expect(page.locator(".gw-g-crumb-here")).to_have_text("Ward 3", timeout=15_000)
    page.wait_for_selector("path.gw-area", timeout=15_000)
    expect(page.locator(".gw-g-computed")).to_contain_text("2026-11-15 15:00")
    tiles = page.evaluate(GRID_TILES_JS)
    assert (tiles["reported"], tiles["registered"]) == (f"{W3_MONTH}", f"{W3_MONTH}")
    # The source has no registration times (registered_at is the open time): 不适用, not 100%.
    assert tiles["ontime_register_rate"] == "不适用"
    expect(page.locator("#grids-cases-title")).to_contain_text(
        f"共 {len(W3_OPEN)} 件 · 超期 {W3_OPEN_OVERDUE} 件")
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / f"real311-grids-{width}x{height}.png"))


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (3840, 2160), (390, 844)])
def test_quality_shows_what_the_import_could_not_take(
        open_311: Callable[..., Page], artifacts: Path, width: int, height: int) -> None:
    page = open_311("/quality", width, height)
    values = page.locator(".gw-q-tile-value")
    expect(values.first).to_have_text(f"{QUARANTINED}", timeout=15_000)
    assert values.all_inner_texts()[:3] == [f"{QUARANTINED}", f"{IMPRECISE}", f"{DISAGREE}"]
    assert page.locator(".gw-q-tile-note").nth(1).inner_text() == \
        f"占比 {_pct(IMPRECISE, len(ROWS))}"
    # The quarantine table sums to the same rows.
    rows = page.locator("#quality-quarantine tbody tr td:last-child").all_inner_texts()
    assert sum(int(n) for n in rows) == QUARANTINED
    # The 30-day chart has its height and draws the quarantined rows' bars (it was 0 px high:
    # the graph's own height: 100% overrode its class's 300 px).
    expect(page.locator("#quality-trend .main-svg").first).to_be_visible(timeout=15_000)
    assert page.locator("#quality-trend").bounding_box()["height"] >= 250
    expect(page.locator("#quality-trend .bars path").first).to_be_attached()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / f"real311-quality-{width}x{height}.png"),
                    full_page=width < 1000)
