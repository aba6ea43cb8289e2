"""On SQLite the candidates' addresses in ``candidate_emails`` are lower-cased by ``atsbridge_lower`` (Python's
``str.lower``, which every connection of ours registers: ``store.text_match``) instead of SQLite's ``lower()``,
which knows only ASCII letters: the `email` filter now ignores the case of every letter (``Ünï@exämple.de`` is
found as ``ünï@exämple.de``), as on PostgreSQL. The triggers are made anew and the table filled again.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from atsbridge.store.email_index_sql import TRIGGERS, adding, sqlite_addresses, sqlite_triggers
from atsbridge.store.text_match import SQLITE_LOWER

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _lower_with(lower: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger}")
    op.execute("DELETE FROM candidate_emails")
    op.execute(adding(sqlite_addresses("c", lower, "ats_candidates AS c,")))
    for statement in sqlite_triggers(lower):
        op.execute(statement)


def upgrade() -> None:
    _lower_with(SQLITE_LOWER)


def downgrade() -> None:
    _lower_with("lower")
