"""The ``gridwatch`` command: clear messages and non-zero exits, never a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, inspect, select

from cli import cli
from queries.engine import make_engine
from queries.models import Area, Case


def run(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"GRIDWATCH_DATA_DIR": str(tmp_path), "GRIDWATCH_DATABASE_URL": ""}


def test_init_db_creates_the_schema(env: dict[str, str], tmp_path: Path) -> None:
    result = run(["init-db"], env)
    assert result.exit_code == 0, result.output
    tables = inspect(make_engine(f"sqlite:///{tmp_path / 'gridwatch.sqlite3'}")).get_table_names()
    assert {"areas", "cases", "case_events", "volunteer_activities"} <= set(tables)


@pytest.mark.parametrize(
    ("url", "needle"),
    [("not a url", "not a database URL"),
     ("postgresql://u@h:abc/db", "not a database URL"),
     ("sqlite:////proc/nope/x.sqlite3", "cannot create the database folder"),
     ("nosuchdb://x/y", "no driver"),
     ("postgresql://gridwatch@127.0.0.1:1/gridwatch", "cannot reach the database")],
)
def test_bad_database_url_is_a_clear_error(env: dict[str, str], url: str, needle: str) -> None:
    result = run(["init-db"], {**env, "GRIDWATCH_DATABASE_URL": url})
    assert result.exit_code == 1
    assert needle in result.output and "Traceback" not in result.output


def test_bad_setting_is_a_clear_error(env: dict[str, str]) -> None:
    result = run(["serve"], {**env, "GRIDWATCH_PORT": "http"})
    assert result.exit_code == 1 and "GRIDWATCH_PORT" in result.output


def test_port_in_use_is_a_clear_error(env: dict[str, str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(["demo", "--port", str(port), "--cases", "0"], env)
    assert result.exit_code == 1
    assert f"port {port}" in result.output and "already in use" in result.output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_refuses_an_empty_database(env: dict[str, str]) -> None:
    assert run(["init-db"], env).exit_code == 0
    result = run(["serve", "--port", str(free_port())], env)
    assert result.exit_code == 1 and "gridwatch generate" in result.output


def test_generate_writes_a_city_and_summarises(env: dict[str, str], tmp_path: Path) -> None:
    result = run(["generate", "--cases", "400", "--seed", "3"], env)
    assert result.exit_code == 0, result.output
    assert "generated 400 cases" in result.output and "rows in" in result.output
    engine = make_engine(f"sqlite:///{tmp_path / 'gridwatch.sqlite3'}")
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Case)) == 400
        assert conn.scalar(select(func.count()).select_from(Area)) > 500
    again = run(["generate", "--cases", "10"], env)
    assert again.exit_code == 1 and "Traceback" not in again.output


def test_serve_on_a_file_that_is_not_a_database(env: dict[str, str], tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_text("not a database" * 100)
    result = run(["serve", "--port", str(free_port())],
                 {**env, "GRIDWATCH_DATABASE_URL": f"sqlite:///{junk}"})
    assert result.exit_code == 1
    assert "file is not a database" in result.output and "Traceback" not in result.output




def test_scheduler_on_a_database_without_a_city_says_so(env: dict[str, str]) -> None:
    assert run(["init-db"], env).exit_code == 0
    result = run(["scheduler"], env)
    assert result.exit_code == 1 and "holds no city yet" in result.output
