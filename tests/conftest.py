"""Shared fixtures: a fresh database per test, built the way the app builds it.

By default every database is a new SQLite file. The PostgreSQL pass (``tests/pg/run.sh``, part
of ``make test``) sets ``GRIDWATCH_TEST_DATABASE_URL`` to a server's maintenance database, and
each test gets a PostgreSQL database of its own instead: a copy of a template already at the
head revision (``CREATE DATABASE … TEMPLATE``). A copy costs 0.4–1 s on the shared 2-core
machine, more than most tests, so a database a test used is handed to the next one once its
rows are deleted and its sequences restarted — unless the test changed its schema, then it is
dropped. Either way each test starts from exactly the template.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from queries.engine import init_db, make_engine, make_session_factory
from queries.migrate import head
from queries.models import Base

PG_SERVER = os.environ.get("GRIDWATCH_TEST_DATABASE_URL", "")
HEAD_TEMPLATE = "gridwatch_head"  # every table, stamped at the head revision
EMPTY_TEMPLATE = "template0"  # PostgreSQL's own pristine database
# What a schema change by a test would alter: relations, columns, indexes and constraints.
FINGERPRINT = text(
    "SELECT md5(coalesce(string_agg(item, ',' ORDER BY item), '')) FROM ("
    " SELECT concat_ws(':', c.relname, c.relkind, a.attname,"
    " format_type(a.atttypid, a.atttypmod), a.attnotnull) AS item"
    " FROM pg_class c LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0"
    " AND NOT a.attisdropped WHERE c.relnamespace = 'public'::regnamespace"
    " UNION ALL SELECT conname::text FROM pg_constraint"
    " WHERE connamespace = 'public'::regnamespace) items")


class Databases:
    """Where tests' databases come from: SQLite files, or PostgreSQL copies of a template."""

    def __init__(self, tmp: pytest.TempPathFactory) -> None:
        self.tmp = tmp
        self.free: list[str] = []  # PostgreSQL databases at the template's state, for reuse
        self.made: list[str] = []
        self.numbers = itertools.count(1)
        self.admin: Engine | None = None
        self.fingerprint = ""
        if PG_SERVER:
            self.admin = create_engine(make_url(PG_SERVER), isolation_level="AUTOCOMMIT",
                                       poolclass=NullPool)
            self._create(HEAD_TEMPLATE, EMPTY_TEMPLATE, replace=True)
            template = create_engine(self._url(HEAD_TEMPLATE), poolclass=NullPool)
            init_db(template)
            with template.connect() as conn:
                self.fingerprint = conn.execute(FINGERPRINT).scalar_one()
            template.dispose()  # a template must have no connections while it is copied

    def _url(self, name: str) -> str:
        return make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)

    def _create(self, name: str, template: str, *, replace: bool = False) -> None:
        assert self.admin is not None
        with self.admin.connect() as conn:
            if replace:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))

    def _drop(self, name: str) -> None:
        assert self.admin is not None
        with self.admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))

    def take(self, *, tables: bool = True, memory: bool = False,
             folder: Path | None = None) -> str:
        """A new database's URL. ``tables=False``: an empty one (migration tests); ``memory``:
        SQLite may use an in-memory database; ``folder``: where an SQLite file goes (some
        tests open ``test.sqlite3`` there by name)."""
        if self.admin is None:
            if memory:
                return "sqlite://"
            return f"sqlite:///{(folder or self.tmp.mktemp('db')) / 'test.sqlite3'}"
        if tables and self.free:
            return self._url(self.free.pop())
        name = f"gw_test_{os.getpid()}_{next(self.numbers)}"
        self._create(name, HEAD_TEMPLATE if tables else EMPTY_TEMPLATE)
        self.made.append(name)
        return self._url(name)

    def give_back(self, url: str, *, tables: bool = True) -> None:
        """Return a test's database: reset for the next test, or dropped if its schema moved."""
        if self.admin is None:
            return
        name = make_url(url).database
        assert name is not None
        if tables and self._reset(url):
            self.free.append(name)
        else:
            self._drop(name)

    def _reset(self, url: str) -> bool:
        """Delete every row, restart the sequences, re-stamp the head; False if the schema is
        no longer the template's."""
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                if conn.execute(FINGERPRINT).scalar_one() != self.fingerprint:
                    return False
                for table in reversed(Base.metadata.sorted_tables):
                    conn.execute(table.delete())
                conn.execute(text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'"
                                  " AND relnamespace = 'public'::regnamespace"))
                conn.execute(text("UPDATE alembic_version SET version_num = :head"),
                             {"head": head()})
            return True
        finally:
            engine.dispose()

    def close(self) -> None:
        """Drop every database the pass made (the throwaway cluster goes too, in run.sh)."""
        if self.admin is None:
            return
        for name in self.made:
            self._drop(name)
        self.admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    """The pass's source of databases (SQLite, or PostgreSQL under GRIDWATCH_TEST_DATABASE_URL)."""
    source = Databases(tmp_path_factory)
    yield source
    source.close()


@pytest.fixture
def database_url(databases: Databases, tmp_path: Path) -> Iterator[str]:
    """The URL of a new database for this test (tables created by ``engine``/``init_db``)."""
    url = databases.take(folder=tmp_path)
    yield url
    databases.give_back(url)


@pytest.fixture
def empty_database_url(databases: Databases, tmp_path: Path) -> Iterator[str]:
    """The URL of a new database with no tables at all."""
    url = databases.take(tables=False, folder=tmp_path)
    yield url
    databases.give_back(url, tables=False)


@pytest.fixture(scope="module")
def shared_database_url(databases: Databases) -> Iterator[str]:
    """A database a module's read-only tests share (in memory on SQLite)."""
    url = databases.take(memory=True)
    yield url
    databases.give_back(url)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A new database with every table created, at the head revision."""
    eng = make_engine(database_url)
    init_db(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    """The session factory for ``engine``."""
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """One session on the per-test database."""
    with session_factory() as s:
        yield s
