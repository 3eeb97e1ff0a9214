"""路长 sections, 督办 flags and case photos: the tables and columns main gained after 0001.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

``road_sections`` and ``section_checkins`` (issue 12, ``queries/sections.py``),
``supervision_flags`` (``queries/supervision.py``), ``cases.section_id`` (the section holding
a case's point) and ``cases.photo_urls`` (the desk's photos), with their indexes.

Every step is skipped when its table, column or index is there already: a database made
before migrations by a version that had these (``create_all``) is stamped 0001 and upgraded
through here. ``cases.section_id`` is added with one ``ALTER TABLE … ADD COLUMN … REFERENCES``,
valid on both backends: SQLite cannot add a foreign key otherwise except by copying the whole
case table (batch mode), which on a city's million cases is slow and, with foreign keys on,
fails on dropping the old table that the events still reference.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _names() -> tuple[set[str], set[str]]:
    """(tables, views) of the database as it is now."""
    inspector = sa.inspect(op.get_bind())
    return set(inspector.get_table_names()), set(inspector.get_view_names())


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    tables, views = _names()
    present = tables | views  # a view standing for a table (docs/import.md) is left alone
    if "road_sections" not in present:
        op.create_table(
            "road_sections",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("code", sa.String(length=64), nullable=False),
            sa.Column("name", sa.String(length=128), nullable=False),
            sa.Column("road", sa.String(length=64), nullable=False),
            sa.Column("leader", sa.String(length=32), nullable=False),
            sa.Column("leader_unit", sa.String(length=64), nullable=False),
            sa.Column("leader_phone", sa.String(length=20), nullable=True),
            sa.Column("responsible_unit", sa.String(length=64), nullable=False),
            sa.Column("geometry", sa.Text(), nullable=False),
            sa.Column("center_lat", sa.Float(), nullable=False),
            sa.Column("center_lon", sa.Float(), nullable=False),
            sa.Column("length_m", sa.Float(), nullable=True),
            sa.Column("source", sa.String(length=64), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("code"),
        )
    if "section_checkins" not in present:
        op.create_table(
            "section_checkins",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("section_id", sa.Integer(), nullable=False),
            sa.Column("person", sa.String(length=32), nullable=False),
            sa.Column("day", sa.Date(), nullable=False),
            sa.Column("minutes", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(["section_id"], ["road_sections.id"]),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint(
                "section_id", "day", "person", name="uq_checkin_section_day_person"
            ),
        )
    if "section_checkins" not in views:
        op.create_index("ix_checkins_day", "section_checkins", ["day"], if_not_exists=True)
    if "supervision_flags" not in present:
        op.create_table(
            "supervision_flags",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("case_id", sa.Integer(), nullable=False),
            sa.Column("flagged_by", sa.String(length=64), nullable=False),
            sa.Column("note", sa.Text(), nullable=False),
            sa.Column("at", sa.DateTime(), nullable=False),
            sa.Column("cleared_at", sa.DateTime(), nullable=True),
            sa.Column("cleared_by", sa.String(length=64), nullable=True),
            sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
            sa.PrimaryKeyConstraint("id"),
        )
    if "supervision_flags" not in views:
        op.create_index(
            "ix_supervision_flags_case_id", "supervision_flags", ["case_id"], if_not_exists=True
        )
    if "cases" in tables:
        columns = _columns("cases")
        if "photo_urls" not in columns:
            op.add_column("cases", sa.Column("photo_urls", sa.Text(), nullable=True))
        if "section_id" not in columns:
            op.execute(
                "ALTER TABLE cases ADD COLUMN section_id INTEGER REFERENCES road_sections(id)"
            )
        op.create_index("ix_cases_section_id", "cases", ["section_id"], if_not_exists=True)


def downgrade() -> None:
    tables, _views = _names()
    if "cases" in tables:
        op.drop_index("ix_cases_section_id", "cases", if_exists=True)
        # SQLite drops a column that holds a foreign key only by copying the table.
        with op.batch_alter_table("cases") as batch:
            batch.drop_column("section_id")
            batch.drop_column("photo_urls")
    for table in ("supervision_flags", "section_checkins", "road_sections"):
        if table in tables:
            op.drop_table(table)
