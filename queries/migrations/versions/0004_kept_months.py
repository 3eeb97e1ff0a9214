"""Kept months: finished months of the assessment, computed once (queries/kept_months.py).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Skipped when the table is there already (a database made by ``create_all`` with it).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "kept_months" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "kept_months",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("rules_sha256", sa.String(length=64), nullable=False),
        sa.Column("inputs", sa.String(length=64), nullable=False),
        sa.Column("valid_after", sa.DateTime(), nullable=True),
        sa.Column("valid_until", sa.DateTime(), nullable=True),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("month", "rules_sha256", name="uq_kept_month_rules"),
    )


def downgrade() -> None:
    op.drop_table("kept_months")
