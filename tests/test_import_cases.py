"""The case importer on the sample exports of tests/data (made by tests/data/make_samples.py).

Expected counts come from how the samples were made: make_samples.py writes each kind of dirt
a fixed number of times (``_dirt_311``), and the base rows follow fixed rules (every 7th row
from the 4th sits on city hall, every 50th from the 9th has 3-decimal coordinates …).
"""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from ingest.importer.mapping import load_mapping, parse_mapping
from ingest.importer.pipeline import CaseImporter, ImportSummary, photo_urls
from ingest.importer.readers import detect_encoding, open_source
from ingest.spatial import AreaLocator
from queries.coords import wgs84_to_gcj02
from queries.models import (
    STATUS_CANCELLED,
    Area,
    Case,
    CaseEvent,
    Category,
    Department,
    QuarantinedRow,
)
from queries.workcalendar import default_calendar
from tests.city311 import TIMEZONE, build_city311
from tests.handbuilt import build_city

DATA = Path(__file__).parent / "data"
MAPPINGS = Path(__file__).parent.parent / "ingest" / "mappings"
NOW_311 = datetime(2026, 11, 30, 12, 0)
NOW_CN = datetime(2026, 11, 20, 12, 0)


def run(engine: Engine, file: Path, mapping: Path | str, *, tz: str = TIMEZONE,
        now: datetime = NOW_311, **options: object) -> ImportSummary:
    """Import one file as the CLI would."""
    m = load_mapping(mapping) if isinstance(mapping, Path) else parse_mapping(mapping)
    dry_run = bool(options.pop("dry_run", False))
    interrupt = options.pop("interrupt", None)
    source = open_source(file, m.format, encoding=m.encoding, sheet=m.sheet)
    importer = CaseImporter(engine, m, now=now, city_timezone=tz, calendar=default_calendar(),
                            **options)  # type: ignore[arg-type]
    return importer.run(source, dry_run=dry_run, interrupt=interrupt)  # type: ignore[arg-type]


@pytest.fixture
def city(session_factory: sessionmaker[Session]) -> dict[str, int]:
    """Both sample cities: the three-ward 311 city and the hand-built Chinese district."""
    with session_factory() as s:
        ids = build_city311(s)
        build_city(s)
        s.commit()
    return ids


def raw_311() -> dict[str, dict[str, str]]:
    """Return the 311 sample's rows by id as csv reads them (the first of a duplicated id)."""
    rows: dict[str, dict[str, str]] = {}
    with (DATA / "cases_311.csv").open(encoding="utf-8", errors="replace", newline="") as f:
        for r in csv.DictReader(f):
            rows.setdefault(r["case_enquiry_id"], r)
    return rows


def count(session: Session, *where: object) -> int:
    return session.scalar(select(func.count()).select_from(Case).where(*where)) or 0


# ------------------------------------------------------------------------ the 311 export

QUARANTINE_311 = {"no_location": 2, "outside_areas": 3, "ambiguous_time": 1,
                  "impossible_order": 4, "future_time": 2, "duplicate_id": 3, "undecodable": 1,
                  "missing_field": 2, "bad_timestamp": 2, "unknown_value": 2}
# The dirt row's title names the reason it must be quarantined for.
TITLE_REASON = {"dirt: default geocode, no area": "no_location",
                "dirt: outside, no area": "outside_areas",
                "dirt: ambiguous DST hour": "ambiguous_time",
                "dirt: closed before opened": "impossible_order",
                "dirt: closed in the future": "future_time",
                "dirt: duplicate id": "duplicate_id",
                "dirt: no open time": "missing_field",
                "dirt: unparseable time": "bad_timestamp",
                "dirt: unknown status": "unknown_value",
                "dirt: unknown ward": "unknown_value"}


def test_311_every_kind_of_dirt_is_quarantined_with_its_reason(
        engine: Engine, city: dict[str, int], session: Session) -> None:
    summary = run(engine, DATA / "cases_311.csv", MAPPINGS / "cases_311.yaml")
    assert summary.read == 290
    assert dict(summary.quarantined) == QUARANTINE_311
    assert summary.inserted == 268 and summary.read == summary.imported + 22
    rows = session.execute(select(QuarantinedRow)).scalars().all()
    assert len(rows) == 22
    by_title = Counter()
    for row in rows:
        assert row.source_system == "city-311" and row.file_name == "cases_311.csv"
        assert row.reason.count(" / ") >= 1  # "中文 / English: detail"
        if row.reason_code == "undecodable":
            assert "\\xff" in row.payload  # the raw byte is kept, visibly
            continue
        title = next(t for t in TITLE_REASON if t in row.payload)
        assert row.reason_code == TITLE_REASON[title], (title, row.reason)
        by_title[title] += 1
    assert by_title["dirt: duplicate id"] == 3
    assert count(session) == 268


def test_311_locations_precision_and_disagreements(
        engine: Engine, city: dict[str, int], session: Session) -> None:
    run(engine, DATA / "cases_311.csv", MAPPINGS / "cases_311.yaml")
    notes = dict(session.execute(select(Case.location_note, func.count())
                                 .group_by(Case.location_note)).all())
    # 260 base rows: k % 7 == 3 → 38 on city hall (one is the first duplicate's original …)
    assert notes == {None: 218, "default_geocode": 37, "coarse": 5,
                     "field_point_disagree": 6, "point_outside": 2}
    assert count(session, Case.location_precise.is_(False)) == 44
    # A city-hall case keeps the area its fields name, not city hall's precinct.
    hall = session.execute(select(Case.street_id, Case.community_id).where(
        Case.location_note == "default_geocode")).all()
    assert {street for street, _ in hall} == {city["W1"], city["W3"], city["W5"]}
    # The field says P306 (Ward 3); the precise point is in P101 and wins (prefer: point).
    disagree = session.execute(select(Case.street_id, Case.community_id).where(
        Case.location_note == "field_point_disagree")).all()
    assert set(disagree) == {(city["W1"], city["P101"])}
    # Outside every area but the ward is given: placed in Ward 3 with no precinct.
    outside = session.execute(select(Case.street_id, Case.community_id).where(
        Case.location_note == "point_outside")).all()
    assert set(outside) == {(city["W3"], None)}


def test_311_area_spellings_reach_one_area(engine: Engine, city: dict[str, int],
                                           session: Session) -> None:
    run(engine, DATA / "cases_311.csv", MAPPINGS / "cases_311.yaml")
    raw = raw_311()
    rows = session.execute(select(Case.external_id, Case.street_id, Case.community_id,
                                  Case.location_note)).all()
    spelled: dict[str, set[str]] = {}
    for external_id, street, community, note in rows:
        if note is not None:
            continue
        r = raw[external_id]
        code = {v: k for k, v in city.items()}[street]
        spelled.setdefault(code, set()).add(r["ward"])
        if r["precinct"]:
            precinct = {v: k for k, v in city.items()}[community]
            assert precinct.lstrip("P") == r["precinct"].removesuffix(".0").lstrip("0")
    assert spelled["W3"] == {"Ward 3", "03", "3"}
    assert spelled["W1"] == {"Ward 1", "01", "1"}


def test_311_statuses_closures_deadlines_and_long_types(
        engine: Engine, city: dict[str, int], session: Session) -> None:
    run(engine, DATA / "cases_311.csv", MAPPINGS / "cases_311.yaml")
    raw = raw_311()
    stored = {c.external_id: c for c in session.execute(select(Case)).scalars()}
    cancelled = {k for k, r in raw.items() if k in stored and r["closure_reason"] in (
        "Duplicate of Existing Case", "Invalid")}
    assert len(cancelled) > 0
    for key, case in stored.items():
        r = raw[key]
        if key in cancelled:
            assert case.status == STATUS_CANCELLED and case.closed_at is None
            assert case.cancelled_at is not None
        elif r["case_status"] == "Closed":
            assert case.status == "结案" and case.closed_at is not None
        else:
            assert case.status == "立案" and case.closed_at is None
        assert case.status_raw == r["case_status"]
        assert (case.deadline_at is None) == (r["target_dt"] == "")
        assert case.registered_at == case.reported_at
    no_deadline = sum(1 for c in stored.values() if c.deadline_at is None)
    assert no_deadline / len(stored) > 0.15  # about 22% of the base rows have none
    long_names = session.scalars(select(Category.minor).where(
        func.length(Category.minor) > 100)).all()
    assert len(long_names) == 2


def test_311_dst_times_are_converted(engine: Engine, city: dict[str, int],
                                     session: Session) -> None:
    """12-hour times with AM/PM and ISO times land on the same wall clock; the city is NY."""
    run(engine, DATA / "cases_311.csv", MAPPINGS / "cases_311.yaml")
    raw = raw_311()
    for case in session.execute(select(Case)).scalars():
        text = raw[case.external_id]["open_dt"]
        fmt = "%m/%d/%Y %I:%M:%S %p" if "M" in text else "%Y-%m-%d %H:%M:%S"
        assert case.reported_at == datetime.strptime(text, fmt)


def test_311_in_shanghai_time_shifts_by_the_offset(engine: Engine, city: dict[str, int],
                                                   session: Session) -> None:
    """A source in New York imported into a city on Shanghai time: +12 h in summer time."""
    run(engine, DATA / "cases_311.csv", MAPPINGS / "cases_311.yaml", tz="Asia/Shanghai",
        now=datetime(2026, 12, 1, 1, 0))
    case = session.scalars(select(Case).where(Case.external_id == "101000001")).one()
    assert case.reported_at == datetime(2026, 10, 28, 2, 26)  # 2026-10-27 14:26 EDT


def test_second_import_changes_nothing(engine: Engine, city: dict[str, int],
                                       session: Session) -> None:
    run(engine, DATA / "cases_311.csv", MAPPINGS / "cases_311.yaml")
    again = run(engine, DATA / "cases_311.csv", MAPPINGS / "cases_311.yaml")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 268)
    assert again.quarantined_total == 22
    assert session.scalar(select(func.count()).select_from(CaseEvent)) == 0
    assert session.scalar(select(func.count()).select_from(QuarantinedRow)) == 22
    assert session.scalar(select(func.count()).select_from(Category)) == 4 + 8
    assert count(session) == 268


def test_edited_row_updates_the_case_and_adds_an_event(
        engine: Engine, city: dict[str, int], session: Session, tmp_path: Path) -> None:
    run(engine, DATA / "cases_311.csv", MAPPINGS / "cases_311.yaml")
    text = (DATA / "cases_311.csv").read_bytes()
    old = b"101000001,2026-10-27 14:26:00,2026-10-30 14:26:00,,Open,,"
    new = (b"101000001,2026-10-27 14:26:00,2026-10-30 14:26:00,2026-10-29 09:00:00,Closed,"
           b"Case Resolved,")
    assert text.count(old) == 1
    edited = tmp_path / "cases_311.csv"
    edited.write_bytes(text.replace(old, new))
    summary = run(engine, edited, MAPPINGS / "cases_311.yaml")
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 1, 267)
    case = session.scalars(select(Case).where(Case.external_id == "101000001")).one()
    assert case.status == "结案" and case.closed_at == datetime(2026, 10, 29, 9, 0)
    events = session.scalars(select(CaseEvent)).all()
    assert len(events) == 1
    assert events[0].case_id == case.id and events[0].action == "更新"
    assert events[0].note.endswith("status, status_raw, closed_at")
    assert events[0].at == NOW_311


MAPPING_311 = (MAPPINGS / "cases_311.yaml").read_text(encoding="utf-8")


def test_fixing_the_mapping_releases_quarantined_rows(
        engine: Engine, city: dict[str, int], session: Session) -> None:
    run(engine, DATA / "cases_311.csv", MAPPINGS / "cases_311.yaml")
    fixed = (MAPPING_311.replace("map: {Open: 立案, Closed: 结案}",
                                 "map: {Open: 立案, Closed: 结案, Pending: 立案}")
             .replace("ambiguous: quarantine", "ambiguous: earlier"))
    summary = run(engine, DATA / "cases_311.csv", fixed)
    assert summary.inserted == 2 and summary.unchanged == 268
    assert summary.quarantined["unknown_value"] == 1  # "Ward 9" is still unknown
    assert "ambiguous_time" not in summary.quarantined
    codes = Counter(session.scalars(select(QuarantinedRow.reason_code)))
    assert codes == Counter({**QUARANTINE_311, "unknown_value": 1, "ambiguous_time": 0})
    ambiguous = session.scalars(select(Case).where(Case.external_id == "101900040")).one()
    assert ambiguous.reported_at == datetime(2026, 11, 1, 1, 30)


def test_dry_run_writes_nothing(engine: Engine, city: dict[str, int],
                                session: Session) -> None:
    summary = run(engine, DATA / "cases_311.csv", MAPPINGS / "cases_311.yaml", dry_run=True)
    assert summary.inserted == 268 and summary.quarantined_total == 22
    assert count(session) == 0
    assert session.scalar(select(func.count()).select_from(QuarantinedRow)) == 0
    assert session.scalar(select(func.count()).select_from(Category)) == 4


def test_an_interrupted_import_keeps_the_batches_before(
        engine: Engine, city: dict[str, int], session_factory: sessionmaker[Session]) -> None:
    committed: list[int] = []

    def interrupt(batch: int) -> None:
        if batch == 2:  # after batch 2's inserts, before its commit
            with session_factory() as other:
                committed.append(count(other))
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(engine, DATA / "cases_311.csv", MAPPINGS / "cases_311.yaml", batch_size=50,
            interrupt=interrupt)
    with session_factory() as s:
        assert count(s) == committed[0] > 0
        quarantined = s.scalars(select(QuarantinedRow.row_number)).all()
    assert quarantined and max(quarantined) <= 101  # only batches 0 and 1 (file rows 2–101)
    summary = run(engine, DATA / "cases_311.csv", MAPPINGS / "cases_311.yaml", batch_size=50)
    assert summary.inserted == 268 - committed[0] and summary.unchanged == committed[0]


# ------------------------------------------------------------- the 12345 hotline (GBK)


def test_hotline_gbk_csv(engine: Engine, city: dict[str, int], session: Session) -> None:
    assert detect_encoding(DATA / "hotline_12345.csv") == "gb18030"
    summary = run(engine, DATA / "hotline_12345.csv", MAPPINGS / "hotline_12345.yaml",
                  tz="Asia/Shanghai", now=NOW_CN)
    assert summary.read == 200 and summary.inserted == 198
    assert dict(summary.quarantined) == {"unknown_value": 1, "impossible_order": 1}
    assert summary.new_categories == 2 and summary.new_departments == 1
    # No coordinates: every case sits at its area's centre, imprecise.
    assert count(session, Case.location_note == "area_centre") == 198
    # Every 10th row names only its street: it keeps the street, no community, no grid.
    street_only = session.execute(select(Case.external_id, Case.street_id).where(
        Case.community_id.is_(None))).all()
    assert len(street_only) == 20 and all(e.endswith(("1", "01")) for e, _ in street_only)
    assert count(session, Case.grid_id.is_not(None)) == 0
    assert count(session, Case.source.in_(["12345热线", "随手拍"])) == 198
    names = set(session.scalars(select(Department.name)))
    assert {"城管执法", "市政设施", "环卫", "区住建局"} <= names
    assert count(session, Case.satisfied.is_(False)) > 0


# ------------------------------------------------------------------ the 数字城管 XLSX


def test_szcg_xlsx_gcj02_points_and_category_deadlines(
        engine: Engine, city: dict[str, int], session: Session) -> None:
    summary = run(engine, DATA / "szcg_export.xlsx", MAPPINGS / "szcg_xlsx.yaml",
                  tz="Asia/Shanghai", now=NOW_CN)
    assert (summary.read, summary.inserted, summary.quarantined_total) == (200, 200, 0)
    assert summary.disagreements == 0  # GCJ-02 points, shifted back, fall in their grid
    grids = dict(session.execute(select(Area.id, Area.code).where(Area.level == "grid")).all())
    locator = AreaLocator.load(session)
    calendar = default_calendar()
    from openpyxl import load_workbook

    sheet = load_workbook(DATA / "szcg_export.xlsx", read_only=True).active
    source = {row[0]: (row[14], row[15]) for row in sheet.iter_rows(min_row=2, values_only=True)}
    for case in session.execute(select(Case)).scalars():
        assert case.location_precise and case.grid_id in grids
        assert locator.locate(case.lon, case.lat).grid_id == case.grid_id
        g_lon, g_lat = wgs84_to_gcj02(case.lon, case.lat)  # back to the export's GCJ-02
        assert abs(g_lon - source[case.external_id][0]) < 2e-7
        assert abs(g_lat - source[case.external_id][1]) < 2e-7
        category = session.get(Category, case.category_id)
        hours = category.urgent_limit_hours if case.urgency == "紧急" else category.limit_hours
        assert case.deadline_at == calendar.add_working_hours(
            case.registered_at or case.reported_at, hours)
    assert count(session, Case.status == STATUS_CANCELLED) == 8
    # The hand-built categories are reused; 乱堆物料 is new, with the mapping's limits.
    new = session.scalars(select(Category).where(Category.code.startswith("IMP-"))).one()
    assert (new.minor, new.major, new.kind, new.limit_hours) == (
        "乱堆物料", "施工管理", "事件", 24.0)


# ------------------------------------------------------------------------ Open311 JSON


def test_open311_payload_with_offsets_across_dst(engine: Engine, city: dict[str, int],
                                                 session: Session) -> None:
    summary = run(engine, DATA / "open311_requests.json", MAPPINGS / "open311.yaml")
    assert (summary.read, summary.inserted, summary.quarantined_total) == (60, 60, 0)
    first, second = (session.scalars(select(Case).where(Case.external_id == key)).one()
                     for key in ("311-00021", "311-00022"))
    # 05:30Z is 01:30 EDT, 06:30Z is 01:30 EST: the same wall clock, an hour apart in fact.
    assert first.reported_at == second.reported_at == datetime(2026, 11, 1, 1, 30)
    assert count(session, Case.status == STATUS_CANCELLED) == 4  # closed with "Duplicate"
    assert count(session, Case.status == "结案") == 16


def test_open311_into_shanghai_time(engine: Engine, city: dict[str, int],
                                    session: Session) -> None:
    run(engine, DATA / "open311_requests.json", MAPPINGS / "open311.yaml", tz="Asia/Shanghai",
        now=datetime(2026, 12, 1))
    first, second = (session.scalars(select(Case).where(Case.external_id == key)).one()
                     for key in ("311-00021", "311-00022"))
    assert first.reported_at == datetime(2026, 11, 1, 13, 30)
    assert second.reported_at == datetime(2026, 11, 1, 14, 30)


def test_open311_media_urls_become_the_cases_photo_urls(
        engine: Engine, city: dict[str, int], session: Session, tmp_path: Path) -> None:
    requests = json.loads((DATA / "open311_requests.json").read_text(encoding="utf-8"))[:3]
    requests[0]["media_url"] = "https://photos.example/a.jpg"
    requests[1]["media_url"] = "javascript:alert(1)"  # never a link on the case page
    path = tmp_path / "media.json"
    path.write_text(json.dumps(requests), encoding="utf-8")
    run(engine, path, MAPPINGS / "open311.yaml")
    photos = dict(session.execute(select(Case.external_id, Case.photo_urls)).all())
    assert photos == {"311-00001": "https://photos.example/a.jpg", "311-00002": None,
                      "311-00003": None}


def test_a_photos_cell_keeps_its_web_addresses_once() -> None:
    assert photo_urls("https://a/1.jpg; http://b/2.png，https://a/1.jpg file:///c.jpg") == (
        "https://a/1.jpg\nhttp://b/2.png")
    assert photo_urls("") is None and photo_urls("无") is None


# ----------------------------------------------------------------------- two sources


def test_two_sources_may_share_an_external_id(engine: Engine, city: dict[str, int],
                                              session: Session, tmp_path: Path) -> None:
    copy = tmp_path / "other.csv"
    shutil.copy(DATA / "cases_311.csv", copy)
    run(engine, DATA / "cases_311.csv", MAPPINGS / "cases_311.yaml")
    summary = run(engine, copy, MAPPING_311.replace("name: city-311", "name: city-311-copy"))
    assert summary.inserted == 268
    assert count(session, Case.external_id == "101000001") == 2
