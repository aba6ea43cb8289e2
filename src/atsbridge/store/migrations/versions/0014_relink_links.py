"""Reconnection links (``connect_links.relinks``): a link made by ``POST /v1/integrations/{id}/relink`` replaces
that integration's credentials instead of connecting a new one. No foreign key: once the integration is deleted,
the link must still say it was one to reconnect it (and refuse), not become a link that connects a new one.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("connect_links") as batch:
        batch.add_column(sa.Column("relinks", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("connect_links") as batch:
        batch.drop_column("relinks")
