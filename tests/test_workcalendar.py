"""The working calendar counts deadlines in working hours across weekends and holidays."""

from datetime import date, datetime
from pathlib import Path

import pytest

from queries.workcalendar import CalendarFileError, WorkCalendar, default_calendar


def test_national_day_and_make_up_saturday() -> None:
    cal = default_calendar()
    assert not cal.is_workday(date(2026, 10, 1))  # 国庆
    assert cal.is_workday(date(2026, 10, 10))  # 调休 Saturday
    assert not cal.is_workday(date(2026, 11, 21))  # an ordinary Saturday


def test_deadline_skips_the_holiday_week() -> None:
    cal = default_calendar()
    # 16:00 on 30 Sep: two hours left that day, the other two on the next working day 8 Oct.
    assert cal.add_working_hours(datetime(2026, 9, 30, 16), 4) == datetime(2026, 10, 8, 10)


def test_deadline_skips_lunch_and_night() -> None:
    cal = default_calendar()
    assert cal.add_working_hours(datetime(2026, 11, 23, 11), 2) == datetime(2026, 11, 23, 15)
    assert cal.add_working_hours(datetime(2026, 11, 23, 20), 1) == datetime(2026, 11, 24, 9)


def test_working_hours_between_is_the_inverse() -> None:
    cal = default_calendar()
    start = datetime(2026, 11, 20, 17)  # Friday
    end = cal.add_working_hours(start, 3)
    assert end == datetime(2026, 11, 23, 10)
    assert cal.working_hours_between(start, end) == pytest.approx(3)


def test_data_file_extends_unknown_years(tmp_path: Path) -> None:
    f = tmp_path / "cal.yaml"
    f.write_text("holidays:\n  - 2027-03-03\nworkdays:\n  - 2027-03-06\n", encoding="utf-8")
    cal = WorkCalendar.from_file(f)
    assert not cal.is_workday(date(2027, 3, 3))  # a Wednesday declared a holiday
    assert cal.is_workday(date(2027, 3, 6))  # a Saturday declared a working day
    assert not cal.is_workday(date(2027, 3, 7))  # unknown year: Sunday rests


def test_shipped_file_knows_new_year_2027() -> None:
    assert not default_calendar().is_workday(date(2027, 1, 1))


def test_malformed_file_names_the_problem(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("holidays:\n  - not-a-date\n", encoding="utf-8")
    with pytest.raises(CalendarFileError, match="holidays"):
        WorkCalendar.from_file(f)
