"""The SQL of the triggers that keep ``candidate_emails`` (the candidates' addresses, lower-cased, behind the API's
`email` filter) in step with ``ats_candidates``, per backend; used by the migrations that create them (0005) and
that change how SQLite lower-cases them (0015).

A candidate inserted adds its addresses; an update that changes ``email_addresses`` (anonymisation too) replaces
them; a candidate deleted (with its integration too, by the cascade) removes them. Addresses are found by the old
and new values of ``email_addresses``, through the primary key: the table has no other index to keep up, which
matters to a sync writing a hundred thousand candidates. The update trigger fires only when ``email_addresses`` is
set to another value, so a sync's stamps and nested-change marks cost nothing. Of ``email_addresses`` (a list of
``{email_address, type}``) anything else is skipped, alike on both backends.

``lower`` names the SQL function that lower-cases the addresses: the API lower-cases the address asked for with the
same one (``store.text_match.unicode_lower``).

Migrations run this SQL, so what they make is what it says: a later change of the triggers is a new function
here and a new migration, never an edit of what 0005 and 0015 call.
"""

from __future__ import annotations

TRIGGERS = (  # their names, alike on both backends
    "candidate_emails_on_insert",
    "candidate_emails_on_update",
    "candidate_emails_on_delete",
)


def sqlite_addresses(row: str, lower: str, source: str = "") -> str:
    """The ``(email, candidate_id)`` of the candidate row ``row`` (``source``: more of the FROM clause, before)."""
    element = "e.type = 'object' AND typeof(e.key) = 'integer'"  # an object in a list
    address = f"CASE WHEN {element} THEN json_extract(e.value, '$.email_address') END"
    return f"""SELECT {lower}({address}) AS email, {row}.id FROM {source} json_each({row}.email_addresses) AS e
        WHERE email IS NOT NULL"""


def postgresql_addresses(row: str, source: str = "") -> str:
    array = f"CASE jsonb_typeof({row}.email_addresses) WHEN 'array' THEN {row}.email_addresses ELSE '[]' END"
    return f"""SELECT lower(e ->> 'email_address') AS email, {row}.id FROM {source} jsonb_array_elements({array}) AS e
        WHERE e ->> 'email_address' IS NOT NULL"""


def adding(addresses: str) -> str:
    return f"INSERT INTO candidate_emails (email, candidate_id) {addresses} ON CONFLICT DO NOTHING"


def _removing(old_addresses: str) -> str:
    old = f"SELECT email FROM ({old_addresses}) AS o"
    return f"DELETE FROM candidate_emails WHERE candidate_id = old.id AND email IN ({old})"


def sqlite_triggers(lower: str) -> list[str]:
    add, remove = adding(sqlite_addresses("new", lower)), _removing(sqlite_addresses("old", lower))
    return [
        f"CREATE TRIGGER candidate_emails_on_insert AFTER INSERT ON ats_candidates BEGIN {add}; END",
        f"""CREATE TRIGGER candidate_emails_on_update AFTER UPDATE OF email_addresses ON ats_candidates
            WHEN old.email_addresses <> new.email_addresses BEGIN {remove}; {add}; END""",
        f"CREATE TRIGGER candidate_emails_on_delete AFTER DELETE ON ats_candidates BEGIN {remove}; END",
    ]


def postgresql_triggers() -> list[str]:
    add, remove = adding(postgresql_addresses("new")), _removing(postgresql_addresses("old"))
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
