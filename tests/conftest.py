"""Shared fixtures: a fresh SQLite database per test, built the way the app builds it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from queries.engine import init_db, make_engine, make_session_factory


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A new, empty SQLite database with every table created."""
    eng = make_engine(f"sqlite:///{tmp_path / 'test.sqlite3'}")
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
