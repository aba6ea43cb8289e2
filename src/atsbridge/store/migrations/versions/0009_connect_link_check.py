"""The credential check in progress on a connect link (``check_owner``, ``check_until``): one attempt at a time per
link, so parallel form posts cannot ask RECRU past the lock of ``store.connect_links``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("connect_links") as batch:
        batch.add_column(sa.Column("check_owner", sa.String(32), nullable=True))
        batch.add_column(sa.Column("check_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("connect_links") as batch:
        batch.drop_column("check_until")
        batch.drop_column("check_owner")
