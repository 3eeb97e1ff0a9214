"""Shared fixtures: a fresh database per test, built the way the app builds it.

By default every database is a new SQLite file. The PostgreSQL pass (``tests/pg/run.sh``, part
of ``make test``) sets ``GRIDWATCH_TEST_DATABASE_URL`` to a server's maintenance database; each
test then gets its own PostgreSQL database, copied from a template already at the head
revision (``CREATE DATABASE … TEMPLATE``: a file copy, far quicker than creating the tables).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from queries.engine import init_db, make_engine, make_session_factory

PG_SERVER = os.environ.get("GRIDWATCH_TEST_DATABASE_URL", "")
HEAD_TEMPLATE = "gridwatch_head"  # every table, stamped at the head revision
EMPTY_TEMPLATE = "template0"  # PostgreSQL's own pristine database

# A new database's URL: ``new_database(tables=True, memory=False, folder=None)``.
NewDatabase = Callable[..., str]


def _postgres_factory() -> Iterator[NewDatabase]:
    admin = create_engine(make_url(PG_SERVER), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {HEAD_TEMPLATE}"))
        conn.execute(text(f"CREATE DATABASE {HEAD_TEMPLATE} TEMPLATE {EMPTY_TEMPLATE}"))
    template = make_engine(make_url(PG_SERVER).set(database=HEAD_TEMPLATE).render_as_string(
        hide_password=False))
    init_db(template)
    template.dispose()  # a template must have no connections while it is copied
    made: list[str] = []
    numbers = itertools.count(1)

    def new_database(*, tables: bool = True, memory: bool = False,
                     folder: Path | None = None) -> str:
        del memory, folder  # PostgreSQL has no in-memory database; a copy is as quick
        name = f"gw_test_{os.getpid()}_{next(numbers)}"
        source = HEAD_TEMPLATE if tables else EMPTY_TEMPLATE
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {source}"))
        made.append(name)
        return make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)

    yield new_database
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(scope="session")
def new_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NewDatabase]:
    """Make a new database and return its URL (the backend of this pass: SQLite or PostgreSQL).

    ``tables=False`` gives an empty database (migration tests build their own schema);
    ``memory=True`` lets SQLite use an in-memory database for a module's shared, read-only city;
    ``folder`` is where an SQLite file goes (``test.sqlite3``, which some tests open by name).
    """
    if PG_SERVER:
        yield from _postgres_factory()
        return

    def new_sqlite(*, tables: bool = True, memory: bool = False,
                   folder: Path | None = None) -> str:
        del tables  # an SQLite file starts empty; ``engine`` (init_db) creates the tables
        if memory:
            return "sqlite://"
        return f"sqlite:///{(folder or tmp_path_factory.mktemp('db')) / 'test.sqlite3'}"

    yield new_sqlite


@pytest.fixture
def database_url(new_database: NewDatabase, tmp_path: Path) -> str:
    """The URL of a new database for this test (tables created by ``engine``/``init_db``)."""
    return new_database(folder=tmp_path)


@pytest.fixture
def empty_database_url(new_database: NewDatabase, tmp_path: Path) -> str:
    """The URL of a new database with no tables at all."""
    return new_database(tables=False, folder=tmp_path)


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

