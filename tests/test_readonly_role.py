"""Serving needs only SELECT: the wall's snapshot refresh runs on a read-only PostgreSQL role.

The role is made exactly as docs/postgresql.md says; writes (a login, its audit entry) go
through ``GRIDWATCH_WRITE_DATABASE_URL``. The role tests need PostgreSQL: they run in the
PostgreSQL pass (``tests/pg/run.sh``, part of ``make test``); SQLite has no roles.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from app import create_app, create_context
from cli import cli
from queries.engine import init_db, make_engine, make_session_factory
from queries.migrate import require_current
from queries.models import AuditEntry
from settings import Settings
from snapshot.build import make_builder
from snapshot.store import DISTRICT
from tests.handbuilt import NOW, build_handbuilt
from tests.identities import LEADER, logged_in_client


@pytest.fixture
def urls(empty_database_url: str) -> Iterator[tuple[str, str]]:
    """(owner URL, read-only role URL) of a database holding the hand-built city."""
    url = make_url(empty_database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("roles need PostgreSQL: this test runs in the PostgreSQL pass "
                    "(tests/pg/run.sh, part of make test)")
    owner = make_engine(empty_database_url)
    init_db(owner)
    with make_session_factory(owner)() as session:
        build_handbuilt(session)
        session.commit()
    role = f"gridwatch_reader_{os.getpid()}"
    with owner.begin() as conn:  # docs/postgresql.md, word for word
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(text(f"GRANT CONNECT ON DATABASE {url.database} TO {role}"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"))
    yield empty_database_url, url.set(username=role).render_as_string(hide_password=False)
    with owner.begin() as conn:
        conn.execute(text(f"DROP OWNED BY {role}"))
        conn.execute(text(f"DROP ROLE {role}"))
    owner.dispose()


@pytest.mark.postgres
def test_the_role_reads_and_cannot_write(urls: tuple[str, str]) -> None:
    reader = make_engine(urls[1])
    with reader.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM cases")).scalar_one() > 0
        with pytest.raises(ProgrammingError, match="permission denied"):
            conn.execute(text("DELETE FROM audit_log"))
    reader.dispose()


@pytest.mark.postgres
def test_the_wall_refreshes_on_a_select_only_role(urls: tuple[str, str], tmp_path: Path) -> None:
    owner_url, reader_url = urls
    settings = Settings(data_dir=tmp_path, database_url=reader_url,
                        write_database_url=owner_url, as_of=NOW, secret_key="k" * 64)
    ctx = create_context(settings)
    require_current(ctx.engine)  # serve's schema check needs no write either
    ctx.store.refresh()
    on_reader = ctx.store.get()
    assert on_reader is not None, "the refresh failed on the read-only role"
    owner = make_engine(owner_url)
    on_owner = make_builder(make_session_factory(owner), settings)(DISTRICT, NOW)
    assert on_reader.version == on_owner.version  # the same figures as the owner reads
    owner.dispose()
    ctx.engine.dispose()
    ctx.write_engine.dispose()


@pytest.mark.postgres
def test_logins_and_their_audit_go_through_the_write_setting(urls: tuple[str, str],
                                                             tmp_path: Path) -> None:
    owner_url, reader_url = urls
    settings = Settings(data_dir=tmp_path, database_url=reader_url,
                        write_database_url=owner_url, secret_key="k" * 64)
    app = create_app(context=create_context(settings))
    client = logged_in_client(app, LEADER)  # the failed-login counter and audit are writes
    assert client.get("/audit").status_code == 200  # read back on the read-only role
    owner = make_engine(owner_url)
    with make_session_factory(owner)() as session:
        assert session.scalar(select(func.count()).where(AuditEntry.action == "login")) == 1
    owner.dispose()


def test_the_write_setting_defaults_to_the_database_and_write_commands_use_it(
        tmp_path: Path) -> None:
    read, write = f"sqlite:///{tmp_path / 'read.sqlite3'}", f"sqlite:///{tmp_path / 'w.sqlite3'}"
    same = Settings.from_env({"GRIDWATCH_DATABASE_URL": read})
    assert same.write_database_url == read
    both = Settings.from_env({"GRIDWATCH_DATABASE_URL": read,
                              "GRIDWATCH_WRITE_DATABASE_URL": write})
    assert (both.database_url, both.write_database_url) == (read, write)
    assert both.writing().database_url == write
    result = CliRunner().invoke(cli, ["init-db"], env={"GRIDWATCH_DATABASE_URL": read,
                                                       "GRIDWATCH_WRITE_DATABASE_URL": write})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "w.sqlite3").is_file() and not (tmp_path / "read.sqlite3").exists()
