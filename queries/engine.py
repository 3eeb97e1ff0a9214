"""Engine and session factory: one place that knows how to open the case database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from queries.models import Base
from queries.schema import upgrade_schema


class DatabaseUnavailable(RuntimeError):
    """The database URL is malformed or the database cannot be reached; message is user-facing."""


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the simulator write while snapshot reads go on; busy_timeout rides out the
    # short write locks instead of failing a read.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``; SQLite gets WAL mode and its folder is created."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise DatabaseUnavailable(f"not a database URL: {url!r} ({exc})") from exc
    try:
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                folder = Path(parsed.database).expanduser().parent
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise DatabaseUnavailable(
                        f"cannot create the database folder {folder}: {exc.strerror}") from exc
            engine = create_engine(parsed, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=5)
    except (NoSuchModuleError, ImportError) as exc:
        raise DatabaseUnavailable(f"no driver for {parsed.drivername!r}: {exc}") from exc


def check_connection(engine: Engine) -> None:
    """Raise ``DatabaseUnavailable`` with a plain message unless the database answers."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        raise DatabaseUnavailable(f"cannot reach the database {_shown(engine)}: {_reason(exc)}") from exc


def init_db(engine: Engine) -> None:
    """Create every table and index that does not exist yet."""
    check_connection(engine)
    try:
        Base.metadata.create_all(engine)
        upgrade_schema(engine)
    except DBAPIError as exc:
        raise DatabaseUnavailable(f"cannot create the tables in {_shown(engine)}: {_reason(exc)}") from exc


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory; callers own their sessions (``with factory() as s``)."""
    return sessionmaker(engine, expire_on_commit=False)


def _shown(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _reason(exc: DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
