"""Indexes for the read API: a job's pipeline entry by (job, stage), which the reader joins to every application
for its current stage's index.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_ats_join_jobs_application_stages_job_id_stage_id",
        "ats_join_jobs_application_stages",
        ["job_id", "stage_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_ats_join_jobs_application_stages_job_id_stage_id", "ats_join_jobs_application_stages")
