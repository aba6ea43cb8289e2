"""The application a sync found for a pending create (``pending_applications.application_remote_id``: it stays
pending for a retry to adopt), and one environment per name (``ensure_environment`` racing on PostgreSQL made two;
such twins are renamed ``<name> (<id>)`` first).

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
    # environments the race made twice keep their data: the later ones are renamed "<name> (<id>)"
    conn = op.get_bind()
    seen: set[str] = set()
    for environment_id, name in conn.execute(sa.text("SELECT id, name FROM environments ORDER BY created_at, id")):
        if name in seen:
            renamed = f"{name} ({environment_id})"
            conn.execute(
                sa.text("UPDATE environments SET name = :name WHERE id = :id"), {"name": renamed, "id": environment_id}
            )
        seen.add(name)
    op.create_index("uq_environments_name", "environments", ["name"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_environments_name", table_name="environments")
    op.execute("ALTER TABLE pending_applications DROP COLUMN application_remote_id")
