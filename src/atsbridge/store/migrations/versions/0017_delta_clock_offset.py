"""The DELTA watermark's run also keeps how far RECRU's clock was from ours as it began
(``integrations.delta_clock_offset``): a later run whose RECRU clock has fallen behind ours by more than the overlap
since (RECRU's clock was ahead then, or was set back) lists everything.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("integrations", sa.Column("delta_clock_offset", sa.Float(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE integrations DROP COLUMN delta_clock_offset")
