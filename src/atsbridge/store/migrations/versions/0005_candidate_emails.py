"""The candidates' e-mail addresses, lower-cased, in a table of their own for the API's `email` filter, kept by
triggers on ``ats_candidates`` and filled from the candidates already stored.

A candidate inserted adds its addresses; an update that changes ``email_addresses`` (anonymisation too) replaces
them; a candidate deleted (with its integration too, by the cascade) removes them. Addresses are found by the old
and new values of ``email_addresses``, through the primary key: the table has no other index to keep up, which
matters to a sync writing a hundred thousand candidates. The update trigger fires only when ``email_addresses`` is
set to another value, so a sync's stamps and nested-change marks cost nothing. Of ``email_addresses`` (a list of
``{email_address, type}``) anything else is skipped, alike on both backends.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = ("candidate_emails_on_insert", "candidate_emails_on_update", "candidate_emails_on_delete")


def _sqlite_addresses(row: str, source: str = "") -> str:
    """The ``(email, candidate_id)`` of the candidate row ``row`` (``source``: more of the FROM clause, before)."""
    element = "e.type = 'object' AND typeof(e.key) = 'integer'"  # an object in a list
    address = f"CASE WHEN {element} THEN json_extract(e.value, '$.email_address') END"
    return f"""SELECT lower({address}) AS email, {row}.id FROM {source} json_each({row}.email_addresses) AS e
        WHERE email IS NOT NULL"""


def _postgresql_addresses(row: str, source: str = "") -> str:
    array = f"CASE jsonb_typeof({row}.email_addresses) WHEN 'array' THEN {row}.email_addresses ELSE '[]' END"
    return f"""SELECT lower(e ->> 'email_address') AS email, {row}.id FROM {source} jsonb_array_elements({array}) AS e
        WHERE e ->> 'email_address' IS NOT NULL"""


def _adding(addresses: str) -> str:
    return f"INSERT INTO candidate_emails (email, candidate_id) {addresses} ON CONFLICT DO NOTHING"


def _removing(old_addresses: str) -> str:
    old = f"SELECT email FROM ({old_addresses}) AS o"
    return f"DELETE FROM candidate_emails WHERE candidate_id = old.id AND email IN ({old})"


def _sqlite_triggers() -> list[str]:
    add, remove = _adding(_sqlite_addresses("new")), _removing(_sqlite_addresses("old"))
    return [
        f"CREATE TRIGGER candidate_emails_on_insert AFTER INSERT ON ats_candidates BEGIN {add}; END",
        f"""CREATE TRIGGER candidate_emails_on_update AFTER UPDATE OF email_addresses ON ats_candidates
            WHEN old.email_addresses <> new.email_addresses BEGIN {remove}; {add}; END""",
        f"CREATE TRIGGER candidate_emails_on_delete AFTER DELETE ON ats_candidates BEGIN {remove}; END",
    ]


def _postgresql_triggers() -> list[str]:
    add, remove = _adding(_postgresql_addresses("new")), _removing(_postgresql_addresses("old"))
    return [
        f"""CREATE FUNCTION candidate_emails_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP <> 'INSERT' THEN {remove}; END IF;
                IF TG_OP <> 'DELETE' THEN {add}; END IF;
                RETURN NULL;
            END $$""",
        """CREATE TRIGGER candidate_emails_on_insert AFTER INSERT ON ats_candidates
            FOR EACH ROW EXECUTE FUNCTION candidate_emails_refresh()""",
        """CREATE TRIGGER candidate_emails_on_update AFTER UPDATE OF email_addresses ON ats_candidates
            FOR EACH ROW WHEN (old.email_addresses <> new.email_addresses)
            EXECUTE FUNCTION candidate_emails_refresh()""",
        """CREATE TRIGGER candidate_emails_on_delete AFTER DELETE ON ats_candidates
            FOR EACH ROW EXECUTE FUNCTION candidate_emails_refresh()""",
    ]


def upgrade() -> None:
    op.create_table(
        "candidate_emails",
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("candidate_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("email", "candidate_id", name="pk_candidate_emails"),
        sqlite_with_rowid=False,
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    addresses = _sqlite_addresses if sqlite else _postgresql_addresses
    op.execute(_adding(addresses("c", "ats_candidates AS c,")))
    for statement in _sqlite_triggers() if sqlite else _postgresql_triggers():
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger}" if sqlite else f"DROP TRIGGER {trigger} ON ats_candidates")
    if not sqlite:
        op.execute("DROP FUNCTION candidate_emails_refresh()")
    op.drop_table("candidate_emails")
