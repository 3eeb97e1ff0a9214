"""A dead or slow database cannot hang a poll: every engine bounds its waits.

GRIDWATCH_DB_CONNECT_TIMEOUT and GRIDWATCH_STATEMENT_TIMEOUT reach the driver: libpq's
``connect_timeout`` and a session ``statement_timeout`` for PostgreSQL, ``timeout=`` (the busy
timeout) for SQLite. No PostgreSQL server is needed: what reaches the driver is read in
SQLAlchemy's ``do_connect`` event, and a socket that accepts but never answers stands for a
frozen server.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from app import create_context
from queries.engine import DatabaseUnavailable, Watchdog, check_connection, make_engine
from settings import Settings, SettingsError

PG_URL = "postgresql+psycopg://gridwatch:secret@127.0.0.1:9/gridwatch"


class _Stop(Exception):
    """Raised in ``do_connect`` once the driver's arguments are read: nothing dials out."""


def driver_arguments(url: str, **env: str) -> dict[str, Any]:
    """Return the keyword arguments the engine of these settings hands the DBAPI's connect()."""
    settings = Settings.from_env({"GRIDWATCH_DATABASE_URL": url, **env})
    engine = create_context(settings).engine
    seen: dict[str, Any] = {}

    def capture(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        seen.update(cparams)
        raise _Stop

    event.listen(engine, "do_connect", capture)
    with pytest.raises(_Stop):
        engine.connect()
    return seen


def test_postgresql_gets_the_connect_and_statement_timeouts() -> None:
    args = driver_arguments(PG_URL, GRIDWATCH_DB_CONNECT_TIMEOUT="7",
                            GRIDWATCH_STATEMENT_TIMEOUT="12")
    assert args["connect_timeout"] == 7
    # milliseconds, per session; ISO dates whatever the server's default (read as text)
    assert args["options"] == "-c statement_timeout=12000 -c datestyle=ISO"
    assert args["tcp_user_timeout"] == 12000 and args["keepalives"] == 1


def test_postgresql_defaults_are_5_and_30_seconds() -> None:
    args = driver_arguments(PG_URL)
    assert args["connect_timeout"] == 5
    assert args["options"] == "-c statement_timeout=30000 -c datestyle=ISO"


def test_sqlite_gets_the_statement_budget_as_its_busy_timeout(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    assert driver_arguments(url, GRIDWATCH_STATEMENT_TIMEOUT="12")["timeout"] == 12
    engine = create_context(Settings.from_env({"GRIDWATCH_DATABASE_URL": url,
                                               "GRIDWATCH_STATEMENT_TIMEOUT": "12"})).engine
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 12000


@pytest.mark.parametrize("name", ["GRIDWATCH_DB_CONNECT_TIMEOUT", "GRIDWATCH_STATEMENT_TIMEOUT"])
@pytest.mark.parametrize("value", ["0", "soon", "-3"])
def test_a_bad_timeout_is_a_settings_error(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_a_server_that_never_answers_fails_the_connection_instead_of_hanging() -> None:
    """A listening socket that accepts and stays silent: libpq's startup waits for an answer
    that never comes, until connect_timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        engine = make_engine(f"postgresql+psycopg://gridwatch@127.0.0.1:{port}/gridwatch",
                             connect_timeout=1, statement_timeout=2)
        failures: list[BaseException] = []

        def connect() -> None:
            try:
                check_connection(engine)
            except DatabaseUnavailable as exc:
                failures.append(exc)

        worker = threading.Thread(target=connect, daemon=True)
        worker.start()
        worker.join(timeout=60)  # a guard against a hang, far above the 1 s budget
        assert not worker.is_alive(), "the connection attempt hung past connect_timeout"
        assert len(failures) == 1 and "cannot reach the database" in str(failures[0])


def test_a_locked_sqlite_database_fails_a_write_instead_of_hanging(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite3"
    engine = make_engine(f"sqlite:///{path}", statement_timeout=1)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    holder = sqlite3.connect(path)
    holder.execute("BEGIN EXCLUSIVE")  # another writer holds the lock and never lets go
    try:
        with pytest.raises(OperationalError, match="locked"), engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        holder.rollback()
        holder.close()


def test_the_watchdog_survives_a_connection_closed_under_it() -> None:
    """A connection the driver closed between its deadline and the break: psycopg's fileno()
    raises its own OperationalError, which killed the one watchdog thread of the process."""

    class Closed:
        def fileno(self) -> int:
            raise RuntimeError("the connection is closed")  # psycopg.OperationalError's kind

    Watchdog._break(Closed())  # returns: nothing to break, nothing raised
