"""Engine and session factory: one place that knows how to open the case database."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from queries import migrate
from queries.models import Base
from queries.schema import upgrade_schema

log = logging.getLogger(__name__)


class DatabaseUnavailable(RuntimeError):
    """The database URL is malformed or the database cannot be reached; message is user-facing."""


def error_reason(exc: BaseException, *, empty: str | None = None) -> str:
    """Return the first line of a database error's own reason (the driver's, when there is one).

    SQLAlchemy's message carries the statement and its parameters, long and different every
    run; the driver's first line ("database is locked", "connection refused") is what a log or
    an error line should say. An error with no message gives ``empty``, or its type's name.
    """
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0] if lines else empty or type(exc).__name__


# A dead or frozen database must fail a refresh, not hang it (GRIDWATCH_DB_CONNECT_TIMEOUT,
# GRIDWATCH_STATEMENT_TIMEOUT): seconds to open a connection and to finish one statement.
DEFAULT_CONNECT_TIMEOUT = 5
DEFAULT_STATEMENT_TIMEOUT = 30


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the simulator write while snapshot reads go on; the driver's timeout= (the busy
    # timeout) rides out the short write locks instead of failing a read.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def engine_options(backend: str, *, connect_timeout: int, statement_timeout: int
                   ) -> dict[str, Any]:
    """Return ``create_engine`` keywords that bound every wait on the database.

    PostgreSQL (libpq's parameters): ``connect_timeout``; ``statement_timeout`` set for the
    session through ``options``, so the server cancels a statement running longer, and
    ``DateStyle`` ISO whatever the server's or the database's default (the case columns read
    times as text: ``queries.assessment_data``); TCP
    keepalives and ``tcp_user_timeout`` so a vanished host breaks the socket instead of a
    read blocking for ever. SQLite has no server: what can hang there is a lock held by another
    writer, which ``timeout=`` bounds (the same statement budget).
    """
    if backend == "sqlite":
        return {"connect_args": {"timeout": statement_timeout}}
    connect_args: dict[str, Any] = {}
    if backend == "postgresql":
        connect_args = {
            "connect_timeout": connect_timeout,
            "options": f"-c statement_timeout={statement_timeout * 1000} -c datestyle=ISO",
            "keepalives": 1, "keepalives_idle": connect_timeout,
            "keepalives_interval": connect_timeout, "keepalives_count": 3,
            "tcp_user_timeout": statement_timeout * 1000,
        }
    return {"connect_args": connect_args, "pool_pre_ping": True, "pool_size": 5,
            "max_overflow": 5, "pool_timeout": statement_timeout}


class Watchdog:
    """Breaks the socket of a PostgreSQL connection whose server stopped answering.

    A frozen server (SIGSTOP, a paused VM, a hung disk) keeps its sockets open and its kernel
    acknowledges every packet: ``statement_timeout`` never fires (the server is not running),
    ``tcp_user_timeout`` sees no unacknowledged data and the keepalives are answered, so a
    read would wait until the server wakes — a wall's poll for as long as the freeze. Each
    statement, ping, rollback and commit is armed with a deadline here; past it one thread
    shuts the socket down, the driver fails the call as a lost connection and SQLAlchemy drops
    it from the pool as a disconnect.
    """

    TICK = 0.25  # seconds between the thread's looks at the deadlines

    def __init__(self) -> None:
        self._armed: dict[int, tuple[float, Any]] = {}  # id(DBAPI connection) -> (deadline, it)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def arm(self, dbapi_connection: Any, seconds: float) -> None:
        with self._lock:
            self._armed[id(dbapi_connection)] = (time.monotonic() + seconds, dbapi_connection)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="gridwatch-db-watchdog",
                                                daemon=True)
                self._thread.start()

    def disarm(self, dbapi_connection: Any) -> None:
        with self._lock:
            self._armed.pop(id(dbapi_connection), None)

    @contextmanager
    def guard(self, dbapi_connection: Any, seconds: float) -> Iterator[None]:
        self.arm(dbapi_connection, seconds)
        try:
            yield
        finally:
            self.disarm(dbapi_connection)

    def _run(self) -> None:
        while True:
            time.sleep(self.TICK)
            now = time.monotonic()
            # Under the lock: an armed connection is inside a call, so it is not closed (and its
            # descriptor not reused) before the call returns and disarms it.
            with self._lock:
                for key, (deadline, conn) in list(self._armed.items()):
                    if deadline <= now:
                        del self._armed[key]
                        self._break(conn)

    @staticmethod
    def _break(dbapi_connection: Any) -> None:
        try:
            fd = dbapi_connection.fileno()
            with socket.socket(fileno=os.dup(fd)) as sock:  # the same socket, its own descriptor
                sock.shutdown(socket.SHUT_RDWR)
        except Exception as exc:  # noqa: BLE001 - the one watchdog thread must not die of it
            # Closed meanwhile: the socket is gone (OSError, ValueError) or the driver says so
            # itself (psycopg's OperationalError "the connection is closed").
            log.debug("watchdog: the connection was already gone: %s", exc)
            return
        log.warning("the database did not answer in time: connection broken (a frozen server?)")

    def install(self, engine: Engine, *, statement_seconds: float, ping_seconds: float) -> None:
        """Arm every statement, ping, rollback and commit of ``engine``."""

        @event.listens_for(engine, "before_cursor_execute")
        def _arm(_conn: Any, cursor: Any, *_args: Any) -> None:
            self.arm(cursor.connection, statement_seconds)

        @event.listens_for(engine, "after_cursor_execute")
        def _disarm(_conn: Any, cursor: Any, *_args: Any) -> None:
            self.disarm(cursor.connection)

        @event.listens_for(engine, "handle_error")
        def _failed(context: Any) -> None:
            cursor = getattr(context, "cursor", None)  # absent when connecting failed
            if cursor is not None:
                self.disarm(cursor.connection)

        # The pool's pre-ping, its rollback on return and every commit call the dialect, not a
        # cursor: each is wrapped with its own budget (the engine's dialect is its own object).
        dialect = engine.dialect
        for name, seconds in (("do_ping", ping_seconds), ("do_rollback", statement_seconds),
                              ("do_commit", statement_seconds)):
            setattr(dialect, name, self._guarded(getattr(dialect, name), seconds))

    def _guarded(self, call: Callable[[Any], Any], seconds: float) -> Callable[[Any], Any]:
        def guarded(dbapi_connection: Any) -> Any:
            with self.guard(dbapi_connection, seconds):
                return call(dbapi_connection)
        return guarded


# One watchdog (one thread, started at the first armed call) for every engine of the process:
# a thread per engine grew to a hundred in the test suite, each waking four times a second.
WATCHDOG = Watchdog()


def make_engine(url: str, *, connect_timeout: int = DEFAULT_CONNECT_TIMEOUT,
                statement_timeout: int = DEFAULT_STATEMENT_TIMEOUT) -> Engine:
    """Create an engine for ``url`` with bounded waits (``engine_options``); SQLite gets WAL
    mode and its folder is created."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise DatabaseUnavailable(f"not a database URL: {url!r} ({exc})") from exc
    backend = parsed.get_backend_name()
    options = engine_options(backend, connect_timeout=connect_timeout,
                             statement_timeout=statement_timeout)
    try:
        if backend == "postgresql":
            engine = create_engine(parsed, **options)
            WATCHDOG.install(engine, statement_seconds=statement_timeout + 1,
                             ping_seconds=connect_timeout)
            return engine
        if backend != "sqlite":
            return create_engine(parsed, **options)
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseUnavailable(
                    f"cannot create the database folder {folder}: {exc.strerror}") from exc
        engine = create_engine(parsed, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    except (NoSuchModuleError, ImportError) as exc:
        raise DatabaseUnavailable(f"no driver for {parsed.drivername!r}: {exc}") from exc


def check_connection(engine: Engine) -> None:
    """Raise ``DatabaseUnavailable`` with a plain message unless the database answers."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        raise DatabaseUnavailable(
            f"cannot reach the database {_shown(engine)}: {error_reason(exc)}") from exc


def init_db(engine: Engine) -> None:
    """Bring the database to the head revision: create a new one, migrate an older one.

    A database with none of Gridwatch's tables gets them from the models and is stamped at the
    head; one made before migrations (tables, no ``alembic_version``) is first brought to the
    baseline revision's schema by the column additions below, stamped there, then upgraded.
    """
    check_connection(engine)
    try:
        with engine.begin() as conn:
            revision = migrate.current_revision(conn)
            fresh = revision is None and not migrate.has_gridwatch_tables(conn)
        if fresh:
            Base.metadata.create_all(engine)
            with engine.begin() as conn:
                migrate.stamp(conn, migrate.head())
            return
        if revision is None:
            Base.metadata.create_all(engine)  # the tables newer than the database
            _add_new_columns(engine)
            upgrade_schema(engine)
            with engine.begin() as conn:
                migrate.stamp(conn, migrate.BASELINE)
        if revision != migrate.head():
            with engine.begin() as conn:
                migrate.upgrade(conn)
    except DBAPIError as exc:
        raise DatabaseUnavailable(
            f"cannot create the tables in {_shown(engine)}: {error_reason(exc)}") from exc


# Columns added to existing tables before migrations began: (table, column, DDL type + default).
# create_all makes missing tables only, so a database from an older version gets these here;
# what came later (cases.photo_urls, cases.section_id, ...) is a revision's (0003 on).
_NEW_COLUMNS = (
    ("areas", "derived", "BOOLEAN NOT NULL DEFAULT FALSE"),
    # Real cases (issue 10): the source system, imprecise locations, raw source strings.
    ("cases", "source_system", "VARCHAR(64) NOT NULL DEFAULT 'demo'"),
    ("cases", "source_raw", "TEXT"),
    ("cases", "location_precise", "BOOLEAN NOT NULL DEFAULT TRUE"),
    ("cases", "location_note", "VARCHAR(32)"),
    ("cases", "status_raw", "TEXT"),
    ("quarantined_rows", "source_system", "VARCHAR(64) NOT NULL DEFAULT ''"),
    ("quarantined_rows", "file_name", "TEXT NOT NULL DEFAULT ''"),
    ("quarantined_rows", "external_id", "VARCHAR(128)"),
    ("quarantined_rows", "reason_code", "VARCHAR(32) NOT NULL DEFAULT ''"),
)
# Indexes a newer version needs on tables an older one created (IF NOT EXISTS: both dialects).
_NEW_INDEXES = (
    ("CREATE UNIQUE INDEX IF NOT EXISTS uq_cases_source_external "
    "ON cases (source_system, external_id)"),
    ("CREATE INDEX IF NOT EXISTS ix_quarantine_source_row "
    "ON quarantined_rows (source_system, row_number)"),
    ("CREATE INDEX IF NOT EXISTS ix_quarantine_source_external "
    "ON quarantined_rows (source_system, external_id)"),
    ("CREATE INDEX IF NOT EXISTS ix_quarantined_rows_reason_code "
    "ON quarantined_rows (reason_code)"),
)
# PostgreSQL enforces VARCHAR widths and NOT NULL: older tables get the wider types and the
# nullable area columns real cases need. (SQLite ignores widths; an older SQLite file keeps
# NOT NULL on grid_id/community_id until it is rebuilt.)
_PG_ALTERATIONS = (
    "ALTER TABLE cases ALTER COLUMN external_id TYPE VARCHAR(128)",
    "ALTER TABLE cases ALTER COLUMN source TYPE VARCHAR(64)",
    "ALTER TABLE cases ALTER COLUMN address TYPE TEXT",
    "ALTER TABLE cases ALTER COLUMN grid_id DROP NOT NULL",
    "ALTER TABLE cases ALTER COLUMN community_id DROP NOT NULL",
    "ALTER TABLE cases DROP CONSTRAINT IF EXISTS cases_external_id_key",
    "ALTER TABLE categories ALTER COLUMN code TYPE VARCHAR(64)",
    "ALTER TABLE categories ALTER COLUMN major TYPE VARCHAR(255)",
    "ALTER TABLE categories ALTER COLUMN minor TYPE VARCHAR(255)",
    "ALTER TABLE categories ALTER COLUMN department_code TYPE VARCHAR(64)",
    "ALTER TABLE departments ALTER COLUMN code TYPE VARCHAR(64)",
    "ALTER TABLE departments ALTER COLUMN name TYPE VARCHAR(255)",
    "ALTER TABLE quarantined_rows ALTER COLUMN source TYPE VARCHAR(255)",
)


def _add_new_columns(engine: Engine) -> None:
    """Add the columns a newer version needs to tables an older version created.

    Views standing for Gridwatch's tables (an existing database, docs/import.md) are left
    alone: they already name every column, and views take no ALTER and no index.
    """
    with engine.begin() as conn:
        inspector = inspect(conn)  # on the connection that alters: one consistent schema
        views = set(inspector.get_view_names())
        for table, column, ddl in _NEW_COLUMNS:
            if table in views:
                continue
            if column not in {c["name"] for c in inspector.get_columns(table)}:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}"))
        for statement in _NEW_INDEXES:
            if statement.split(" ON ")[1].split(" ")[0] not in views:
                conn.execute(text(statement))
        if engine.dialect.name == "postgresql":
            for statement in _PG_ALTERATIONS:
                if statement.split(" ")[2] not in views:
                    conn.execute(text(statement))


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory; callers own their sessions (``with factory() as s``)."""
    return sessionmaker(engine, expire_on_commit=False)


def _shown(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


