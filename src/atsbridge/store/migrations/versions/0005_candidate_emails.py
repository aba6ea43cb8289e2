"""The candidates' e-mail addresses, lower-cased, in a table of their own for the API's `email` filter, kept by
triggers on ``ats_candidates`` (``store.email_index_sql``) and filled from the candidates already stored. Here
SQLite lower-cases them with its ``lower()``, which knows only ASCII letters (0015 changes that).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from atsbridge.store.email_index_sql import (
    TRIGGERS,
    adding,
    postgresql_addresses,
    postgresql_triggers,
    sqlite_addresses,
    sqlite_triggers,
)

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "candidate_emails",
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("candidate_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("email", "candidate_id", name="pk_candidate_emails"),
        sqlite_with_rowid=False,
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    source = "ats_candidates AS c,"
    op.execute(adding(sqlite_addresses("c", "lower", source) if sqlite else postgresql_addresses("c", source)))
    for statement in sqlite_triggers("lower") if sqlite else postgresql_triggers():
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger}" if sqlite else f"DROP TRIGGER {trigger} ON ats_candidates")
    if not sqlite:
        op.execute("DROP FUNCTION candidate_emails_refresh()")
    op.drop_table("candidate_emails")
