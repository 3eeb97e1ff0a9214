"""Alembic's environment: the models' metadata, and the database the app itself would open.

Gridwatch's own code (``queries.migrate``) hands its connection in through
``config.attributes["connection"]``; the ``alembic`` command line (``alembic.ini`` at the repo
root, for writing a new revision with ``--autogenerate``) opens the write setting the
way ``gridwatch`` does, through ``Settings``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from queries.engine import make_engine
from queries.models import Base
from settings import Settings


def _run(connection: Connection) -> None:
    # Batch mode: SQLite alters a table by copying it; PostgreSQL gets plain ALTER TABLE.
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


given = context.config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    engine = make_engine(Settings.from_env().write_database_url)  # revisions write
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()
