"""Change tracking: cases.updated_at, when each case was last written (UTC), indexed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

The kept months re-read only the days of cases written since they last looked
(queries/kept_months.py). A nullable column with no server default: adding it is instant on
both backends (no table rebuild on SQLite); existing rows keep NULL (written before the
tracking), and every writer stamps the rows it writes from now on. A view standing for
``cases`` (docs/import.md) is left alone: it must offer the column itself (``NULL AS
updated_at`` turns the tracking off).
"""

from __future__ import annotations

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
    op.add_column("cases", sa.Column("updated_at", sa.DateTime(), nullable=True))
    op.create_index("ix_cases_updated_at", "cases", ["updated_at"])


def downgrade() -> None:
    columns = _columns()
    if columns is None or "updated_at" not in columns:
        return
    op.drop_index("ix_cases_updated_at", "cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("updated_at")
