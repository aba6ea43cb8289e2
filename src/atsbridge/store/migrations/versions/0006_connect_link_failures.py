"""Failed attempts on a connect link: how many (the page refuses further attempts at ``MAX_FAILED_ATTEMPTS`` of
``store.connect_links``), when the last one was and why (a ``CredentialProblem`` code).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("connect_links") as batch:
        batch.add_column(sa.Column("failed_attempts", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch.add_column(sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_failure", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("connect_links") as batch:
        batch.drop_column("last_failure")
        batch.drop_column("last_failed_at")
        batch.drop_column("failed_attempts")
