"""The application a sync found for a pending create (``pending_applications.application_remote_id``: it stays
pending for a retry to adopt), and one environment per name (``ensure_environment`` racing on PostgreSQL made two).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("pending_applications", sa.Column("application_remote_id", sa.String(64), nullable=True))
    op.create_index("uq_environments_name", "environments", ["name"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_environments_name", table_name="environments")
    op.execute("ALTER TABLE pending_applications DROP COLUMN application_remote_id")
