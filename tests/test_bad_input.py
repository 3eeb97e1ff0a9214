"""Bad input gets one line: months no calendar holds, broken calendar files, failing jobs.

Each case was a traceback or an HTTP 500 before: ``/rankings?month=0001-01``, a calendar file
with 2026-13-01 in it, a simulator tick failing every interval while the database is locked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from callbacks.rankings import OUTPUTS, RankingsPage
from dashboard import ids
from dashboard.rankings.layout import page as rankings_layout
from dashboard.rankings.view import month_notice, resolve_month
from queries.assessment import MonthError, check_month, month_bounds, shift_month
from queries.engine import error_reason
from queries.workcalendar import CalendarFileError, load_extra_days
from settings import Settings
from snapshot.jobs import GuardedJob, JobDefinition, failure_kind
from tests.assessment_city import NOW, RULES_YAML, build_city
from tests.pages import page_request


@pytest.fixture
def rankings(session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[RankingsPage]:
    """The rankings page's callbacks on the hand-built city at its NOW (2026-03-10)."""
    with session_factory() as session:
        build_city(session)
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES_YAML, encoding="utf-8")
    settings = Settings(data_dir=tmp_path, database_url="sqlite://", rules_file=str(rules))
    yield RankingsPage(session_factory, settings, clock=lambda: NOW)


def texts(component: object) -> str:
    """Return every string inside a Dash component tree, joined."""
    if isinstance(component, str):
        return component
    if isinstance(component, (list, tuple)):
        return " ".join(texts(c) for c in component)
    children = getattr(component, "children", None)
    return "" if children is None else texts(children)


# --- months --------------------------------------------------------------------------------


@pytest.mark.parametrize("month", ["0001-01", "9999-12", "1899-12", "3000-01"])
def test_months_outside_the_handled_years_are_one_clear_error(month: str) -> None:
    with pytest.raises(MonthError, match=r"outside the months Gridwatch handles \(1900-01 to "
                                         r"2999-12\)"):
        check_month(month)


def test_month_bounds_never_leaks_a_value_error() -> None:
    with pytest.raises(MonthError, match="not a month a calendar can hold"):
        month_bounds("0000-12")
    with pytest.raises(MonthError, match="not a month a calendar can hold"):
        month_bounds("9999-12")  # it would end in year 10000
    assert month_bounds(shift_month("1900-01", -1))[0].year == 1899  # history walks stay valid


@pytest.mark.parametrize("month", ["0001-01", "9999-12"])
def test_the_rankings_page_says_it_cannot_show_the_month(rankings: RankingsPage,
                                                         month: str) -> None:
    out = dict(zip(OUTPUTS, rankings.render(f"?month={month}", 0, None, None)))
    assert out[(ids.RANK_MONTH, "value")] == "2026-03"  # this month is shown instead
    assert texts(out[(ids.RANK_MESSAGE, "children")]) == (
        f"{month} 不是可查看的月份(YYYY-MM,1900-01 至 2999-12),显示 2026-03")
    assert texts(out[(ids.RANK_TABLES, "children")])  # and the page is filled, not a 500


def test_the_bad_month_stays_in_the_url_so_the_page_can_say_so() -> None:
    layout = rankings_layout(page_request("/rankings", {"month": "0001-01"},
                                          now=NOW, settings=Settings()))
    location = next(c for c in layout.children if getattr(c, "id", None) == ids.RANK_URL)
    assert location.search == "?month=0001-01"


def test_month_notice_only_for_a_bad_month() -> None:
    assert month_notice(None, "2026-03", "en") is None
    assert month_notice("2026-02", "2026-03", "en") is None
    assert month_notice("2026-13", "2026-03", "en") == (
        "2026-13 is not a month that can be shown (YYYY-MM, 1900-01 to 2999-12): showing 2026-03")
    assert resolve_month("9999-12", "2026-03") == "2026-03"


# --- the calendar file ---------------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    ("holidays:\n  - 2027-01-01\n  - 2027-13-01\n",
     "line 3: every entry of 'holidays' must be a date YYYY-MM-DD, not '2027-13-01'"),
    ("holidays: [2027-01-01\n", "line 2: not valid YAML: expected ',' or ']'"),
    ("holiday:\n  - 2027-01-01\n", "line 1: unknown key 'holiday'"),
    ("workdays: 2027-01-01\n", "line 1: 'workdays' must be a list of dates YYYY-MM-DD"),
    ("- 2027-01-01\n", "line 1: expected keys 'holidays' and 'workdays'"),
    ("holidays:\n  - [2027-01-01]\n", "line 2: every entry of 'holidays' must be a date"),
    ("holidays:\n  - 20270101\n", "line 2: every entry of 'holidays' must be a date"),
])
def test_a_broken_calendar_file_is_one_line_with_file_and_line(tmp_path: Path, text: str,
                                                               message: str) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarFileError) as caught:
        load_extra_days(path)
    assert str(caught.value).startswith(f"{path}, {message}")
    assert "\n" not in str(caught.value)


def test_a_missing_calendar_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(CalendarFileError, match="no such calendar file"):
        load_extra_days(tmp_path / "nope.yaml")


def test_a_valid_calendar_file_reads_both_lists(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text("holidays:\n  - 2027-01-01\nworkdays:\n", encoding="utf-8")
    holidays, workdays = load_extra_days(path)
    assert sorted(d.isoformat() for d in holidays) == ["2027-01-01"] and workdays == frozenset()


# --- a failing scheduled job ---------------------------------------------------------------


def locked() -> OperationalError:
    return OperationalError("INSERT INTO cases ... (a statement that differs every run)", {},
                            Exception("database is locked"))


class Flaky:
    """A job that raises the queued failures one per run, then works."""

    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.runs = 0

    def __call__(self) -> None:
        self.runs += 1
        if self.failures:
            raise self.failures.pop(0)


def test_failure_kind_is_the_drivers_reason_not_the_statement() -> None:
    assert failure_kind(locked()) == "OperationalError: database is locked"
    assert failure_kind(RuntimeError("")) == "RuntimeError: (no message)"


def test_error_reason_is_the_first_line_of_the_drivers_own_message() -> None:
    # The statement and parameters SQLAlchemy adds after the driver's line are left out.
    assert error_reason(locked()) == "database is locked"
    assert error_reason(OperationalError("SELECT 1", {}, Exception("refused\nis the server up?"))
                        ) == "refused"
    assert error_reason(RuntimeError("  \n ")) == "RuntimeError"  # no message: the type
    assert error_reason(RuntimeError(""), empty="(none)") == "(none)"


def test_a_failing_job_warns_once_per_kind_and_says_when_it_recovered(
        caplog: pytest.LogCaptureFixture) -> None:
    flaky = Flaky([locked(), locked(), locked(), ValueError("bad row\nsecond line"), locked()])
    job = GuardedJob(JobDefinition("demo-simulator", flaky, 10))
    with caplog.at_level(logging.DEBUG, logger="snapshot.jobs"):
        for _ in range(7):
            job()  # never raises: the scheduler would otherwise log a traceback every run
    assert flaky.runs == 7
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "job demo-simulator failed: OperationalError: database is locked (retrying every 10 s; "
        "-v shows each failure)",
        "job demo-simulator failed: ValueError: bad row (retrying every 10 s; -v shows each "
        "failure)",
        "job demo-simulator recovered after 5 failed runs",
    ]
    debug = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(debug) == 5 and all(r.exc_info for r in debug)  # the tracebacks, at -v only
    assert job.failing is None and job.failures == 0


def test_a_flapping_job_says_it_once_per_quiet_period(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    failures: list[Exception] = []
    job = GuardedJob(JobDefinition("demo-simulator", Flaky(failures), 2), quiet_seconds=600,
                     clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="snapshot.jobs"):
        for step in range(20):  # fails, works, fails, works … every 2 s for 40 s
            now[0] = step * 2.0
            if step % 2 == 0:
                failures.append(locked())
            job()
        now[0] = 700.0  # past the quiet period the same kind is said again
        failures.append(locked())
        job()
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == [
        "job demo-simulator failed: OperationalError: database is locked (retrying every 2 s; "
        "-v shows each failure)",
        "job demo-simulator recovered after 1 failed run",
        "job demo-simulator failed: OperationalError: database is locked (retrying every 2 s; "
        "-v shows each failure)",
    ]


def test_a_healthy_job_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    job = GuardedJob(JobDefinition("snapshot-refresh", Flaky([]), 10))
    with caplog.at_level(logging.DEBUG, logger="snapshot.jobs"):
        job()
        job()
    assert not caplog.records


def test_the_scheduler_runs_every_job_guarded() -> None:
    from snapshot.jobs import create_scheduler

    scheduler = create_scheduler([JobDefinition("demo-simulator", Flaky([]), 5)],
                                 timezone="Asia/Shanghai")
    (job,) = scheduler.get_jobs()
    assert isinstance(job.func, GuardedJob) and job.func.job.id == "demo-simulator"
