"""The command line's options and files: every bad value is one line, never a traceback.

Also: only ``demo``, ``init-db`` and ``generate`` may create an SQLite file, and the server
says once where it listens, with no line per HTTP request unless ``-v``.
"""

from __future__ import annotations

import logging
import socket
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from waitress import wasyncore
from waitress.server import BaseWSGIServer

import cli as cli_module
from cli import cli
from queries.engine import init_db, make_engine, make_session_factory
from tests.assessment_city import RULES_YAML, build_city


def run(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Settings pointing at a database file that does not exist yet."""
    return {"GRIDWATCH_DATA_DIR": str(tmp_path), "GRIDWATCH_DATABASE_URL": "",
            "GRIDWATCH_RULES_FILE": "", "GRIDWATCH_CALENDAR_FILE": ""}


@pytest.fixture
def city(tmp_path: Path) -> dict[str, str]:
    """Settings pointing at the hand-built assessment city (an existing database)."""
    url = f"sqlite:///{tmp_path / 'city.sqlite3'}"
    engine = make_engine(url)
    init_db(engine)
    with make_session_factory(engine)() as session:
        build_city(session)
    engine.dispose()
    (tmp_path / "rules.yaml").write_text(RULES_YAML, encoding="utf-8")
    return {"GRIDWATCH_DATA_DIR": str(tmp_path), "GRIDWATCH_DATABASE_URL": url,
            "GRIDWATCH_RULES_FILE": str(tmp_path / "rules.yaml"), "GRIDWATCH_CALENDAR_FILE": ""}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_error_line(result: Result) -> str:
    """Return the error of a failed command, checking it is one line and no traceback."""
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    return errors[0]


@pytest.mark.parametrize("args", [
    ["serve", "--port", "99999"], ["serve", "--port", "0"], ["demo", "--port", "-1"],
    ["serve", "--port", "http"], ["demo", "--cases", "-5"], ["demo", "--seed", "-1"],
    ["generate", "--cases", "99999999999"], ["serve", "--host", "a b"],
    ["publish", "--month", "2026-02", "--by", "x" * 65],
])
def test_bad_options_are_usage_errors(env: dict[str, str], args: list[str]) -> None:
    result = run(args, env)
    assert result.exit_code == 2  # click's usage error: the option and what it accepts
    assert "Invalid value" in one_error_line(result)
    assert not (Path(env["GRIDWATCH_DATA_DIR"]) / "gridwatch.sqlite3").exists()


def test_port_range_is_named(env: dict[str, str]) -> None:
    line = one_error_line(run(["serve", "--port", "99999"], env))
    assert "'--port'" in line and "1<=x<=65535" in line


@pytest.mark.parametrize("args", [
    ["serve"], ["assess", "--month", "2026-02"], ["publish", "--month", "2026-02"],
    ["report", "--month", "2026-02"], ["scheduler"],
])
def test_a_missing_database_is_not_created(env: dict[str, str], tmp_path: Path,
                                           args: list[str]) -> None:
    database = tmp_path / "gridwatch.sqlite3"
    result = run(args, env)
    assert result.exit_code == 1
    assert one_error_line(result) == (f"Error: no database at {database}: run `gridwatch demo` "
                                      f"or `gridwatch init-db`")
    assert not database.exists()


def test_init_db_creates_the_missing_database(env: dict[str, str], tmp_path: Path) -> None:
    assert run(["init-db"], env).exit_code == 0
    assert (tmp_path / "gridwatch.sqlite3").is_file()


@pytest.mark.parametrize("month", ["0001-01", "9999-12", "1899-12", "3000-01"])
def test_months_outside_the_calendar_are_one_line(city: dict[str, str], month: str) -> None:
    for command in (["assess"], ["publish"], ["report", "--output", "/tmp/unused.pptx"]):
        result = run([*command, "--month", month], city)
        assert result.exit_code == 1
        assert one_error_line(result) == (f"Error: '{month}' is outside the months Gridwatch "
                                          f"handles (1900-01 to 2999-12)")


def test_the_first_handled_month_has_no_previous_month(city: dict[str, str]) -> None:
    result = run(["assess", "--month", "1900-01"], city)  # 1899-12 is outside: no comparison
    assert result.exit_code == 0, result.output
    assert result.output.startswith("1900-01 ")


def test_a_broken_rules_file_is_one_line_naming_file_and_line(city: dict[str, str],
                                                              tmp_path: Path) -> None:
    bad = tmp_path / "bad_rules.yaml"
    bad.write_text("title: 测试\nbase_score: [100\n", encoding="utf-8")
    broken = {**city, "GRIDWATCH_RULES_FILE": str(bad)}
    for args in (["assess", "--month", "2026-02"], ["serve", "--port", "8999"]):
        line = one_error_line(run(args, broken))
        assert line.startswith(f"Error: {bad}, line 3: not valid YAML")


def test_a_broken_calendar_file_is_one_line_naming_file_and_line(city: dict[str, str],
                                                                 tmp_path: Path) -> None:
    bad = tmp_path / "bad_calendar.yaml"
    bad.write_text("holidays:\n  - 2027-01-01\n  - 2027-13-01\n", encoding="utf-8")
    result = run(["generate", "--cases", "10"], {**city, "GRIDWATCH_CALENDAR_FILE": str(bad)})
    assert one_error_line(result) == (f"Error: {bad}, line 3: every entry of 'holidays' must be "
                                      f"a date YYYY-MM-DD, not '2027-13-01'")


@pytest.fixture
def one_request(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Make the server answer one GET /healthz and return instead of serving for ever."""
    statuses: list[int] = []

    def serve_once(server: BaseWSGIServer) -> None:
        def fetch() -> None:
            # /healthz: public, so no login redirect needs a second request
            url = f"http://127.0.0.1:{server.effective_port}/healthz"
            with urllib.request.urlopen(url, timeout=30) as resp:
                statuses.append(resp.status)

        thread = threading.Thread(target=fetch)
        thread.start()
        while thread.is_alive():  # waitress's own loop, until the one answer is read
            wasyncore.loop(timeout=0.05, map=server._map, count=1)
        server.task_dispatcher.shutdown()

    monkeypatch.setattr(BaseWSGIServer, "run", serve_once)
    yield statuses


def served(city: dict[str, str], args: list[str],
           caplog: pytest.LogCaptureFixture) -> tuple[Result, list[logging.LogRecord]]:
    port = free_port()
    env = {**city, "GRIDWATCH_SECRET_KEY": "k" * 64}
    # serve needs a real key and someone able to log in
    assert run(["user", "add", "chief", "--role", "leader", "--generate"], env).exit_code == 0
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        result = run([*args, "serve", "--port", str(port)], env)
    return result, [r for r in caplog.records if r.name == "gridwatch.access"]


def test_the_server_says_once_where_it_listens_and_logs_no_requests(
        city: dict[str, str], one_request: list[int], caplog: pytest.LogCaptureFixture) -> None:
    result, access = served(city, [], caplog)
    assert result.exit_code == 0, result.output
    assert one_request == [200]
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Gridwatch is serving on http://127.0.0.1:")
    assert not access


def test_verbose_logs_each_request(city: dict[str, str], one_request: list[int],
                                   caplog: pytest.LogCaptureFixture) -> None:
    result, access = served(city, ["-v"], caplog)
    assert result.exit_code == 0, result.output
    assert [r.getMessage() for r in access] == ['"GET /healthz HTTP/1.1" 200']


def test_logging_levels_follow_verbose() -> None:
    cli_module.configure_logging(False)
    assert logging.getLogger("werkzeug").level == logging.WARNING
    assert logging.getLogger("apscheduler").level == logging.ERROR
    assert not logging.getLogger("snapshot").isEnabledFor(logging.DEBUG)
    cli_module.configure_logging(True)
    assert logging.getLogger("werkzeug").level == logging.INFO
    assert logging.getLogger("snapshot.jobs").isEnabledFor(logging.DEBUG)
    cli_module.configure_logging(False)
