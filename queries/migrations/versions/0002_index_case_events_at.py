"""Index case_events.at: the events since a moment are the cases that changed since then.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

Issue 13: nothing could find "what changed" because ``case_events.at`` had no index. A table a
view stands for (an existing city database, docs/import.md) takes no index and is left alone.
``if_not_exists``: a database made before migrations whose case_events table was created by
this version's models already has the index when it is stamped 0001 and upgraded.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _is_table(name: str) -> bool:
    return name in sa.inspect(op.get_bind()).get_table_names()


def upgrade() -> None:
    if _is_table("case_events"):
        op.create_index("ix_case_events_at", "case_events", ["at"], if_not_exists=True)


def downgrade() -> None:
    if _is_table("case_events"):
        op.drop_index("ix_case_events_at", "case_events", if_exists=True)
