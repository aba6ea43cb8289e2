"""Each tracked application keeps the jobseeker it was created for (``tracked_applications.candidate_remote_id``):
in "sync only created applications" mode that candidate stays served when RECRU gives the application to another
jobseeker (it vanished, with no tombstone and no ``updated_after`` news). Rows tracked before are given the candidate
their stored application names.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tracked_applications", sa.Column("candidate_remote_id", sa.String(64), nullable=True))
    op.execute(
        "UPDATE tracked_applications SET candidate_remote_id = ("
        " SELECT c.remote_id FROM ats_applications a JOIN ats_candidates c ON c.id = a.candidate_id"
        " WHERE a.integration_id = tracked_applications.integration_id"
        " AND a.remote_id = tracked_applications.remote_id)"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE tracked_applications DROP COLUMN candidate_remote_id")
