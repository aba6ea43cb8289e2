"""A create is remembered before it is sent (``pending_applications.sending_until``: the end of the action that
sends it), so an application RECRU stores after the action was cut off (its deadline, or its process killed) is
still adopted by a retry and tracked by syncs once that action is over.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("pending_applications", sa.Column("sending_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE pending_applications DROP COLUMN sending_until")
