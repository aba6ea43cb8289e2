"""``tracked_candidates``: every candidate a tracked application was stored with, served for good in "sync only
created applications" mode (one that held a tracked application RECRU then gave to another jobseeker vanished, with
no tombstone and no ``updated_after`` news). Filled with the candidates the stored tracked applications name.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tracked_candidates",
        sa.Column(
            "integration_id",
            sa.String(64),
            sa.ForeignKey("integrations.id", ondelete="CASCADE"),
            nullable=False,
            primary_key=True,
        ),
        sa.Column("candidate_id", sa.String(64), nullable=False, primary_key=True),
    )
    op.execute(
        "INSERT INTO tracked_candidates (integration_id, candidate_id)"
        " SELECT DISTINCT a.integration_id, a.candidate_id FROM ats_applications a JOIN tracked_applications t"
        " ON t.integration_id = a.integration_id AND t.remote_id = a.remote_id WHERE a.candidate_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("tracked_candidates")
