"""Schema revisions: new databases at the head, older ones upgraded, serving refuses a behind one.

Runs on SQLite and, in the PostgreSQL pass, on PostgreSQL (``empty_database_url``). The last
test is the guard for the future: a table, column or index added to the models without a
revision makes the migrated schema differ from the models, and it fails naming the difference.
"""

from __future__ import annotations

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


def _gridwatch(url: str, *args: str) -> Result:
    env = {"GRIDWATCH_DATABASE_URL": url, "GRIDWATCH_SECRET_KEY": "k" * 64}
    return CliRunner().invoke(cli, list(args), env=env)


def test_a_new_database_is_at_the_head(engine: Engine) -> None:
    assert head() == "0002"
    assert _revision(engine) == head()
    assert "ix_case_events_at" in _indexes(engine, "case_events")


def test_migrate_upgrades_a_database_built_at_the_baseline(empty_database_url: str) -> None:
    engine = _built_at(empty_database_url, BASELINE)
    assert _revision(engine) == "0001"
    assert "ix_case_events_at" not in _indexes(engine, "case_events")
    result = _gridwatch(empty_database_url, "migrate")
    assert result.exit_code == 0, result.output
    assert "upgraded from 0001 to revision 0002" in result.output
    assert _revision(engine) == "0002"
    assert "ix_case_events_at" in _indexes(engine, "case_events")
    again = _gridwatch(empty_database_url, "migrate")
    assert again.exit_code == 0 and "already at revision 0002" in again.output
    engine.dispose()


def test_a_database_from_before_migrations_is_recognised_and_upgraded(
        empty_database_url: str) -> None:
    """Tables present, no alembic_version, and a column an older release lacked: init_db adds
    the column (the pre-migration upgrade), stamps the baseline, then runs 0002."""
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
    engine.dispose()


def test_serve_refuses_a_database_whose_schema_is_behind(empty_database_url: str) -> None:
    engine = _built_at(empty_database_url, BASELINE)
    result = _gridwatch(empty_database_url, "serve")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == ["Error: the database schema is at revision 0001, this Gridwatch needs "
                     "0002: run `gridwatch migrate`"]
    assert _revision(engine) == "0001"  # serving changed nothing
    engine.dispose()


def test_serve_refuses_a_schema_newer_than_it_knows(engine: Engine, database_url: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    result = _gridwatch(database_url, "serve")
    assert result.exit_code == 1
    assert "revision 9999, newer than this Gridwatch" in result.output
    assert "upgrade Gridwatch" in result.output


def test_the_migrations_make_exactly_the_models_schema(empty_database_url: str) -> None:
    """Autogenerate's comparison of the migrated database with the models finds nothing."""
    engine = _built_at(empty_database_url, "head")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    engine.dispose()
    assert diff == []
