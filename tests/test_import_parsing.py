"""Mapping validation, timestamp and value parsing, coordinate transforms (hypothesis)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ingest.importer.mapping import MappingError, load_mapping, parse_mapping
from ingest.importer.pipeline import _decimals, _number_text
from ingest.importer.reasons import RowRejected
from ingest.importer.timeparse import TimeParser
from queries.coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from queries.repeats import pair_distance_m

BASE = """\
name: test
fields:
  external_id: id
  reported_at: opened
  category_minor: type
  area: ward
deadline: {from: none}
"""


def error(text: str) -> str:
    with pytest.raises(MappingError) as info:
        parse_mapping(text, "m.yaml")
    return str(info.value)


def test_shipped_mappings_load() -> None:
    from pathlib import Path

    for path in sorted((Path(__file__).parent.parent / "ingest" / "mappings").glob("*.yaml")):
        mapping = load_mapping(path)
        assert mapping.name and "external_id" in mapping.fields


def test_mapping_errors_name_the_line_and_key() -> None:
    assert error(BASE + "colour: red\n") == (
        "m.yaml:8: colour: unknown key; expected one of name, format, encoding, sheet, "
        "header_row, timezone, timestamps, fields, status, source, department, category, "
        "urgency, satisfied, area, coordinates, deadline")
    assert error(BASE.replace("  external_id: id\n", "")).startswith(
        "m.yaml:3: fields.external_id: required")
    assert error(BASE + "fields2: 1\n").startswith("m.yaml:8: fields2: unknown key")
    text = BASE.replace("  area: ward\n", "  area: ward\n  status: st\n") + (
        "status:\n  map:\n    Open: 立案\n    Done: finished\n")
    assert error(text) == ("m.yaml:12: status.map.done: 'finished': expected one of 上报, 立案, "
                           "派遣, 处置中, 待核查, 结案, 作废")
    assert error(BASE + "timezone: Mars/Olympus\n").startswith(
        "m.yaml:8: timezone: 'Mars/Olympus' is not a known time zone")
    assert error(BASE + "coordinates: {crs: utm}\n").startswith(
        "m.yaml:8: coordinates.crs: 'utm': expected wgs84, gcj02, bd09 or EPSG:nnnn")
    assert "not a regular expression" in error(
        BASE + "area:\n  normalise:\n    - {pattern: '(', replace: x}\n")
    assert error("name: t\nfields: [a\n").startswith("m.yaml:3: not valid YAML")
    assert "status.map must say" in error(BASE.replace("  area: ward\n",
                                                       "  area: ward\n  status: st\n"))
    assert "fields.deadline_at is not given" in error(BASE.replace("deadline: {from: none}\n",
                                                                   ""))
    assert "needs fields.closure_reason" in error(
        BASE + "status:\n  cancelled_reasons: [Duplicate]\n")


def test_field_specs_coalesce_constants_and_copies() -> None:
    mapping = parse_mapping(BASE.replace("  area: ward\n", (
        "  area: [precinct, ward]\n  source: {const: 12345热线}\n"
        "  registered_at: {field: reported_at}\n")))
    assert mapping.fields["area"].columns == ("precinct", "ward")
    assert mapping.fields["source"].const == "12345热线"
    assert mapping.fields["registered_at"].copy == "reported_at"


NAIVE = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2035, 12, 31)).map(
    lambda d: d.replace(microsecond=0))
FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%d.%m.%Y %H:%M:%S",
           "%m/%d/%Y %I:%M:%S %p", "%Y%m%d%H%M%S")


@settings(deadline=None)
@given(NAIVE, st.sampled_from(FORMATS))
def test_any_formatted_time_parses_back_in_a_zone_without_dst(moment: datetime, fmt: str,
                                                             ) -> None:
    parser = TimeParser(FORMATS, "Asia/Shanghai", "Asia/Shanghai")
    assume(moment.year >= 1992)  # Shanghai kept DST until 1991
    assert parser.parse(moment.strftime(fmt), "t") == moment


@settings(deadline=None)
@given(NAIVE, st.integers(min_value=-12 * 60, max_value=14 * 60))
def test_a_time_with_an_offset_converts_exactly(moment: datetime, offset_minutes: int) -> None:
    zone = timezone(timedelta(minutes=offset_minutes))
    text = moment.replace(tzinfo=zone).isoformat()
    parser = TimeParser((), "America/New_York", "Asia/Shanghai")
    expected = moment.replace(tzinfo=zone).astimezone(ZoneInfo("Asia/Shanghai")).replace(
        tzinfo=None)
    assert parser.parse(text, "t") == expected


@settings(deadline=None)
@given(st.integers(min_value=2007, max_value=2035), st.integers(min_value=0, max_value=3599))
def test_the_repeated_autumn_hour_is_ambiguous(year: int, second: int) -> None:
    first_sunday = next(d for d in (datetime(year, 11, day) for day in range(1, 8))
                        if d.weekday() == 6)
    moment = first_sunday.replace(hour=1) + timedelta(seconds=second)
    parser = TimeParser((), "America/New_York", "America/New_York")
    with pytest.raises(RowRejected) as info:
        parser.parse(moment.isoformat(sep=" "), "reported_at")
    assert info.value.reason.code == "ambiguous_time" and "happens twice" in info.value.detail
    later = TimeParser((), "America/New_York", "UTC", ambiguous="later")
    assert later.parse(moment.isoformat(sep=" "), "t") == moment + timedelta(hours=5)
    earlier = TimeParser((), "America/New_York", "UTC", ambiguous="earlier")
    assert earlier.parse(moment.isoformat(sep=" "), "t") == moment + timedelta(hours=4)


def test_the_skipped_spring_hour_does_not_exist() -> None:
    parser = TimeParser((), "America/New_York", "America/New_York")
    with pytest.raises(RowRejected, match="does not exist"):
        parser.parse("2026-03-08 02:30:00", "t")
    assert parser.parse("2026-03-08 03:30:00", "t") == datetime(2026, 3, 8, 3, 30)


@settings(deadline=None)
@given(st.text(alphabet="0123456789/-: abcxyz", max_size=20))
def test_garbage_is_rejected_never_crashes(text: str) -> None:
    parser = TimeParser(("%Y/%m/%d %H:%M",), "Asia/Shanghai", "Asia/Shanghai")
    try:
        value = parser.parse(text, "t")
    except RowRejected as exc:
        assert exc.reason.code in ("bad_timestamp", "ambiguous_time")
    else:
        assert value is None or isinstance(value, datetime)


@settings(deadline=None)
@given(st.integers(min_value=1, max_value=99), st.sampled_from(["Ward {}", "0{}", "{}",
                                                                "ward {}", "Ward  {}"]))
def test_ward_spellings_normalise_to_one_name(ward: int, spelling: str) -> None:
    rules = load_mapping_rules()
    text = spelling.format(ward)
    assume(not re.fullmatch(r"0*\d{3,4}", text))  # three digits or more read as a precinct
    assert apply_rules(rules, text) == f"Ward {ward}"


@settings(deadline=None)
@given(st.integers(min_value=100, max_value=9999), st.sampled_from(["", "A", "B"]),
       st.sampled_from(["{n}.0", "0{n}", "{n}", "00{n}"]))
def test_precinct_codes_normalise_to_one_code(number: int, letter: str, spelling: str) -> None:
    rules = load_mapping_rules()
    text = spelling.format(n=number) + letter if ".0" not in spelling or not letter else (
        f"{number}{letter}")
    assert apply_rules(rules, text) == f"P{number}{letter}"


def load_mapping_rules():
    from pathlib import Path

    return load_mapping(Path(__file__).parent.parent / "ingest" / "mappings" / "cases_311.yaml"
                        ).area_rules


def apply_rules(rules, text: str) -> str:
    from ingest.importer.mapping import normalise_text

    value = normalise_text(text)
    for rule in rules:
        if rule.pattern.fullmatch(value):
            value = rule.pattern.sub(rule.replace, value, count=1)
    return value


@settings(deadline=None)
@given(st.floats(min_value=-180, max_value=180, allow_nan=False),
       st.integers(min_value=0, max_value=8))
def test_decimals_of_a_written_coordinate(value: float, decimals: int) -> None:
    text = f"{value:.{decimals}f}"
    assert _decimals(text) == decimals
    assert _number_text(text) == text
    assert _number_text(116.4) == "116.4" and _number_text(306) == "306"


CHINA = st.tuples(st.floats(min_value=73.6, max_value=134.7),
                  st.floats(min_value=18.2, max_value=53.5))


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    import numpy as np

    return float(pair_distance_m(np.array([a[1]]), np.array([a[0]]), np.array([b[1]]),
                                 np.array([b[0]]))[0])


@settings(max_examples=300, deadline=None)
@given(CHINA)
def test_gcj02_round_trip_within_a_metre(point: tuple[float, float]) -> None:
    shifted = wgs84_to_gcj02(*point)
    assert 1 < _metres(point, shifted) < 1_500  # the offset is real, and bounded
    assert _metres(point, gcj02_to_wgs84(*shifted)) < 1.0
    assert _metres(shifted, wgs84_to_gcj02(*gcj02_to_wgs84(*shifted))) < 1.0


@settings(max_examples=300, deadline=None)
@given(CHINA)
def test_bd09_round_trips_within_a_metre(point: tuple[float, float]) -> None:
    assert _metres(point, bd09_to_gcj02(*gcj02_to_bd09(*point))) < 1.0
    assert _metres(point, bd09_to_wgs84(*wgs84_to_bd09(*point))) < 1.0


def test_a_published_bd09_point() -> None:
    """Beijing's Tiananmen in Baidu's published coordinates: about 116.404, 39.915 in WGS-84."""
    lon, lat = bd09_to_wgs84(116.40387, 39.91488)
    assert abs(lon - 116.3913) < 0.002 and abs(lat - 39.9071) < 0.002


def test_encoding_detection(tmp_path: Path) -> None:
    from ingest.importer.readers import detect_encoding

    tiny = tmp_path / "tiny.csv"
    tiny.write_bytes("工单编号,地址\n1,城西街道\n".encode("gbk"))
    assert detect_encoding(tiny) == "gb18030"
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeff工单编号,地址\n1,城西街道\n".encode())
    assert detect_encoding(bom) == "utf-8-sig"
    plain = tmp_path / "plain.csv"
    plain.write_bytes("工单编号,地址\n1,城西街道\n".encode())
    assert detect_encoding(plain) == "utf-8"
