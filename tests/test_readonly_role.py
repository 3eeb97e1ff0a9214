"""Serving needs only SELECT: the wall, the pages and the snapshot refresh run on a reader.

On PostgreSQL the reader is a role made exactly as docs/postgresql.md says. On SQLite, which
has no roles, the serving engine opens the same file with ``PRAGMA query_only`` (every write on
it fails), so the SQLite suite checks the same routing. Writes — a login and its audit entry,
a leader's 督办 from the wall's card and from the case page, ``import-sections`` and
``import-checkins`` — go through ``GRIDWATCH_WRITE_DATABASE_URL``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app import Context, create_app, create_context
from cli import cli
from queries.engine import init_db, make_engine, make_session_factory
from queries.migrate import require_current
from queries.models import AuditEntry, Case, RoadSection, SectionCheckin, SupervisionFlag
from settings import Settings
from snapshot.build import make_builder
from snapshot.store import DISTRICT
from tests.handbuilt import NOW, build_handbuilt
from tests.handbuilt_sections import build_sections
from tests.identities import LEADER, logged_in_client
from tests.test_desk_export import fire
from tests.test_sections_data import GOOD, _write


@dataclass(frozen=True)
class Split:
    """One database seen two ways: the owner's URL (writes) and the reader's (serving)."""

    owner: str
    reader: str

    @property
    def sqlite(self) -> bool:
        return make_url(self.owner).get_backend_name() == "sqlite"


def _query_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only = ON")
    cursor.close()


@pytest.fixture
def split(empty_database_url: str) -> Iterator[Split]:
    """The hand-built city, with a reader URL: a SELECT-only role on PostgreSQL, the same
    file under another spelling on SQLite (``serving`` makes that engine query-only)."""
    owner = make_engine(empty_database_url)
    init_db(owner)
    with make_session_factory(owner)() as session:
        build_handbuilt(session)
        build_sections(session)
        session.commit()
    url = make_url(empty_database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        # Another string for the same file, so the app opens a second engine for it.
        yield Split(empty_database_url, f"sqlite:///{path.parent}/./{path.name}")
        owner.dispose()
        return
    role = f"gridwatch_reader_{os.getpid()}"
    with owner.begin() as conn:  # docs/postgresql.md, word for word
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(text(f"GRANT CONNECT ON DATABASE {url.database} TO {role}"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"))
    yield Split(empty_database_url, url.set(username=role).render_as_string(hide_password=False))
    with owner.begin() as conn:
        conn.execute(text(f"DROP OWNED BY {role}"))
        conn.execute(text(f"DROP ROLE {role}"))
    owner.dispose()


def serving(split: Split, tmp_path: Path, **overrides: Any) -> Context:
    """The app's context reading through the reader and writing through the owner."""
    settings = Settings(
        data_dir=tmp_path,
        database_url=split.reader,
        write_database_url=split.owner,
        secret_key="k" * 64,
        **overrides,
    )
    ctx = create_context(settings)
    assert ctx.engine is not ctx.write_engine
    if split.sqlite:
        event.listen(ctx.engine, "connect", _query_only)
        ctx.engine.dispose()  # no connection opened before the listener stays in the pool
    return ctx


def as_owner(split: Split, statement: Any) -> Any:
    """One value as the owner reads it (what was written, whichever engine wrote it)."""
    owner = make_engine(split.owner)
    with make_session_factory(owner)() as session:
        found = session.scalar(statement)
    owner.dispose()
    return found


def owner_count(split: Split, *where: Any) -> int:
    """Count the owner's rows of the table ``where`` names through its columns."""
    return int(as_owner(split, select(func.count()).where(*where)))


def test_the_reader_reads_and_cannot_write(split: Split, tmp_path: Path) -> None:
    ctx = serving(split, tmp_path)
    with ctx.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM cases")).scalar_one() > 0
        with pytest.raises(DBAPIError, match="permission denied|readonly"):
            conn.execute(text("DELETE FROM audit_log"))
    ctx.engine.dispose()
    ctx.write_engine.dispose()


def test_the_wall_refreshes_on_the_reader(split: Split, tmp_path: Path) -> None:
    ctx = serving(split, tmp_path, as_of=NOW)
    require_current(ctx.engine)  # serve's schema check needs no write either
    ctx.store.refresh()
    on_reader = ctx.store.get()
    assert on_reader is not None, "the refresh failed on the reader"
    owner = make_engine(split.owner)
    on_owner = make_builder(make_session_factory(owner), ctx.settings)(DISTRICT, NOW)
    assert on_reader.version == on_owner.version  # the same figures as the owner reads
    owner.dispose()
    ctx.engine.dispose()
    ctx.write_engine.dispose()


def test_logins_and_their_audit_go_through_the_write_setting(split: Split, tmp_path: Path) -> None:
    app = create_app(context=serving(split, tmp_path))
    client = logged_in_client(app, LEADER)  # the failed-login counter and audit are writes
    assert client.get("/audit").status_code == 200  # read back on the reader
    assert owner_count(split, AuditEntry.action == "login") == 1


def test_supervision_from_the_wall_and_the_case_page_goes_through_the_write_setting(
    split: Split, tmp_path: Path
) -> None:
    app = create_app(context=serving(split, tmp_path, as_of=NOW))
    leader = logged_in_client(app, LEADER)
    case_id = as_owner(split, select(func.min(Case.id)))
    wall = {"area": "", "lang": "zh", "theme": "dark"}
    card = {
        "card-flag-button.n_clicks": 1,
        "card-flag-note.value": "今天办结",
        "card-flag-case.data": case_id,
        "screen-wall.data": wall,
    }
    assert "已督办" in fire(leader, app, "card-flag-message.children", card)
    page = {
        "case-flag-button.n_clicks": 1,
        "case-flag-note.value": "请核实",
        "case-id.data": {"id": case_id, "lang": "zh"},
    }
    assert "请核实" in fire(leader, app, "case-flags.children", page)
    assert owner_count(split, SupervisionFlag.case_id == case_id) == 2
    assert owner_count(split, AuditEntry.action == "supervise") == 2
    body = fire(leader, app, "case-body.children", {"case-id.data": {"id": case_id, "lang": "zh"}})
    assert "今天办结" in body and "请核实" in body  # the history, read back on the reader


CHECKINS = "路段编号,路长,日期,到岗分钟\nLZ-B,乙路长,2026-11-06,60\n"


@pytest.mark.parametrize("command", ["import-sections", "import-checkins"])
def test_the_imports_write_through_the_write_setting(
    split: Split, tmp_path: Path, command: str
) -> None:
    # On SQLite the commands open their own engines: a reader naming another file shows that
    # nothing was written (or created) through it.
    reader = f"sqlite:///{tmp_path / 'reader.sqlite3'}" if split.sqlite else split.reader
    if command == "import-sections":
        file, written = (
            _write(tmp_path / "sections.geojson", GOOD),
            RoadSection.code.in_(["S1", "S2"]),
        )
    else:
        file, written = tmp_path / "checkins.csv", SectionCheckin.day == date(2026, 11, 6)
        file.write_text(CHECKINS, encoding="utf-8")
    before = owner_count(split, written)
    result = CliRunner().invoke(
        cli,
        [command, str(file)],
        env={"GRIDWATCH_DATABASE_URL": reader, "GRIDWATCH_WRITE_DATABASE_URL": split.owner},
    )
    assert result.exit_code == 0, result.output
    assert owner_count(split, written) > before
    assert not (tmp_path / "reader.sqlite3").exists()


def test_the_write_setting_defaults_to_the_database_and_write_commands_use_it(
    tmp_path: Path,
) -> None:
    read, write = f"sqlite:///{tmp_path / 'read.sqlite3'}", f"sqlite:///{tmp_path / 'w.sqlite3'}"
    same = Settings.from_env({"GRIDWATCH_DATABASE_URL": read})
    assert same.write_database_url == read
    both = Settings.from_env(
        {"GRIDWATCH_DATABASE_URL": read, "GRIDWATCH_WRITE_DATABASE_URL": write}
    )
    assert (both.database_url, both.write_database_url) == (read, write)
    assert both.writing().database_url == write
    result = CliRunner().invoke(
        cli,
        ["init-db"],
        env={"GRIDWATCH_DATABASE_URL": read, "GRIDWATCH_WRITE_DATABASE_URL": write},
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "w.sqlite3").is_file() and not (tmp_path / "read.sqlite3").exists()
