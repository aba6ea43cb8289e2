"""A first sync into empty tables builds their secondary indexes after the rows (SQLite), and a run killed before
they are built leaves nothing a later run or ``migrate`` does not repair."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, inspect

from atsbridge.connectors.recru.mapping import MappingContext, map_application
from atsbridge.store import writer
from atsbridge.store.db import migrate
from atsbridge.store.first_load import build_missing_indexes, defer_indexes
from atsbridge.store.integrations import Integration
from atsbridge.unified.ids import ModelName
from integration.sync.conftest import Sync, kill_full_run_once_listing
from integration.sync.parity import assert_parity
from support.recru import Recru

APPLICATION_INDEXES = {
    "ix_ats_applications_integration_id_id",
    "ix_ats_applications_integration_id_updated_at",
    "ix_ats_applications_candidate_id",
    "ix_ats_applications_job_id",
    "ix_ats_applications_current_stage_id",
}


def index_names(engine: Engine, table: str) -> set[str]:
    with engine.connect() as conn:
        return {str(index["name"]) for index in inspect(conn).get_indexes(table)}


def test_a_migrated_store_has_every_declared_index_and_nothing_to_build(engine: Engine) -> None:
    assert index_names(engine, "ats_applications") >= APPLICATION_INDEXES
    with engine.begin() as conn:
        assert build_missing_indexes(conn) == []


def test_only_an_empty_sqlite_table_has_its_indexes_deferred(engine: Engine, integration: Integration) -> None:
    with engine.begin() as conn:
        deferred = defer_indexes(conn, ModelName.APPLICATIONS)
    sqlite = engine.dialect.name == "sqlite"
    assert deferred is sqlite
    assert index_names(engine, "ats_applications").isdisjoint(APPLICATION_INDEXES) is sqlite
    with engine.begin() as conn:
        assert set(build_missing_indexes(conn)) == (APPLICATION_INDEXES if sqlite else set())
    assert index_names(engine, "ats_applications") >= APPLICATION_INDEXES

    application = {"id": 1, "jobseekerId": 1, "projectId": 1, "stageId": 1, "status": "active"}
    with engine.begin() as conn:  # a table holding a row, of any integration, keeps its indexes
        record = map_application(application, MappingContext(integration.id)).record
        writer.upsert(conn, ModelName.APPLICATIONS, integration.id, [record], now=datetime.now(UTC))
        assert defer_indexes(conn, ModelName.APPLICATIONS) is False
    assert index_names(engine, "ats_applications") >= APPLICATION_INDEXES


def test_two_runs_dropping_and_building_one_tables_indexes_at_once_do_not_fail_each_other(engine: Engine) -> None:
    """Two first syncs finding one table empty: each index is dropped (then built) by the other run between this
    run's look and its own statement."""
    if engine.dialect.name != "sqlite":
        pytest.skip("only SQLite defers indexes (store.first_load)")

    def the_other_run_first(conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().startswith(("DROP INDEX", "CREATE INDEX")):
            with engine.begin() as other:
                if statement.lstrip().startswith("DROP"):
                    defer_indexes(other, ModelName.APPLICATIONS)
                else:
                    build_missing_indexes(other)

    with engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", the_other_run_first)
        with conn.begin():
            assert defer_indexes(conn, ModelName.APPLICATIONS) is True
        assert index_names(engine, "ats_applications").isdisjoint(APPLICATION_INDEXES)
        with conn.begin():
            build_missing_indexes(conn)
        event.remove(conn, "before_cursor_execute", the_other_run_first)
    assert index_names(engine, "ats_applications") >= APPLICATION_INDEXES


def test_a_first_sync_ends_with_every_index_built(engine: Engine, integration: Integration, sync: Sync) -> None:
    result = sync("FULL")
    assert result.state == "SUCCEEDED", result.errors
    assert index_names(engine, "ats_applications") >= APPLICATION_INDEXES
    with engine.begin() as conn:
        assert build_missing_indexes(conn) == []


def test_a_first_sync_killed_while_loading_is_repaired_by_the_next_run(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    kill_full_run_once_listing(engine, integration, ModelName.APPLICATIONS)
    # On SQLite the killed run had dropped the empty applications table's indexes and not yet built them again.
    assert index_names(engine, "ats_applications").isdisjoint(APPLICATION_INDEXES) is (engine.dialect.name == "sqlite")

    result = sync("FULL")
    assert result.state == "SUCCEEDED", result.errors
    assert index_names(engine, "ats_applications") >= APPLICATION_INDEXES
    assert_parity(engine, integration.id, recru)


def test_migrate_builds_the_indexes_a_killed_run_left_unbuilt(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("only SQLite defers indexes (store.first_load); PostgreSQL never lacks one")
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_ats_applications_candidate_id")
    assert "ix_ats_applications_candidate_id" not in index_names(engine, "ats_applications")
    migrate(engine)
    assert index_names(engine, "ats_applications") >= APPLICATION_INDEXES
