"""When each stored record was asked of RECRU (``read_at``), so a write from an older read never replaces a newer
one (``store.writer``: a sync's page and an action's write-through racing). Unknown (``NULL``) for stored rows.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MODEL_TABLES = ("ats_users", "ats_jobs", "ats_application_stages", "ats_tags", "ats_candidates", "ats_applications")


# Plain ALTER TABLE on both databases (SQLite has ADD and DROP COLUMN): Alembic's batch mode would copy each table
# into a new one on SQLite, and ats_candidates would lose the triggers that keep candidate_emails (0005).


def upgrade() -> None:
    for table in MODEL_TABLES:
        op.add_column(table, sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in MODEL_TABLES:
        op.execute(f"ALTER TABLE {table} DROP COLUMN read_at")
