"""Change tracking: cases.updated_at, the database's clock at each write, indexed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

The kept months re-read only the days of cases written since they last looked
(queries/kept_months.py). SQLite cannot add a column whose default is not a constant, so there
the table is rebuilt (a copy: seconds per 100,000 cases); existing rows take the migration's
time. A view standing for ``cases`` (docs/import.md) is left alone: it must offer the column
itself (``NULL AS updated_at`` turns the tracking off).
"""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _columns() -> set[str] | None:
    inspector = sa.inspect(op.get_bind())
    if "cases" not in inspector.get_table_names():
        return None
    return {c["name"] for c in inspector.get_columns("cases")}


def upgrade() -> None:
    columns = _columns()
    if columns is None or "updated_at" in columns:
        return
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:  # SQLite's DDL is not transactional: an interrupted rebuild leaves its copy
        op.execute("DROP TABLE IF EXISTS _alembic_tmp_cases")
    recreate: Literal["always", "auto"] = "always" if sqlite else "auto"
    with op.batch_alter_table("cases", recreate=recreate) as batch:
        batch.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True,
                                   server_default=sa.text("CURRENT_TIMESTAMP")))
        batch.create_index("ix_cases_updated_at", ["updated_at"])


def downgrade() -> None:
    columns = _columns()
    if columns is None or "updated_at" not in columns:
        return
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_updated_at")
        batch.drop_column("updated_at")
