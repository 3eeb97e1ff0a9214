"""Schema revisions: new databases at the head, older ones upgraded, serving refuses a behind one.

Runs on SQLite and, in the PostgreSQL pass, on PostgreSQL (``empty_database_url``). The last
test is the guard for the future: a table, column or index added to the models without a
revision makes the migrated schema differ from the models, and it fails naming the difference.
"""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner, Result
from sqlalchemy import Engine, inspect, text

from cli import cli
from queries.engine import init_db, make_engine
from queries.migrate import BASELINE, alembic_config, current_revision, head
from queries.models import Base


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return current_revision(conn)


def _indexes(engine: Engine, table: str) -> set[str]:
    return {index["name"] for index in inspect(engine).get_indexes(table)}


def _built_at(url: str, revision: str) -> Engine:
    """A database whose schema was made by running the revisions up to ``revision``."""
    engine = make_engine(url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)
    return engine


def _schema_diff(engine: Engine) -> list[object]:
    """What autogenerate would still add or change to make the database the models' schema."""
    with engine.connect() as conn:
        return list(compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata))


def _gridwatch(url: str, *args: str) -> Result:
    env = {"GRIDWATCH_DATABASE_URL": url, "GRIDWATCH_SECRET_KEY": "k" * 64}
    return CliRunner().invoke(cli, list(args), env=env)


def test_a_new_database_is_at_the_head(engine: Engine) -> None:
    assert head() == "0008"
    assert _revision(engine) == head()
    assert "ix_case_events_at" in _indexes(engine, "case_events")
    assert "ix_cases_section_id" in _indexes(engine, "cases")


def test_migrate_upgrades_a_database_built_at_the_baseline(empty_database_url: str) -> None:
    engine = _built_at(empty_database_url, BASELINE)
    assert _revision(engine) == "0001"
    assert "ix_case_events_at" not in _indexes(engine, "case_events")
    result = _gridwatch(empty_database_url, "migrate")
    assert result.exit_code == 0, result.output
    assert "upgraded from 0001 to revision 0008" in result.output
    assert _revision(engine) == "0008"
    assert "ix_case_events_at" in _indexes(engine, "case_events")
    assert _schema_diff(engine) == []
    again = _gridwatch(empty_database_url, "migrate")
    assert again.exit_code == 0 and "already at revision 0008" in again.output
    engine.dispose()


def test_a_database_from_before_migrations_is_recognised_and_upgraded(
        empty_database_url: str) -> None:
    """Tables present, no alembic_version, and a column an older release lacked: init_db adds
    the column (the pre-migration upgrade), stamps the baseline, then runs 0002 and 0003."""
    engine = _built_at(empty_database_url, BASELINE)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(text("ALTER TABLE points_of_interest DROP COLUMN description"))
    refused = _gridwatch(empty_database_url, "serve")
    assert refused.exit_code == 1
    assert refused.output.strip() == ("Error: the database schema predates migrations: "
                                      "run `gridwatch migrate`")
    init_db(engine)
    assert _revision(engine) == head()
    assert "ix_case_events_at" in _indexes(engine, "case_events")
    assert "description" in {c["name"] for c in inspect(engine).get_columns("points_of_interest")}
    assert _schema_diff(engine) == []
    engine.dispose()


def test_serve_refuses_a_database_whose_schema_is_behind(empty_database_url: str) -> None:
    engine = _built_at(empty_database_url, BASELINE)
    result = _gridwatch(empty_database_url, "serve")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == ["Error: the database schema is at revision 0001, this Gridwatch needs "
                     "0008: run `gridwatch migrate`"]
    assert _revision(engine) == "0001"  # serving changed nothing
    engine.dispose()


def test_serve_refuses_a_schema_newer_than_it_knows(engine: Engine, database_url: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    result = _gridwatch(database_url, "serve")
    assert result.exit_code == 1
    assert "revision 9999, newer than this Gridwatch" in result.output
    assert "upgrade Gridwatch" in result.output


def test_a_database_main_made_before_migrations_keeps_its_rows_and_reaches_the_head(
        empty_database_url: str) -> None:
    """The schema ``create_all`` made before migrations already has 0003's tables and columns
    (sections, 督办, photos): init_db stamps the baseline and 0002/0003 skip what is there."""
    engine = make_engine(empty_database_url)
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_case_events_at"))
        conn.execute(text("INSERT INTO road_sections (code, name, road, leader, leader_unit, "
                          "responsible_unit, geometry, center_lat, center_lon, source) VALUES "
                          "('S1', '雁塔路', '', '张三', '', '', '{}', 34.2, 108.9, '')"))
    init_db(engine)
    assert _revision(engine) == head()
    assert _schema_diff(engine) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT code FROM road_sections")).scalars().all() == ["S1"]
    engine.dispose()


def test_revision_0003_goes_down_and_up_again(empty_database_url: str) -> None:
    engine = _built_at(empty_database_url, "head")
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0002")
    assert not {"road_sections", "section_checkins",
                "supervision_flags"} & set(inspect(engine).get_table_names())
    assert not {"photo_urls", "section_id"} & {c["name"]
                                               for c in inspect(engine).get_columns("cases")}
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    assert _schema_diff(engine) == []
    engine.dispose()


def test_the_migrations_make_exactly_the_models_schema(empty_database_url: str) -> None:
    """Autogenerate's comparison of a database migrated 0001 → head with the models finds
    nothing: a table, column or index added to the models without a revision fails here."""
    engine = _built_at(empty_database_url, "head")
    diff = _schema_diff(engine)
    engine.dispose()
    assert diff == []


@pytest.mark.parametrize(("down_to", "table"), [("0003", "kept_months"), ("0004", "snapshots")])
def test_a_table_revision_goes_down_and_up_again(empty_database_url: str, down_to: str,
                                                 table: str) -> None:
    engine = _built_at(empty_database_url, "head")
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), down_to)
    assert table not in inspect(engine).get_table_names()
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    assert table in inspect(engine).get_table_names()
    assert _schema_diff(engine) == []
    engine.dispose()


def test_revision_0006_goes_down_and_up_again(
        empty_database_url: str) -> None:
    """Down to 0005 and up again: the column and its index come back (on SQLite by rebuilding
    the table), and the schema is the models' again."""
    engine = _built_at(empty_database_url, "head")
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0005")
    assert "updated_at" not in {c["name"] for c in inspect(engine).get_columns("cases")}
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    assert "ix_cases_updated_at" in _indexes(engine, "cases")
    assert "ix_cases_cancelled_at" in _indexes(engine, "cases")
    assert _schema_diff(engine) == []
    engine.dispose()
