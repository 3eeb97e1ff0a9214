"""The shared snapshot: one scheduler writes each area's snapshot, every worker reads it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

snapshot/shared.py. Skipped when the table is there already (a database made by ``create_all``
with it).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "snapshots" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "snapshots",
        sa.Column("area_code", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=True),
        sa.Column("built_at", sa.DateTime(), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(), nullable=True),
        sa.Column("attempted_at", sa.DateTime(), nullable=True),
        sa.Column("requested_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("unknown", sa.Boolean(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("area_code"),
    )


def downgrade() -> None:
    op.drop_table("snapshots")
