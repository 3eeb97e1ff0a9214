"""Write the importer's sample files (deterministic): run ``python tests/data/make_samples.py``.

- ``hotline_12345.csv``: a 12345 hotline export in GBK with Chinese headers, no coordinates,
  areas by street/community name (the hand-built city of tests/handbuilt.py).
- ``szcg_export.xlsx``: a 数字城管 platform export: every lifecycle time as an Excel date,
  grid codes as numbers, points in GCJ-02 (the hand-built city).
- ``cases_311.csv``: a 311-style export (UTF-8) carrying every kind of dirt of issue 10, in
  the three-ward city of tests/city311.py.
- ``open311_requests.json``: a GeoReport v2 payload with UTC offsets across the autumn DST
  change (same city).

The files are committed; this script documents how they were made and remakes them exactly.
"""

from __future__ import annotations

import csv
import io
import json
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from queries.coords import wgs84_to_gcj02  # noqa: E402 (after the path is set)

# ---------------------------------------------------------------------- the 311 export

WARD_BOXES = {  # ward: (west, east); precincts north / south of 42.355
    "1": (-71.09, -71.08, ("101", "102")),
    "3": (-71.08, -71.07, ("306", "307")),
    "5": (-71.07, -71.05, ("502A", "502B")),
}
CITY_HALL = ("-71.0587", "42.3594")
TYPES_311 = (
    ("Request for Pothole Repair", "Highway Maintenance", "PWDx"),
    ("Street Light Outages", "Street Lights", "PWDx"),
    ("Missed Trash/Recycling/Yard Waste/Bulk Item", "Sanitation", "PWDx"),
    ("Parking Enforcement", "Enforcement & Abandoned Vehicles", "BTDT"),
    ("Improper Storage of Trash (Barrels)", "Code Enforcement", "ISD"),
    ("Graffiti Removal", "Graffiti", "PWDx"),
    (("Unsatisfactory Living Conditions: Heat, Hot Water, Pests, Mold, Lead Paint or Structural "
     "Defects Reported by Tenant"), "Housing", "ISD"),
    (("Request for Snow Plowing / Sidewalk Snow and Ice Removal on Public Ways, Ramps, Bus Stops "
     "and Crosswalks (Emergency)"), "Street Cleaning", "PWDx"),
)
SOURCES_311 = ("Constituent Call", "Citizens Connect App", "Self Service", "Employee Generated")
NOW_311 = datetime(2026, 11, 30, 12, 0)
HEADER_311 = ["case_enquiry_id", "open_dt", "target_dt", "closed_dt", "case_status",
              "closure_reason", "case_title", "type", "subject", "department", "source",
              "location", "ward", "precinct", "latitude", "longitude"]


def _ward_spelling(rng: random.Random, ward: str) -> str:
    return rng.choice((f"Ward {ward}", f"0{ward}", ward))


def _precinct_spelling(rng: random.Random, precinct: str) -> str:
    if precinct[-1].isalpha():
        return f"0{precinct}"
    return rng.choice((f"{precinct}.0", f"0{precinct}", precinct))


def _point(rng: random.Random, ward: str, north: bool, decimals: int = 4) -> tuple[str, str]:
    west, east, _ = WARD_BOXES[ward]
    lon = rng.uniform(west + 0.0005, east - 0.0005)
    lat = rng.uniform(42.3555, 42.3695) if north else rng.uniform(42.3405, 42.3545)
    return f"{lon:.{decimals}f}", f"{lat:.{decimals}f}"


def _fmt311(rng: random.Random, moment: datetime | None) -> str:
    if moment is None:
        return ""
    if rng.random() < 0.3:
        return moment.strftime("%m/%d/%Y %I:%M:%S %p")
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _safe_time(moment: datetime) -> datetime:
    """Move a time out of the ambiguous hour of 2026-11-01 (the dirt row has its own)."""
    if moment.date() == datetime(2026, 11, 1).date() and moment.hour == 1:
        return moment + timedelta(hours=2)
    return moment


def rows_311() -> list[list[str]]:
    """Return the 311 export's data rows, dirt included, in file order."""
    rng = random.Random(311)
    start = datetime(2026, 10, 1, 7, 0)
    rows: list[list[str]] = []
    for k in range(260):
        ward = rng.choice(sorted(WARD_BOXES))
        north = rng.random() < 0.5
        precinct = WARD_BOXES[ward][2][0 if north else 1]
        opened = _safe_time(start + timedelta(minutes=rng.randint(0, 58 * 24 * 60)))
        title, subject, dept = TYPES_311[k % len(TYPES_311)]
        closed: datetime | None = _safe_time(opened + timedelta(hours=rng.uniform(1, 240)))
        if closed > NOW_311 or rng.random() < 0.4:
            closed = None
        reason = ""
        if closed is not None:
            pick = rng.random()
            reason = ("Duplicate of Existing Case" if pick < 0.06 else "Invalid" if pick < 0.09
                      else "Case Noted" if pick < 0.25 else "Case Resolved")
        target = "" if k % 9 in (0, 4) else _fmt311(rng, opened + timedelta(days=rng.choice(
            (2, 3, 5, 10))))
        lon, lat = _point(rng, ward, north)
        if k % 7 == 3:
            lon, lat = CITY_HALL
        elif k % 50 == 8:
            lon, lat = _point(rng, ward, north, decimals=3)
        rows.append([
            f"1010{k:05d}", _fmt311(rng, opened), target, _fmt311(rng, closed),
            "Closed" if closed else "Open", reason, title, title, subject, dept,
            rng.choice(SOURCES_311), f"{rng.randint(1, 999)} Harbor St",
            _ward_spelling(rng, ward),
            "" if rng.random() < 0.2 else _precinct_spelling(rng, precinct), lat, lon])
    dirt = _dirt_311(rng, rows)
    for row in dirt:
        rows.insert(rng.randint(3, len(rows)), row)
    return rows


def _dirt_311(rng: random.Random, base: list[list[str]]) -> list[list[str]]:
    """Return one row per kind of dirt; each names itself in case_title."""
    out: list[list[str]] = []

    def row(no: int, title: str, **over: str) -> None:
        values = dict(zip(HEADER_311, [
            f"1019{no:05d}", "2026-11-10 10:00:00", "2026-11-13 10:00:00", "", "Open", "",
            title, "Request for Pothole Repair", "Highway Maintenance", "PWDx",
            "Constituent Call", "1 Dirt St", "Ward 1", "0101", "42.3600", "-71.0850"],
            strict=True))
        values.update(over)
        out.append([values[h] for h in HEADER_311])

    for n in range(2):  # city hall point and no area at all
        row(1 + n, "dirt: default geocode, no area", ward="", precinct="",
            latitude=CITY_HALL[1], longitude=CITY_HALL[0])
    for n in range(3):  # far outside the city, no area
        row(10 + n, "dirt: outside, no area", ward="", precinct="", latitude="42.5012",
            longitude="-71.2034")
    for n in range(2):  # outside, but the ward places it
        row(20 + n, "dirt: outside, ward given", ward="3", precinct="", latitude="42.5012",
            longitude="-71.2034")
    for n in range(6):  # the point is in P101, the precinct field says P306
        row(30 + n, "dirt: field disagrees", ward="Ward 3", precinct="0306",
            latitude=f"42.36{n}1", longitude="-71.0851")
    row(40, "dirt: ambiguous DST hour", open_dt="2026-11-01 01:30:00", target_dt="")
    for n in range(4):
        row(50 + n, "dirt: closed before opened", case_status="Closed",
            closure_reason="Case Resolved", closed_dt="2026-11-09 08:00:00")
    for n in range(2):
        row(60 + n, "dirt: closed in the future", case_status="Closed",
            closure_reason="Case Resolved", closed_dt="2026-12-15 09:00:00")
    for n in range(3):  # repeats the id of an earlier base row
        row(70 + n, "dirt: duplicate id", case_enquiry_id=base[n][0])
    row(80, "dirt: undecodable byte \udcff here")
    for n in range(2):
        row(90 + n, "dirt: no open time", open_dt="")
    for n in range(2):
        row(95 + n, "dirt: unparseable time", open_dt="31/31/2026 25:61")
    row(98, "dirt: unknown status", case_status="Pending")
    row(99, "dirt: unknown ward", ward="Ward 9", precinct="")
    return out


def write_311(path: Path) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER_311)
    writer.writerows(rows_311())
    # The undecodable byte is a lone 0xFF, as a truncated multi-byte character leaves it.
    path.write_bytes(buffer.getvalue().encode("utf-8", "surrogateescape"))


# --------------------------------------------------------------- the 12345 hotline export

STREETS = {"城西街道": ("西苑社区", "西城社区"), "城东街道": ("东苑社区",)}
HOTLINE_TYPES = (("市政设施", "井盖缺失"), ("市政设施", "路灯不亮"), ("市容环卫", "垃圾未清运"),
                 ("街面秩序", "占道经营"), ("环境保护", "噪音扰民"), ("城乡建设", "违章搭建"))
HOTLINE_STATUS = ("已受理", "已派单", "办理中", "已办结", "已办结", "已办结", "无效工单")
HOTLINE_CHANNELS = ("电话", "电话", "电话", "微信", "网站")
HOTLINE_UNITS = ("城管执法局", "市政所", "环卫所", "区住建局")
HEADER_HOTLINE = ["工单编号", "受理时间", "办结时间", "办理时限", "诉求类型", "问题分类",
                  "诉求内容", "地址", "所属街道", "所属社区", "承办单位", "办理状态", "来源渠道",
                  "满意度"]
NOW_HANDBUILT = datetime(2026, 11, 20, 12, 0)


def rows_hotline() -> list[list[str]]:
    rng = random.Random(12345)
    rows = []
    for k in range(200):
        street = rng.choice(sorted(STREETS))
        community = rng.choice(STREETS[street])
        received = datetime(2026, 10, 1, 8) + timedelta(minutes=rng.randint(0, 48 * 24 * 60))
        status = rng.choice(HOTLINE_STATUS)
        done = received + timedelta(hours=rng.uniform(2, 100))
        if status in ("已办结", "无效工单") and done > NOW_HANDBUILT:
            status = "办理中"
        major, minor = HOTLINE_TYPES[k % len(HOTLINE_TYPES)]
        rows.append([
            f"12345-2026-{k + 1:05d}", received.strftime("%Y/%m/%d %H:%M:%S"),
            done.strftime("%Y/%m/%d %H:%M:%S") if status in ("已办结", "无效工单") else "",
            (received + timedelta(days=rng.choice((3, 5)))).strftime("%Y/%m/%d %H:%M:%S"),
            major, minor, f"市民反映{minor},请尽快处理", f"{street}{community}附近",
            street, "" if k % 10 == 0 else community, rng.choice(HOTLINE_UNITS), status,
            rng.choice(HOTLINE_CHANNELS), rng.choice(("满意", "满意", "基本满意", "不满意", ""))])
    rows[17][11] = "挂起"  # a status the mapping does not know
    rows[42][2] = "2026/09/30 10:00:00"  # closed before it was received
    rows[42][11] = "已办结"
    return rows


def write_hotline(path: Path) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER_HOTLINE)
    writer.writerows(rows_hotline())
    path.write_bytes(buffer.getvalue().encode("gbk"))


# ------------------------------------------------------------------ the 数字城管 export

GRIDS = {  # code: column of the hand-built row of grids
    "33019900100101": 0, "33019900100102": 1, "33019900100201": 2,
    "33019900200101": 3, "33019900200102": 4,
}
SZCG_TYPES = (("部件", "公用设施", "井盖"), ("部件", "公用设施", "路灯"),
              ("事件", "市容环境", "暴露垃圾"), ("事件", "街面秩序", "占道经营"),
              ("事件", "施工管理", "乱堆物料"))
HEADER_SZCG = ["案件编号", "上报时间", "立案时间", "派遣时间", "处置时间", "结案时间", "作废时间",
               "案件状态", "案件类型", "大类", "小类", "问题来源", "问题描述", "地址", "经度",
               "纬度", "网格编码", "处置部门", "紧急程度"]


def rows_szcg() -> list[list[object]]:
    rng = random.Random(2026)
    rows: list[list[object]] = []
    for k in range(200):
        code = rng.choice(sorted(GRIDS))
        column = GRIDS[code]
        lon = 120.100 + 0.001 * column + rng.uniform(0.0001, 0.0009)
        lat = 30.300 - rng.uniform(0.0001, 0.0009)
        g_lon, g_lat = wgs84_to_gcj02(lon, lat)
        reported = datetime(2026, 10, 1, 8) + timedelta(minutes=rng.randint(0, 48 * 24 * 60))
        stages: list[datetime | None] = [reported]
        for gap in (20, 25, 600, 120):
            stages.append(stages[-1] + timedelta(minutes=rng.randint(5, gap)))  # type: ignore[operator]
        reached = rng.randint(1, 5)
        times: list[datetime | None] = [t if i < reached and t <= NOW_HANDBUILT else None
                                        for i, t in enumerate(stages)]
        cancelled = None
        status = ("上报", "立案", "派遣", "待核查", "结案")[
            max(i for i, t in enumerate(times) if t is not None)]
        if k % 25 == 5 and times[1] is not None:
            cancelled = times[1] + timedelta(hours=1)
            times[2:] = [None, None, None]
            status = "作废"
        if status == "派遣" and rng.random() < 0.5:
            status = "处置中"
        kind, major, minor = SZCG_TYPES[k % len(SZCG_TYPES)]
        rows.append([f"SZCG2026{k + 1:06d}", *times, cancelled, status, kind, major, minor,
                     rng.choice(("监督员上报", "监督员上报", "公众举报", "视频发现")),
                     f"{minor}问题", f"示范区{code[-2:]}号网格", round(g_lon, 6), round(g_lat, 6),
                     int(code), rng.choice(("市政设施", "环卫", "城管执法")),
                     "紧急" if k % 13 == 0 else "一般"])
    return rows


def write_szcg(path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = "案件列表"
    ws.append(HEADER_SZCG)
    for row in rows_szcg():
        ws.append(row)
    book.properties.created = datetime(2026, 11, 20)  # fixed, so the file is reproducible
    book.properties.modified = datetime(2026, 11, 20)
    book.save(path)


# ----------------------------------------------------------------------- Open311 JSON


def requests_open311() -> list[dict[str, object]]:
    """Return a GeoReport v2 payload: 60 requests from 30 Oct to 3 Nov 2026 (DST ends 1 Nov)."""
    rng = random.Random(3110)
    out = []
    utc_start = datetime(2026, 10, 30, 12, 0)  # UTC
    for k in range(60):
        requested = utc_start + timedelta(minutes=90 * k)
        if k in (20, 21):  # both 01:30 local on 1 Nov: the first (EDT) and the second (EST)
            requested = datetime(2026, 11, 1, 5, 30) if k == 20 else datetime(2026, 11, 1, 6, 30)
        updated = requested + timedelta(hours=rng.uniform(0.5, 30))
        closed = k % 3 == 0
        ward = rng.choice(sorted(WARD_BOXES))
        lon, lat = _point(rng, ward, rng.random() < 0.5, decimals=6)
        title, _subject, dept = TYPES_311[k % 6]
        out.append({
            "service_request_id": f"311-{k + 1:05d}",
            "status": "closed" if closed else "open",
            "status_notes": ("Duplicate" if k % 15 == 0 else "Resolved") if closed else None,
            "service_name": title,
            "service_code": f"SC{k % 6:02d}",
            "description": f"{title} reported near {rng.randint(1, 999)} Harbor St",
            "agency_responsible": dept,
            "service_notice": None,
            "requested_datetime": _with_offset(requested),
            "updated_datetime": _with_offset(updated),
            "expected_datetime": _with_offset(requested + timedelta(days=3)) if k % 4 else None,
            "address": f"{rng.randint(1, 999)} Harbor St",
            "address_id": None,
            "zipcode": "02108",
            "lat": float(lat),
            "long": float(lon),
            "media_url": None,
        })
    return out


def _with_offset(utc: datetime) -> str:
    """Return an ISO 8601 string in America/New_York with its UTC offset."""
    from zoneinfo import ZoneInfo

    local = utc.replace(tzinfo=UTC).astimezone(ZoneInfo("America/New_York"))
    return local.isoformat(timespec="seconds")


def main() -> None:
    write_311(HERE / "cases_311.csv")
    write_hotline(HERE / "hotline_12345.csv")
    write_szcg(HERE / "szcg_export.xlsx")
    (HERE / "open311_requests.json").write_text(
        json.dumps(requests_open311(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
