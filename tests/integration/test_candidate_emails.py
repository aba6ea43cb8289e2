"""The index of the candidates' e-mail addresses behind the API's `email` filter (``candidate_emails``, kept by
triggers), on real SQLite and PostgreSQL: whatever the writer does to the candidates, and after an integration's
removal, it holds exactly their lower-cased addresses; a store migrated from before it gets the addresses of the
candidates it already held."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from alembic import command
from sqlalchemy import Connection, Engine, delete, inspect, select

from atsbridge.connectors.recru.mapping import map_candidate
from atsbridge.store import deletions, writer
from atsbridge.store.db import alembic_config, migrate
from atsbridge.store.tables import candidate_emails, candidates, integrations
from atsbridge.unified.ids import ModelName
from integration.test_store_writer import (
    INTEGRATION,
    OTHER_INTEGRATION,
    add_integration,
    at,
    jobseeker,
    mapped,
    our_id,
    records,
)


def emails(*values: str) -> list[dict[str, Any]]:
    return [{"value": value, "type": "private", "primary": index == 0} for index, value in enumerate(values)]


def write(conn: Connection, integration_id: str, minutes: int, *payloads: dict[str, Any]) -> None:
    items = records(mapped(map_candidate, payloads, integration_id))
    writer.upsert(conn, ModelName.CANDIDATES, integration_id, items, now=at(minutes))


def indexed(conn: Connection) -> set[tuple[str, str]]:
    rows = conn.execute(select(candidate_emails.c.email, candidate_emails.c.candidate_id))
    return {(email, candidate_id) for email, candidate_id in rows}


def held(conn: Connection) -> set[tuple[str, str]]:
    """The lower-cased addresses the stored candidates hold."""
    rows = conn.execute(select(candidates.c.id, candidates.c.email_addresses))
    return {(address["email_address"].lower(), id_) for id_, addresses in rows for address in addresses}


def test_the_index_holds_the_stored_addresses_through_every_write(engine: Engine) -> None:
    first, second = our_id(ModelName.CANDIDATES, 1), our_id(ModelName.CANDIDATES, 2)
    with engine.begin() as conn:
        add_integration(conn, INTEGRATION)
        add_integration(conn, OTHER_INTEGRATION)
        for integration_id in (INTEGRATION, OTHER_INTEGRATION):
            write(
                conn,
                integration_id,
                0,
                jobseeker(
                    1, emails=emails("Z1@Private.example", "z1@private.EXAMPLE", "work@acme.example", "Ünï@Ex.example")
                ),
                jobseeker(2, emails=emails("work@acme.example")),
            )
        assert {pair for pair in indexed(conn) if pair[1] in (first, second)} == {
            ("z1@private.example", first),
            ("work@acme.example", first),
            ("ünï@ex.example", first),  # every letter lower-cased, not only ASCII ones
            ("work@acme.example", second),
        }
        assert indexed(conn) == held(conn)

        write(conn, INTEGRATION, 1, jobseeker(1, emails=emails("new@acme.example", "Z1@private.example")))
        assert ("work@acme.example", first) not in indexed(conn)
        assert ("new@acme.example", first) in indexed(conn)
        assert indexed(conn) == held(conn)

        deletions.mark_deleted(conn, ModelName.CANDIDATES, INTEGRATION, [first], now=at(2))
        assert indexed(conn) == held(conn)  # deleted, still held (and found with include_deleted)
        deletions.anonymise_expired(conn, now=at(2) + timedelta(days=15))
        assert not {pair for pair in indexed(conn) if pair[1] == first}
        assert indexed(conn) == held(conn)

        write(conn, INTEGRATION, 3, jobseeker(1, emails=emails("back@acme.example")))  # revived
        assert ("back@acme.example", first) in indexed(conn)
        assert indexed(conn) == held(conn)

    with engine.begin() as conn:
        conn.execute(delete(integrations).where(integrations.c.id == INTEGRATION))
    with engine.connect() as conn:
        assert indexed(conn) == held(conn)
        assert {candidate_id for _, candidate_id in indexed(conn)} == {
            our_id(ModelName.CANDIDATES, remote_id, OTHER_INTEGRATION) for remote_id in (1, 2)
        }


def test_migrating_a_store_indexes_the_candidates_it_holds(engine: Engine) -> None:
    with engine.begin() as conn:
        add_integration(conn, INTEGRATION)
        write(conn, INTEGRATION, 0, jobseeker(1, emails=emails("A@x.example", "Čb@X.example")), jobseeker(2))
    with engine.begin() as conn:  # a store from before the index, holding those candidates
        command.downgrade(alembic_config(conn), "0004")
        assert not inspect(conn).has_table("candidate_emails")
    migrate(engine)
    with engine.connect() as conn:
        assert indexed(conn) == held(conn)
        assert len(indexed(conn)) == 3
    with engine.begin() as conn:  # the later migrations keep the index's triggers: new candidates are indexed too
        write(conn, INTEGRATION, 1, jobseeker(3))
    with engine.connect() as conn:
        assert indexed(conn) == held(conn)
        assert len(indexed(conn)) == 4
