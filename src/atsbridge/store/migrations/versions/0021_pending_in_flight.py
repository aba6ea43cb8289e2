"""``pending_applications.in_flight``: how many identical creates of a pair are on their way without RECRU's answer.
Once each was refused (nothing made), the pair is settled: it lapsed into pending when their actions' time was over,
and a sync or a retry then took an application another integration on the tenant made for the pair for ours.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("pending_applications", sa.Column("in_flight", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.execute("ALTER TABLE pending_applications DROP COLUMN in_flight")
