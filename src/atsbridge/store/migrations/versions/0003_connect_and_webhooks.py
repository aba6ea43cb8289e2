"""The connection flow and webhooks: connect links, each environment's webhook endpoint and secret, delivery
attempts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("environments") as batch:
        batch.add_column(sa.Column("webhook_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("webhook_secret_encrypted", sa.LargeBinary(), nullable=True))
    op.create_table(
        "connect_links",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("environment_id", sa.String(64), nullable=False),
        sa.Column("end_user_email", sa.Text(), nullable=False),
        sa.Column("end_user_organization_name", sa.Text(), nullable=False),
        sa.Column("end_user_origin_id", sa.Text(), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("link_type", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("integration_id", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(
            ["environment_id"], ["environments.id"], name="fk_connect_links_environment_id", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"], ["integrations.id"], name="fk_connect_links_integration_id", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_connect_links"),
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["webhook_outbox.id"], name="fk_webhook_attempts_event_id", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_attempts"),
    )
    op.create_index("ix_webhook_attempts_event_id", "webhook_attempts", ["event_id"])


def downgrade() -> None:
    op.drop_index("ix_webhook_attempts_event_id", table_name="webhook_attempts")
    op.drop_table("webhook_attempts")
    op.drop_table("connect_links")
    with op.batch_alter_table("environments") as batch:
        batch.drop_column("webhook_secret_encrypted")
        batch.drop_column("webhook_url")
