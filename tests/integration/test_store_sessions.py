"""Sessions of the store. PostgreSQL: one left idle inside a transaction (its process stopped mid-transaction) is
ended by the server, so the rows it locked are free again for the writers that come after it; a sync run's session
is named after the run while it runs (so the process that gives the run up for dead can end it). Both stores: a
savepoint is part of its transaction."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import DBAPIError

from atsbridge.store import db, tables
from atsbridge.store.credentials import RecruCredentials
from atsbridge.store.integrations import create_integration, ensure_environment, find_environment
from atsbridge.sync.scheduler import queue_sync
from atsbridge.sync.store_worker import StoreWorker
from integration.sync.conftest import KEY
from support.store import POSTGRES_URL, fresh_store


def test_what_a_savepoint_held_goes_when_its_transaction_is_rolled_back(engine: Engine) -> None:
    """On SQLite, Python's sqlite3 begins a transaction only before a write: a savepoint taken first (making an
    environment, queueing a sync) was committed as it was released, whatever failed after it."""
    with engine.begin() as conn:
        integration_id = create_integration(
            conn,
            KEY,
            environment_id=ensure_environment(conn, "acme"),
            tenant_url="https://acme.recru.eu",
            credentials=RecruCredentials("api@acme.example", "secret"),
        )

    def failing_after_its_savepoints() -> None:
        with engine.begin() as conn:
            ensure_environment(conn, "rolled back")
            queue_sync(conn, integration_id, "DELTA")
            raise RuntimeError("the command failed after")

    with pytest.raises(RuntimeError):
        failing_after_its_savepoints()
    with engine.connect() as conn:
        assert find_environment(conn, "rolled back") is None
        assert (
            conn.execute(select(tables.syncs.c.id).where(tables.syncs.c.integration_id == integration_id)).all() == []
        )
    with engine.begin() as conn:  # and kept with a transaction that commits
        ensure_environment(conn, "kept")
    with engine.connect() as conn:
        assert find_environment(conn, "kept") is not None


@pytest.mark.postgres
def test_a_session_idle_in_a_transaction_is_ended_and_frees_its_locks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fresh_store("postgres", tmp_path) as engine:
        # set once the schema is made: a loaded machine may pause its migration a second between statements
        monkeypatch.setattr(db, "PG_IDLE_IN_TRANSACTION_TIMEOUT_MS", 1_000)
        engine.dispose()  # the sessions from here on take it
        with engine.begin() as conn:
            ensure_environment(conn, "sessions")
        stopped = engine.connect()  # as a process stopped while its transaction holds a row
        try:
            stopped.execute(update(tables.environments).values(name="held"))
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '20s'"))  # a failure, not a hang, if the row stays held
                conn.execute(update(tables.environments).values(name="taken over"))
            with pytest.raises(DBAPIError):  # its session is gone: it goes on with nothing
                stopped.execute(select(tables.environments.c.name))
            stopped.invalidate()
        finally:
            stopped.close()
        with engine.connect() as conn:
            assert conn.execute(select(tables.environments.c.name)).scalars().all() == ["taken over"]


@pytest.mark.postgres
def test_processes_migrating_one_database_at_once_take_turns(tmp_path: Path) -> None:
    with fresh_store("postgres", tmp_path, revision="0001") as engine:
        with ThreadPoolExecutor(4) as pool:  # as processes started together on a new database
            for migrating in [pool.submit(db.migrate, engine) for _ in range(4)]:
                migrating.result()  # none failed
        assert db.stored_revision(engine) == db.head_revision()


@pytest.mark.postgres
async def test_a_sync_runs_store_session_carries_its_name_only_while_it_runs(tmp_path: Path) -> None:
    """So that a run given up for dead can have its session ended, and no later user of the pooled connection is."""
    with fresh_store("postgres", tmp_path) as engine:
        other = db.create_engine(engine.url.render_as_string(hide_password=False))  # another process
        try:
            worker = StoreWorker(engine, commit_every=10, session_name="atsbridge sync Abc")
            name = text("SELECT current_setting('application_name')")
            named = await worker.call(lambda conn: conn.execute(name).scalar_one())
            with other.connect() as conn:
                ended_other = db.end_named_sessions(conn, ["atsbridge sync Other"])
            still = await worker.call(lambda conn: conn.execute(name).scalar_one())
            worker.close()
            with other.connect() as conn:  # the pool's connection, back and unnamed: not ended by the name
                ended_after = db.end_named_sessions(conn, ["atsbridge sync Abc"])
            with engine.connect() as conn:
                assert conn.execute(name).scalar_one() != "atsbridge sync Abc"
        finally:
            other.dispose()
        assert (named, ended_other, still, ended_after) == ("atsbridge sync Abc", 0, "atsbridge sync Abc", 0)


@pytest.mark.postgres
def test_a_named_session_is_ended_by_another_process_and_its_locks_freed(tmp_path: Path) -> None:
    with fresh_store("postgres", tmp_path) as engine:
        with engine.begin() as conn:
            ensure_environment(conn, "named")
        other = db.create_engine(engine.url.render_as_string(hide_password=False))
        stopped = engine.connect()
        try:
            with db.named_session(stopped, "atsbridge sync Stopped"):
                stopped.execute(update(tables.environments).values(name="held"))  # a lock, as a stopped run's
                with other.begin() as conn:
                    ended = db.end_named_sessions(conn, ["atsbridge sync Stopped"])
                with other.begin() as conn:
                    conn.execute(text("SET LOCAL lock_timeout = '5s'"))
                    conn.execute(update(tables.environments).values(name="taken over"))
                with pytest.raises(DBAPIError) as gone:
                    stopped.execute(select(tables.environments.c.name))
                assert db.session_ended(gone.value)
        finally:
            stopped.close()
            other.dispose()
        assert ended == 1


@pytest.mark.postgres
def test_a_pooled_connection_the_server_ended_is_replaced_when_taken(tmp_path: Path) -> None:
    """A PostgreSQL restart or failover: the next request or run works (it failed with a 500)."""
    with fresh_store("postgres", tmp_path) as engine:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        admin = db.create_engine(POSTGRES_URL)
        try:
            with admin.connect() as conn:
                assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
        finally:
            admin.dispose()
        with engine.connect() as conn:
            assert conn.execute(select(tables.environments.c.id)).all() == []
