"""Schema revisions: which Alembic revision a database is at, and bringing it to the head.

The revisions live in ``queries/migrations`` (they ship with the package). Every command that
may change the schema goes through ``queries.engine.init_db``, which uses these: a new
database is created from the models and stamped at the head; one made before migrations
(Gridwatch's tables, no ``alembic_version``) is brought to revision 0001 and stamped there,
then upgraded; a versioned one is upgraded. Serving changes no schema: ``require_current``
refuses a database that is behind and names the command that fixes it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, inspect

from queries.models import Base

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The revision whose schema is main's when migrations began: what a pre-Alembic database is
# brought to before it is stamped.
BASELINE = "0001"
FIX = "run `gridwatch migrate`"


class SchemaBehind(RuntimeError):
    """The database's schema is not the one this Gridwatch reads; the message says what to run."""


def alembic_config(connection: Connection | None = None) -> Config:
    """Return Alembic's configuration (no ini file); ``connection`` is the one env.py uses."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def scripts() -> ScriptDirectory:
    """The revision scripts, read once a process (every test database is stamped with them)."""
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """Return the newest revision this Gridwatch knows."""
    newest = scripts().get_current_head()
    if newest is None:
        raise RuntimeError(f"no migration revisions in {MIGRATIONS}")
    return newest


def current_revision(connection: Connection) -> str | None:
    """Return the revision stamped in the database, None when it has no ``alembic_version``."""
    return MigrationContext.configure(connection).get_current_revision()


def has_gridwatch_tables(connection: Connection) -> bool:
    """Whether any of Gridwatch's tables exists (a view standing for one counts)."""
    inspector = inspect(connection)
    names = set(inspector.get_table_names()) | set(inspector.get_view_names())
    return not names.isdisjoint(Base.metadata.tables)


def stamp(connection: Connection, revision: str) -> None:
    """Record ``revision`` as the database's schema without running any migration."""
    MigrationContext.configure(connection).stamp(scripts(), revision)


def upgrade(connection: Connection) -> None:
    """Run every revision after the stamped one, up to the head, on ``connection``."""
    command.upgrade(alembic_config(connection), "head")


def require_current(engine: Engine) -> None:
    """Raise ``SchemaBehind`` unless the database is at the head revision (reads only)."""
    with engine.connect() as connection:
        revision = current_revision(connection)
        tables = revision is not None or has_gridwatch_tables(connection)
    newest = head()
    if revision == newest:
        return
    if revision is None:
        state = "predates migrations" if tables else "has no Gridwatch tables"
        raise SchemaBehind(f"the database schema {state}: {FIX}")
    try:
        scripts().get_revision(revision)
    except CommandError as exc:
        raise SchemaBehind(f"the database schema is at revision {revision}, newer than this "
                           f"Gridwatch (which knows up to {newest}): upgrade Gridwatch") from exc
    raise SchemaBehind(f"the database schema is at revision {revision}, this Gridwatch needs "
                       f"{newest}: {FIX}")
