"""The actions in flight per integration are counted in the store (``action_slots``), so the limit of 30 holds
across every API process sharing it, not per process.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "action_slots",
        sa.Column("integration_id", sa.String(64), nullable=False),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"], ["integrations.id"], name="fk_action_slots_integration_id", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("integration_id", "id", name="pk_action_slots"),
    )


def downgrade() -> None:
    op.drop_table("action_slots")
