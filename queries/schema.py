"""Bring a database made by an older Gridwatch up to the current tables, without a migration tool.

``create_all`` adds missing tables but never columns; the livelihood-map fields added to
``points_of_interest`` (free, paper, description, source, external_id) are added here, as
nullable columns or with their defaults, so an existing demo or city database keeps working.
"""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text

from queries.models import PointOfInterest

# Column → its DDL type and default, as ALTER TABLE ADD COLUMN takes them (SQLite, PostgreSQL).
PLACE_COLUMNS = {"free": "BOOLEAN", "paper": "BOOLEAN", "description": "TEXT DEFAULT '' NOT NULL",
                 "source": "VARCHAR(64) DEFAULT '' NOT NULL", "external_id": "VARCHAR(64)"}


def upgrade_schema(engine: Engine) -> list[str]:
    """Add the columns and index older databases lack; return what was added."""
    table = PointOfInterest.__tablename__
    inspector = inspect(engine)
    if not inspector.has_table(table):
        return []
    have = {c["name"] for c in inspector.get_columns(table)}
    added = [name for name in PLACE_COLUMNS if name not in have]
    indexes = {i["name"] for i in inspector.get_indexes(table)}
    with engine.begin() as conn:
        for name in added:
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {PLACE_COLUMNS[name]}"))
        if "ux_poi_source_external" not in indexes:
            conn.execute(text(f"CREATE UNIQUE INDEX IF NOT EXISTS ux_poi_source_external "
                              f"ON {table} (source, external_id)"))
    return added
