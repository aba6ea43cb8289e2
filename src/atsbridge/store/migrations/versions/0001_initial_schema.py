"""Initial schema: tenancy, integrations, syncs, webhook outbox, the unified models and their joins.

A frozen copy of ``atsbridge.store.tables`` at this revision (plain SQLAlchemy types: ``UtcDateTime`` is
``DateTime(timezone=True)`` in DDL). The tests compare the migrated database with the metadata on both backends.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MODEL_TABLES = (
    "ats_users",
    "ats_jobs",
    "ats_application_stages",
    "ats_tags",
    "ats_candidates",
    "ats_applications",
)
JOIN_TABLES = ("ats_join_candidates_tags", "ats_join_jobs_application_stages", "ats_join_jobs_users")


def _id(name: str = "id", nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.String(64), nullable=nullable)


def _ts(name: str, nullable: bool = True) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _json(name: str, nullable: bool = True) -> sa.Column[Any]:
    kind = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
    return sa.Column(name, kind, nullable=nullable)


def _text(name: str, nullable: bool = True) -> sa.Column[Any]:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _str(name: str, length: int, nullable: bool = True) -> sa.Column[Any]:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _owned_by_integration(table: str) -> list[Any]:
    return [
        _id("integration_id"),
        sa.ForeignKeyConstraint(
            ["integration_id"], ["integrations.id"], name=f"fk_{table}_integration_id", ondelete="CASCADE"
        ),
    ]


def _model_table(table: str, *fields: sa.Column[Any]) -> None:
    op.create_table(
        table,
        _id(),
        *_owned_by_integration(table),
        _str("remote_id", 64, nullable=False),
        *fields,
        _json("remote_data"),
        _str("content_hash", 32, nullable=False),
        _ts("changed_at", nullable=False),
        _ts("updated_at", nullable=False),
        _ts("remote_deleted_at"),
        _ts("anonymised_at"),
        _id("last_seen_sync_id", nullable=True),
        _ts("created_in_store_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
        sa.UniqueConstraint("integration_id", "remote_id", name=f"uq_{table}_integration_id_remote_id"),
    )
    op.create_index(f"ix_{table}_integration_id_id", table, ["integration_id", "id"])
    op.create_index(f"ix_{table}_integration_id_updated_at", table, ["integration_id", "updated_at"])


def _join_table(table: str, parent: str, child: str, *fields: sa.Column[Any]) -> None:
    op.create_table(
        table,
        _id(),
        *_owned_by_integration(table),
        _id(parent),
        _id(child),
        *fields,
        _str("content_hash", 32, nullable=False),
        _ts("changed_at", nullable=False),
        _ts("updated_at", nullable=False),
        _ts("remote_deleted_at"),
        _ts("created_in_store_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
    )
    op.create_index(f"ix_{table}_{parent}", table, [parent])
    op.create_index(f"ix_{table}_{child}", table, [child])


def upgrade() -> None:
    op.create_table(
        "environments",
        _id(),
        _text("name", nullable=False),
        _ts("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_environments"),
    )
    op.create_table(
        "api_keys",
        _id(),
        _id("environment_id"),
        _str("key_hash", 128, nullable=False),
        _str("prefix", 32, nullable=False),
        _ts("created_at", nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"], ["environments.id"], name="fk_api_keys_environment_id", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_index("ix_api_keys_environment_id", "api_keys", ["environment_id"])
    op.create_table(
        "integrations",
        _id(),
        _id("environment_id"),
        _str("tool", 32, nullable=False),
        _text("tenant_url", nullable=False),
        sa.Column("credentials_encrypted", sa.LargeBinary(), nullable=False),
        _str("status", 16, nullable=False),
        _str("setup_status", 32, nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("sync_only_created_applications", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        _text("source_label"),
        sa.Column("remote_data_enabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        _text("end_user_email", nullable=False),
        _text("end_user_organization_name", nullable=False),
        _text("end_user_origin_id"),
        _ts("delta_watermark"),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"], ["environments.id"], name="fk_integrations_environment_id", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_integrations"),
    )
    op.create_index("ix_integrations_environment_id", "integrations", ["environment_id"])
    op.create_table(
        "syncs",
        _id(),
        *_owned_by_integration("syncs"),
        _str("type", 8, nullable=False),
        _str("state", 16, nullable=False),
        _ts("queued_at", nullable=False),
        _ts("started_at"),
        _ts("ended_at"),
        _ts("server_time_at_start"),
        _json("counts"),
        _json("errors"),
        _json("timings"),
        sa.PrimaryKeyConstraint("id", name="pk_syncs"),
    )
    op.create_index("ix_syncs_integration_id_queued_at", "syncs", ["integration_id", "queued_at"])
    active = sa.text("state IN ('QUEUED', 'RUNNING')")
    op.create_index(
        "uq_syncs_one_active_per_type",
        "syncs",
        ["integration_id", "type"],
        unique=True,
        sqlite_where=active,
        postgresql_where=active,
    )
    op.create_table(
        "tracked_applications",
        *_owned_by_integration("tracked_applications"),
        _str("remote_id", 64, nullable=False),
        _ts("created_at", nullable=False),
        sa.PrimaryKeyConstraint("integration_id", "remote_id", name="pk_tracked_applications"),
    )
    op.create_table(
        "webhook_outbox",
        _id(),
        _id("environment_id"),
        _id("integration_id", nullable=True),
        _str("type", 64, nullable=False),
        _json("payload", nullable=False),
        _ts("created_at", nullable=False),
        _ts("delivered_at"),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _ts("next_attempt_at"),
        _text("last_error"),
        sa.ForeignKeyConstraint(
            ["environment_id"], ["environments.id"], name="fk_webhook_outbox_environment_id", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_outbox"),
    )
    op.create_index("ix_webhook_outbox_environment_id_created_at", "webhook_outbox", ["environment_id", "created_at"])
    pending = sa.text("delivered_at IS NULL")
    op.create_index(
        "ix_webhook_outbox_pending",
        "webhook_outbox",
        ["next_attempt_at"],
        sqlite_where=pending,
        postgresql_where=pending,
    )

    _model_table(
        "ats_users",
        _text("first_name"),
        _text("last_name"),
        _text("email"),
        _str("status", 16),
        _json("system_roles", nullable=False),
    )
    _model_table(
        "ats_jobs",
        _text("name"),
        _text("job_code"),
        _text("description"),
        _str("employment_type", 64),
        _str("status", 64),
        _str("visibility", 64),
        _text("department"),
        _text("experience_level"),
        sa.Column("salary_amount", sa.Float(), nullable=True),
        _str("salary_currency", 8),
        _str("salary_period", 64),
        sa.Column("weekly_hours", sa.Float(), nullable=True),
        _str("remote_work_status", 64),
        _json("location"),
        _json("custom_fields"),
        _ts("opened_at"),
        _ts("closed_at"),
        _ts("remote_created_at"),
        _ts("remote_updated_at"),
    )
    _model_table(
        "ats_application_stages",
        _text("name"),
        _str("status", 16),
        _json("custom_fields"),
    )
    _model_table("ats_tags", _text("name"))
    _model_table(
        "ats_candidates",
        _text("first_name"),
        _text("last_name"),
        _text("company"),
        _text("title"),
        _text("source"),
        _json("email_addresses", nullable=False),
        _json("phone_numbers", nullable=False),
        _json("location"),
        _json("custom_fields"),
        _ts("remote_created_at"),
        _ts("remote_updated_at"),
    )
    _model_table(
        "ats_applications",
        _id("job_id", nullable=True),
        _id("candidate_id", nullable=True),
        _id("current_stage_id", nullable=True),
        _str("outcome", 16),
        _text("rejection_reason_name"),
        _ts("rejected_at"),
        _json("custom_fields"),
        _ts("remote_created_at"),
        _ts("remote_updated_at"),
    )
    for column in ("candidate_id", "job_id", "current_stage_id"):
        op.create_index(f"ix_ats_applications_{column}", "ats_applications", [column])

    _join_table("ats_join_candidates_tags", "candidate_id", "tag_id")
    _join_table(
        "ats_join_jobs_application_stages",
        "job_id",
        "stage_id",
        sa.Column("index", sa.Integer(), nullable=False),
    )
    _join_table(
        "ats_join_jobs_users",
        "job_id",
        "user_id",
        _json("hiring_team_roles", nullable=False),
        _json("job_roles", nullable=False),
    )


def downgrade() -> None:
    for table in (*JOIN_TABLES, *reversed(MODEL_TABLES)):
        op.drop_table(table)
    for table in ("webhook_outbox", "tracked_applications", "syncs", "integrations", "api_keys", "environments"):
        op.drop_table(table)
