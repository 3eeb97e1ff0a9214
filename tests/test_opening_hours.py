"""'Open now' on the Chinese working calendar, hand-written cases.

Calendar facts used (State Council schedule, in the chinese-calendar package):
2026-10-01 (Thursday) to 2026-10-07 is the National Day holiday (国庆 放假); 2026-09-20 (Sunday)
and 2026-10-10 (Saturday) are 调休 working days; 2026-11-20 is an ordinary Friday,
2026-11-21 an ordinary Saturday. A custom calendar file adds 2030-02-04 as a holiday and
2030-02-09 (Saturday) as a 调休 day, for a year the package does not know.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from queries.opening import (
    OpeningHoursError,
    check_expression,
    expression_for_day,
    is_makeup_workday,
    is_open,
    is_public_holiday,
    open_intervals,
    open_state,
)
from queries.workcalendar import WorkCalendar

CAL = WorkCalendar.from_file()
HALL = "Mo-Fr 09:00-12:00,13:30-17:00; PH off"  # a 政务服务中心
NIGHT = "Mo-Su 18:00-02:00"  # a night market, across midnight
MUSEUM = "Tu-Su 09:00-17:00; Mo off; PH 09:00-17:00"


@pytest.mark.parametrize(("expr", "at", "expected"), [
    # across midnight: open after midnight on the span of the evening before
    (NIGHT, datetime(2026, 11, 21, 1, 30), True),
    (NIGHT, datetime(2026, 11, 21, 2, 0), False),  # the end is exclusive
    (NIGHT, datetime(2026, 11, 20, 17, 59), False),
    (NIGHT, datetime(2026, 11, 20, 23, 59), True),
    ("Fr 22:00-02:00", datetime(2026, 11, 21, 1, 0), True),  # Friday's span into Saturday
    ("Fr 22:00-02:00", datetime(2026, 11, 22, 1, 0), False),  # nothing on Saturday night
    # 24 hours, both spellings
    ("24/7", datetime(2026, 10, 1, 3, 0), True),
    ("00:00-24:00", datetime(2026, 11, 21, 0, 0), True),
    # a holiday closes the hall although 2026-10-01 is a Thursday
    (HALL, datetime(2026, 10, 1, 10, 0), False),
    (HALL, datetime(2026, 11, 19, 10, 0), True),  # an ordinary Thursday
    (HALL, datetime(2026, 11, 19, 12, 30), False),  # the lunch break
    (HALL, datetime(2026, 11, 21, 10, 0), False),  # an ordinary Saturday
    # 调休: the hall works on Saturday 2026-10-10 and Sunday 2026-09-20 like a weekday
    (HALL, datetime(2026, 10, 10, 10, 0), True),
    (HALL, datetime(2026, 9, 20, 14, 0), True),
    (HALL, datetime(2026, 10, 10, 12, 30), False),
    # a museum shut on Mondays opens on a holiday Monday (2026-10-05), not on an ordinary one
    (MUSEUM, datetime(2026, 10, 5, 10, 0), True),
    (MUSEUM, datetime(2026, 11, 16, 10, 0), False),
    # PH hours replace the day's hours: the market opens late on a holiday
    ("06:00-20:00; PH 07:00-12:00", datetime(2026, 10, 2, 6, 30), False),
    ("06:00-20:00; PH 07:00-12:00", datetime(2026, 10, 2, 11, 0), True),
    ("06:00-20:00; PH 07:00-12:00", datetime(2026, 10, 8, 6, 30), True),
    # a night span's tail follows the rules of the day it runs into: shut on the holiday's
    # first morning, open on the morning after the last holiday night
    ("Mo-Su 20:00-02:00; PH off", datetime(2026, 10, 1, 1, 0), False),
    ("Mo-Su 20:00-02:00; PH off", datetime(2026, 10, 7, 21, 0), False),
    ("Mo-Su 20:00-02:00; PH off", datetime(2026, 10, 8, 1, 0), True),
    ("Mo-Su 20:00-02:00; PH off", datetime(2026, 10, 9, 1, 0), True),
])
def test_open_now(expr: str, at: datetime, expected: bool) -> None:
    assert is_open(expr, CAL, at) is expected


def test_calendar_days() -> None:
    assert is_public_holiday(CAL, date(2026, 10, 1))
    assert is_public_holiday(CAL, date(2026, 10, 4))  # a Sunday inside the holiday span
    assert not is_public_holiday(CAL, date(2026, 11, 21))  # an ordinary Saturday
    assert is_makeup_workday(CAL, date(2026, 10, 10))
    assert not is_makeup_workday(CAL, date(2026, 11, 20))  # an ordinary Friday


def test_ph_rewrite_names_the_holiday_weekdays() -> None:
    assert expression_for_day(HALL, CAL, date(2026, 10, 1)) == \
        "Mo-Fr 09:00-12:00,13:30-17:00; Th off"
    # the 8th: its eve (the 7th, a Wednesday) was a holiday, so PH stands for We
    assert expression_for_day(HALL, CAL, date(2026, 10, 8)).endswith("; We off")
    assert expression_for_day(HALL, CAL, date(2026, 11, 20)) == HALL


def test_state_says_until_when() -> None:
    assert open_state(NIGHT, CAL, datetime(2026, 11, 20, 23, 0)).changes_at == \
        datetime(2026, 11, 21, 2, 0)
    assert open_state("24/7", CAL, datetime(2026, 11, 20, 23, 0)).changes_at is None
    closed = open_state(HALL, CAL, datetime(2026, 9, 30, 18, 0))  # the eve of National Day
    assert not closed.open and closed.changes_at == datetime(2026, 10, 8, 9, 0)


def test_intervals_merge_across_midnight() -> None:
    assert open_intervals("24/7", CAL, date(2026, 11, 20), 3) == \
        [(datetime(2026, 11, 20), datetime(2026, 11, 23))]
    assert open_intervals(NIGHT, CAL, date(2026, 11, 20), 2) == [
        (datetime(2026, 11, 20, 0), datetime(2026, 11, 20, 2)),
        (datetime(2026, 11, 20, 18), datetime(2026, 11, 21, 2)),
        (datetime(2026, 11, 21, 18), datetime(2026, 11, 22, 0)),
    ]


def test_a_calendar_file_feeds_years_the_package_does_not_know(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text("holidays: [2030-02-04]\nworkdays: [2030-02-09]\n", encoding="utf-8")
    cal = WorkCalendar.from_file(path)
    assert not is_open(HALL, cal, datetime(2030, 2, 4, 10, 0))  # a Monday, made a holiday
    assert is_open(HALL, cal, datetime(2030, 2, 9, 10, 0))  # a Saturday, made a workday
    assert is_open(HALL, cal, datetime(2030, 2, 5, 10, 0))


@pytest.mark.parametrize("bad", ["", "   ", "Mo-Fr 25:00-26:00x", "open sometimes", "09:00"])
def test_bad_expressions_are_refused_in_one_line(bad: str) -> None:
    with pytest.raises(OpeningHoursError) as info:
        check_expression(bad)
    assert "\n" not in str(info.value)
