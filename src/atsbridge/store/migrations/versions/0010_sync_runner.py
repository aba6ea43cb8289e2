"""The process that runs a sync (``runner``, see ``store.run_owner``), so a run whose process died on this machine is
known dead at once instead of after its heartbeat goes stale.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("syncs") as batch:
        batch.add_column(sa.Column("runner", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("syncs") as batch:
        batch.drop_column("runner")
