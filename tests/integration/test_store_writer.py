"""The store on real SQLite and PostgreSQL: migrations, upserts by content hash, joins, nested marks, deletions,
anonymisation and the cascade of an integration's removal. Records come from the RECRU mapping, as in a sync."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, RowMapping, delete, event, func, insert, select, text, update
from sqlalchemy.exc import StatementError

from atsbridge.connectors.recru.mapping import (
    Mapped,
    MappingContext,
    map_application,
    map_application_stage,
    map_candidate,
    map_job,
    map_tag,
)
from atsbridge.store import deletions, nested_marks, writer
from atsbridge.store.db import bulk_writes, create_engine, default_database_url, normalise_url
from atsbridge.store.integrations import track_application
from atsbridge.store.tables import environments, integrations, metadata, table_of
from atsbridge.store.writer import Counts
from atsbridge.unified.ids import ModelName, model_id

INTEGRATION = "recruhr:Store1ntegrat1onStore1nte"
OTHER_INTEGRATION = "recruhr:0ther1ntegrat1on0ther1nt"
T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def jobseeker(remote_id: int, tags: Sequence[int] = (), **changes: Any) -> dict[str, Any]:
    return {
        "id": remote_id,
        "firstName": "Zuzana",
        "lastName": "Kováč",
        "emails": [{"value": f"z{remote_id}@private.example", "type": "private", "primary": True}],
        "phones": [{"value": "+421 900 333 444", "type": "mobile", "primary": True}],
        "address": {
            "street": "Hlavná 1",
            "postalCode": "811 01",
            "city": "Bratislava",
            "region": None,
            "countryCode": "SK",
        },
        "currentCompany": "ACME s.r.o.",
        "currentPosition": "Data Engineer",
        "source": {"id": 2, "name": "LinkedIn"},
        "tagIds": list(tags),
        "createdAt": "2024-01-10T09:00:00Z",
        "updatedAt": "2024-01-11T09:00:00Z",
        **changes,
    }


def project(remote_id: int, stages: Sequence[int]) -> dict[str, Any]:
    return {
        "id": remote_id,
        "code": f"J-{remote_id}",
        "name": "Backend Developer",
        "description": "<p>Python</p>",
        "status": "open",
        "visibility": "public",
        "employmentType": "full_time",
        "experienceLevel": None,
        "salary": None,
        "weeklyHours": 40,
        "remote": "hybrid",
        "departmentId": None,
        "locationIds": [],
        "hiringTeam": [],
        "stageIds": list(stages),
        "openedAt": None,
        "closedAt": None,
        "createdAt": "2024-01-01T00:00:00Z",
        "updatedAt": "2024-01-01T00:00:00Z",
    }


def application(remote_id: int, jobseeker_id: int, stage_id: int, status: str = "active") -> dict[str, Any]:
    return {
        "id": remote_id,
        "jobseekerId": jobseeker_id,
        "projectId": 1,
        "stageId": stage_id,
        "status": status,
        "rejectionReasonId": None,
        "appliedAt": "2024-02-01T00:00:00Z",
        "createdAt": "2024-02-01T00:00:00Z",
        "updatedAt": "2024-02-01T00:00:00Z",
    }


def stage(remote_id: int, name: str = "Interview") -> dict[str, Any]:
    return {"id": remote_id, "name": name, "position": remote_id, "kind": "regular", "active": True}


def tag(remote_id: int) -> dict[str, Any]:
    return {"id": remote_id, "name": f"tag {remote_id}", "color": None}


def mapped(mapper: Any, payloads: Sequence[dict[str, Any]], integration_id: str = INTEGRATION) -> list[Mapped]:
    ctx = MappingContext(integration_id)
    return [mapper(payload, ctx) for payload in payloads]


def records(items: Sequence[Mapped]) -> list[dict[str, Any]]:
    return [item.record for item in items]


def joins_of(items: Sequence[Mapped], join: ModelName) -> dict[str, list[dict[str, Any]]]:
    return {item.record["id"]: item.joins[join] for item in items}


def our_id(model: ModelName, remote_id: int, integration_id: str = INTEGRATION) -> str:
    return model_id(integration_id, model, remote_id)


def stored(conn: Connection, model: ModelName, remote_id: int) -> RowMapping:
    table = table_of(model)
    return conn.execute(select(table).where(table.c.id == our_id(model, remote_id))).mappings().one()


def stored_join(conn: Connection, join: ModelName, **links: str) -> RowMapping:
    table = table_of(join)
    return conn.execute(select(table).filter_by(**links)).mappings().one()


def add_integration(conn: Connection, integration_id: str) -> None:
    environment_id = f"env-{integration_id}"
    conn.execute(insert(environments).values(id=environment_id, name=f"Test {integration_id}", created_at=T0))
    conn.execute(
        insert(integrations).values(
            id=integration_id,
            environment_id=environment_id,
            tool="recruhr",
            tenant_url="https://acme.recru.eu",
            credentials_encrypted=b"\x00secret",
            status="ACTIVE",
            setup_status="COMPLETED",
            sync_only_created_applications=False,  # everything served, unless a test says otherwise
            end_user_email="hr@acme.example",
            end_user_organization_name="ACME",
            created_at=T0,
            updated_at=T0,
        )
    )


@pytest.fixture
def store(engine: Engine) -> Engine:
    with engine.begin() as conn:
        add_integration(conn, INTEGRATION)
    return engine


@pytest.fixture
def statements(store: Engine) -> Iterator[list[str]]:
    """Every statement sent to the database (an executemany counts once)."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])

    event.listen(store, "before_cursor_execute", record)
    yield sent
    event.remove(store, "before_cursor_execute", record)


# --- schema ---------------------------------------------------------------------------------------------------------


def test_migrated_schema_matches_the_tables(engine: Engine) -> None:
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata) == []


def test_sqlite_connections_use_wal_and_enforce_foreign_keys(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'store' / 'atsbridge.sqlite3'}")
    names = ("journal_mode", "synchronous", "foreign_keys", "busy_timeout", "page_size")
    with engine.connect() as conn:
        pragmas = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in names}
    engine.dispose()
    expected = {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1, "busy_timeout": 30_000, "page_size": 16_384}
    assert pragmas == expected


def test_bulk_writes_tune_a_sqlite_connection_while_they_last(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'atsbridge.sqlite3'}")
    names = ("cache_size", "temp_store", "wal_autocheckpoint")
    with engine.connect() as conn:
        before = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in names}
        with bulk_writes(conn):
            during = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in names}
        after = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in names}
    engine.dispose()
    assert during == {"cache_size": -64 * 1024, "temp_store": 2, "wal_autocheckpoint": 100 * 1024 * 1024 // 16_384}
    assert after == before


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://atsbridge@db.example/atsbridge", "postgresql+psycopg"),
        ("postgres://atsbridge@db.example/atsbridge", "postgresql+psycopg"),
        ("postgresql+psycopg://atsbridge@db.example/atsbridge", "postgresql+psycopg"),
        ("sqlite:////var/lib/atsbridge/atsbridge.sqlite3", "sqlite"),
    ],
)
def test_database_urls_are_normalised(url: str, driver: str) -> None:
    assert normalise_url(url).drivername == driver


def test_the_default_store_is_a_sqlite_file_in_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATSBRIDGE_DATA_DIR", str(tmp_path / "data"))
    assert default_database_url() == f"sqlite:///{tmp_path / 'data' / 'atsbridge.sqlite3'}"
    monkeypatch.delenv("ATSBRIDGE_DATA_DIR")
    monkeypatch.chdir(tmp_path)
    assert default_database_url() == f"sqlite:///{tmp_path / '.atsbridge' / 'atsbridge.sqlite3'}"


def test_timestamps_round_trip_as_aware_utc(engine: Engine) -> None:
    vienna_summer = datetime(2024, 6, 1, 14, 30, 15, 123456, tzinfo=UTC).astimezone(
        datetime.now(UTC).astimezone().tzinfo
    )
    with engine.begin() as conn:
        conn.execute(insert(environments).values(id="env", name="Test", created_at=vienna_summer))
        created_at = conn.execute(select(environments.c.created_at)).scalar_one()
    assert created_at == datetime(2024, 6, 1, 14, 30, 15, 123456, tzinfo=UTC)
    assert created_at.tzinfo is UTC
    with engine.begin() as conn, pytest.raises(StatementError, match="naive datetime"):
        conn.execute(insert(environments).values(id="naive", name="Test", created_at=datetime(2024, 6, 1)))


# --- upserts --------------------------------------------------------------------------------------------------------


def test_upsert_creates_records(store: Engine) -> None:
    candidates = records(mapped(map_candidate, [jobseeker(1), jobseeker(2), jobseeker(3)]))
    with store.begin() as conn:
        counts = writer.upsert(conn, ModelName.CANDIDATES, INTEGRATION, candidates, now=at(0), sync_id="s1")
    assert counts == Counts(created=3)
    with store.connect() as conn:
        row = stored(conn, ModelName.CANDIDATES, 2)
    assert {key: row[key] for key in candidates[1]} == candidates[1]
    assert (row["changed_at"], row["updated_at"], row["created_in_store_at"]) == (at(0), at(0), at(0))
    assert (row["integration_id"], row["last_seen_sync_id"], row["remote_deleted_at"]) == (INTEGRATION, "s1", None)
    assert row["content_hash"] == writer.content_hash(candidates[1])


def test_identical_upsert_writes_nothing(store: Engine) -> None:
    candidates = records(mapped(map_candidate, [jobseeker(1), jobseeker(2)]))
    with store.begin() as conn:
        writer.upsert(conn, ModelName.CANDIDATES, INTEGRATION, candidates, now=at(0), sync_id="s1")
    with store.begin() as conn:
        assert writer.upsert(conn, ModelName.CANDIDATES, INTEGRATION, candidates, now=at(1), sync_id="s2") == Counts(
            unchanged=2
        )
        row = stored(conn, ModelName.CANDIDATES, 1)
    assert (row["changed_at"], row["updated_at"], row["last_seen_sync_id"]) == (at(0), at(0), "s2")
    with store.begin() as conn:
        assert writer.upsert(conn, ModelName.CANDIDATES, INTEGRATION, candidates, now=at(2)) == Counts(unchanged=2)
        row = stored(conn, ModelName.CANDIDATES, 1)
    assert (row["changed_at"], row["updated_at"], row["last_seen_sync_id"]) == (at(0), at(0), "s2")


def test_changed_field_moves_changed_at_and_updated_at(store: Engine) -> None:
    with store.begin() as conn:
        before = records(mapped(map_candidate, [jobseeker(1), jobseeker(2)]))
        writer.upsert(conn, ModelName.CANDIDATES, INTEGRATION, before, now=at(0), sync_id="s1")
    after = records(mapped(map_candidate, [jobseeker(1, firstName="Zuzka"), jobseeker(2)]))
    with store.begin() as conn:
        counts = writer.upsert(conn, ModelName.CANDIDATES, INTEGRATION, after, now=at(1), sync_id="s2")
        changed, unchanged = stored(conn, ModelName.CANDIDATES, 1), stored(conn, ModelName.CANDIDATES, 2)
    assert counts == Counts(updated=1, unchanged=1)
    assert (changed["first_name"], changed["changed_at"], changed["updated_at"]) == ("Zuzka", at(1), at(1))
    assert changed["created_in_store_at"] == at(0)
    assert (unchanged["changed_at"], unchanged["updated_at"], unchanged["last_seen_sync_id"]) == (at(0), at(0), "s2")


def test_a_record_listed_twice_in_a_batch_counts_once(store: Engine) -> None:
    twice = records(mapped(map_tag, [tag(1), tag(1)]))
    with store.begin() as conn:
        assert writer.upsert(conn, ModelName.TAGS, INTEGRATION, twice, now=at(0)) == Counts(created=1)


def test_upsert_refuses_records_that_do_not_fit_the_table(store: Engine) -> None:
    [record] = records(mapped(map_tag, [tag(1)]))
    with store.begin() as conn, pytest.raises(ValueError, match="unexpected \\['colour'\\]"):
        writer.upsert(conn, ModelName.TAGS, INTEGRATION, [{**record, "colour": "red"}], now=at(0))


def test_a_batch_costs_a_few_statements_not_one_per_row(store: Engine, statements: list[str]) -> None:
    batch = records(mapped(map_candidate, [jobseeker(n) for n in range(1, 501)]))
    with store.begin() as conn:
        assert writer.upsert(conn, ModelName.CANDIDATES, INTEGRATION, batch, now=at(0), sync_id="s1").created == 500
    with store.begin() as conn:
        assert writer.upsert(conn, ModelName.CANDIDATES, INTEGRATION, batch, now=at(1), sync_id="s2").unchanged == 500
    verbs = [statement.split()[0] for statement in statements]
    # created: stored hashes, one executemany upsert, mark the applications of changed candidates;
    # unchanged: stored hashes, stamp all as seen by the FULL run.
    assert verbs == ["SELECT", "INSERT", "UPDATE", "SELECT", "UPDATE"]
    with store.connect() as conn:
        table = table_of(ModelName.CANDIDATES)
        assert conn.execute(select(func.count()).where(table.c.last_seen_sync_id == "s2")).scalar_one() == 500


# --- joins and nested marks -----------------------------------------------------------------------------------------


def test_join_changes_move_the_parent_updated_at_but_not_its_changed_at(store: Engine) -> None:
    candidate_id = our_id(ModelName.CANDIDATES, 1)

    def replace_tags(tags: Sequence[int], minute: int) -> tuple[Counts, RowMapping]:
        [item] = mapped(map_candidate, [jobseeker(1, tags)])
        with store.begin() as conn:
            counts = writer.replace_joins(
                conn,
                ModelName.CANDIDATES_TAGS,
                INTEGRATION,
                joins_of([item], ModelName.CANDIDATES_TAGS),
                now=at(minute),
            )
            return counts, stored(conn, ModelName.CANDIDATES, 1)

    with store.begin() as conn:
        writer.upsert(
            conn, ModelName.CANDIDATES, INTEGRATION, records(mapped(map_candidate, [jobseeker(1)])), now=at(0)
        )

    counts, candidate = replace_tags([1, 2], 1)
    assert counts == Counts(created=2)
    assert (candidate["changed_at"], candidate["updated_at"]) == (at(0), at(1))

    counts, candidate = replace_tags([2, 3], 2)
    assert counts == Counts(created=1, unchanged=1, deleted=1)
    assert (candidate["changed_at"], candidate["updated_at"]) == (at(0), at(2))
    with store.connect() as conn:
        removed = stored_join(conn, ModelName.CANDIDATES_TAGS, tag_id=our_id(ModelName.TAGS, 1))
    assert (removed["candidate_id"], removed["remote_deleted_at"], removed["changed_at"]) == (
        candidate_id,
        at(2),
        at(2),
    )

    counts, candidate = replace_tags([2, 3], 3)
    assert counts == Counts(unchanged=2)
    assert candidate["updated_at"] == at(2)

    counts, candidate = replace_tags([1, 2, 3], 4)
    assert counts == Counts(updated=1, unchanged=2)
    assert candidate["updated_at"] == at(4)
    with store.connect() as conn:
        revived = stored_join(conn, ModelName.CANDIDATES_TAGS, tag_id=our_id(ModelName.TAGS, 1))
    assert (revived["id"], revived["remote_deleted_at"]) == (removed["id"], None)

    counts, candidate = replace_tags([], 5)
    assert counts == Counts(deleted=3)
    assert (candidate["changed_at"], candidate["updated_at"]) == (at(0), at(5))


def test_a_changed_join_row_moves_its_parent(store: Engine) -> None:
    def write_job(stages: Sequence[int], minute: int) -> tuple[Counts, RowMapping]:
        items = mapped(map_job, [project(1, stages)])
        join = ModelName.JOBS_APPLICATION_STAGES
        with store.begin() as conn:
            writer.upsert(conn, ModelName.JOBS, INTEGRATION, records(items), now=at(minute))
            counts = writer.replace_joins(conn, join, INTEGRATION, joins_of(items, join), now=at(minute))
            return counts, stored(conn, ModelName.JOBS, 1)

    assert write_job([10, 20], 0)[0] == Counts(created=2)
    counts, job = write_job([20, 10], 1)
    assert counts == Counts(updated=2)
    assert job["updated_at"] == at(1)
    with store.connect() as conn:
        row = stored_join(conn, ModelName.JOBS_APPLICATION_STAGES, stage_id=our_id(ModelName.APPLICATION_STAGES, 20))
    assert (row["index"], row["changed_at"]) == (0, at(1))


def test_replace_joins_refuses_rows_filed_under_another_parent(store: Engine) -> None:
    [item] = mapped(map_candidate, [jobseeker(1, [1])])
    wrong = {our_id(ModelName.CANDIDATES, 2): item.joins[ModelName.CANDIDATES_TAGS]}
    with store.begin() as conn, pytest.raises(ValueError, match="another parent"):
        writer.replace_joins(conn, ModelName.CANDIDATES_TAGS, INTEGRATION, wrong, now=at(0))


def test_related_records_mark_each_other(store: Engine) -> None:
    def write(model: ModelName, mapper: Any, payload: dict[str, Any], minute: int) -> None:
        with store.begin() as conn:
            writer.upsert(conn, model, INTEGRATION, records(mapped(mapper, [payload])), now=at(minute))

    def times(model: ModelName, remote_id: int) -> tuple[datetime, datetime]:
        with store.connect() as conn:
            row = stored(conn, model, remote_id)
        return row["changed_at"], row["updated_at"]

    write(ModelName.CANDIDATES, map_candidate, jobseeker(1), 0)
    write(ModelName.APPLICATION_STAGES, map_application_stage, stage(10), 0)
    write(ModelName.APPLICATIONS, map_application, application(100, 1, 10), 1)
    assert times(ModelName.CANDIDATES, 1) == (at(0), at(1)), "an added application moves its candidate"

    write(ModelName.CANDIDATES, map_candidate, jobseeker(1, lastName="Kováčová"), 2)
    assert times(ModelName.APPLICATIONS, 100) == (at(1), at(2)), "a changed candidate moves its applications"

    write(ModelName.APPLICATION_STAGES, map_application_stage, stage(10, name="Final interview"), 3)
    assert times(ModelName.APPLICATIONS, 100) == (at(1), at(3)), "a changed current stage moves its applications"

    write(ModelName.APPLICATIONS, map_application, application(100, 1, 10, status="hired"), 4)
    assert times(ModelName.CANDIDATES, 1) == (at(2), at(4)), "a changed application moves its candidate"

    with store.begin() as conn:
        assert (
            deletions.mark_deleted(
                conn, ModelName.APPLICATIONS, INTEGRATION, [our_id(ModelName.APPLICATIONS, 100)], now=at(5)
            )
            == {ModelName.APPLICATIONS: 1}  # no join links applications
        )
    assert times(ModelName.CANDIDATES, 1) == (at(2), at(5)), "a removed application moves its candidate"


def test_changed_models_are_those_served_when_only_created_applications_are(store: Engine) -> None:
    """An integration that serves only the tracked applications and their candidates may hold others, from a time
    it served everything: their changes are no news to a client (``data-changed`` does not name them)."""
    with store.begin() as conn:
        writer.upsert(
            conn, ModelName.CANDIDATES, INTEGRATION, records(mapped(map_candidate, [jobseeker(1)])), now=at(0)
        )
        writer.upsert(
            conn,
            ModelName.APPLICATIONS,
            INTEGRATION,
            records(mapped(map_application, [application(100, 1, 10)])),
            now=at(0),
        )
        conn.execute(
            update(integrations).where(integrations.c.id == INTEGRATION).values(sync_only_created_applications=True)
        )
    changed_application = records(mapped(map_application, [application(100, 1, 10, status="hired")]))
    hidden = mapped(map_candidate, [jobseeker(2, tags=[5])])  # a candidate without a tracked application
    with store.begin() as conn:
        writer.upsert(conn, ModelName.APPLICATIONS, INTEGRATION, changed_application, now=at(1))
        writer.upsert(conn, ModelName.CANDIDATES, INTEGRATION, records(hidden), now=at(1))
        links = joins_of(hidden, ModelName.CANDIDATES_TAGS)
        writer.replace_joins(conn, ModelName.CANDIDATES_TAGS, INTEGRATION, links, now=at(1))
        assert nested_marks.models_changed_since(conn, INTEGRATION, at(1)) == []  # none is served
        track_application(conn, INTEGRATION, "100", "1")
        # candidate 1 is served now, and changed (its application did); candidate 2's new tag link is not served
        assert nested_marks.models_changed_since(conn, INTEGRATION, at(1)) == [
            ModelName.CANDIDATES,
            ModelName.APPLICATIONS,
        ]


@pytest.mark.parametrize("owner", [ModelName.CANDIDATES, ModelName.JOBS])
def test_applications_go_with_their_candidate_or_job(store: Engine, owner: ModelName) -> None:
    """RECRU deletes a jobseeker's and a project's applications with it: so does the store, live ones only."""
    apps = [application(100, 1, 10), {**application(101, 1, 10), "projectId": 8}, application(102, 1, 10)]
    with store.begin() as conn:
        writer.upsert(
            conn, ModelName.CANDIDATES, INTEGRATION, records(mapped(map_candidate, [jobseeker(1)])), now=at(0)
        )
        writer.upsert(conn, ModelName.JOBS, INTEGRATION, records(mapped(map_job, [project(8, [10])])), now=at(0))
        writer.upsert(conn, ModelName.APPLICATIONS, INTEGRATION, records(mapped(map_application, apps)), now=at(0))
        deletions.mark_deleted(
            conn, ModelName.APPLICATIONS, INTEGRATION, [our_id(ModelName.APPLICATIONS, 102)], now=at(1)
        )
        owner_id = our_id(owner, 1 if owner is ModelName.CANDIDATES else 8)
        tombstoned = deletions.mark_deleted(conn, owner, INTEGRATION, [owner_id], now=at(2))
        deleted_at = {n: stored(conn, ModelName.APPLICATIONS, n)["remote_deleted_at"] for n in (100, 101, 102)}
    if owner is ModelName.CANDIDATES:  # all three are the candidate's; 102 was gone already
        assert (tombstoned[owner], tombstoned[ModelName.APPLICATIONS]) == (1, 2)
        assert deleted_at == {100: at(2), 101: at(2), 102: at(1)}
    else:  # only 101 applied to job 8
        assert (tombstoned[owner], tombstoned[ModelName.APPLICATIONS]) == (1, 1)
        assert deleted_at == {100: None, 101: at(2), 102: at(1)}


def write_candidate(conn: Connection, payload: dict[str, Any], now: datetime, fetched_at: datetime | None) -> Any:
    """``write_batch`` of one jobseeker with its tag links, asked of RECRU at ``fetched_at``."""
    items = mapped(map_candidate, [payload])
    prepared = writer.prepare_records(ModelName.CANDIDATES, records(items), conn.dialect)
    joins = [writer.prepare_joins(ModelName.CANDIDATES_TAGS, joins_of(items, ModelName.CANDIDATES_TAGS), conn.dialect)]
    return writer.write_batch(conn, prepared, joins, INTEGRATION, now=now, fetched_at=fetched_at)


def served_candidate(store: Engine) -> tuple[str, list[str]]:
    """(last name, live tag ids) of stored jobseeker 1."""
    links = table_of(ModelName.CANDIDATES_TAGS)
    with store.connect() as conn:
        row = stored(conn, ModelName.CANDIDATES, 1)
        live = links.c.candidate_id == row["id"], links.c.remote_deleted_at.is_(None)
        return row["last_name"], sorted(conn.execute(select(links.c.tag_id).where(*live)).scalars())


def test_a_batch_read_before_the_stored_copy_leaves_it_with_its_joins(store: Engine) -> None:
    """A sync's page RECRU answered before an action re-read the record (and wrote it through) does not overwrite the
    action's copy, nor its tag links; whatever RECRU's ``updatedAt`` says (whole seconds; its clock may go back),
    the later read wins."""
    tag_1, tags_1_2 = [our_id(ModelName.TAGS, 1)], sorted([our_id(ModelName.TAGS, 1), our_id(ModelName.TAGS, 2)])
    with store.begin() as conn:  # the action's copy, read at minute 5
        write_candidate(conn, jobseeker(1, [1, 2], lastName="Nová", updatedAt="2024-01-11T09:00:05Z"), at(5), at(5))
    with store.begin() as conn:  # the sync's page, read at minute 4, written at 6; RECRU's second is the same
        counts = write_candidate(
            conn, jobseeker(1, [1], lastName="Stará", updatedAt="2024-01-11T09:00:05Z"), at(6), at(4)
        )
    assert (counts[ModelName.CANDIDATES], counts[ModelName.CANDIDATES_TAGS]) == (Counts(unchanged=1), Counts())
    assert served_candidate(store) == ("Nová", tags_1_2)
    with store.begin() as conn:  # read later, with an older updatedAt (RECRU's clock went back): RECRU's word now
        counts = write_candidate(
            conn, jobseeker(1, [1], lastName="Stará", updatedAt="2024-01-11T08:00:00Z"), at(9), at(8)
        )
    assert counts[ModelName.CANDIDATES] == Counts(updated=1)
    assert served_candidate(store) == ("Stará", tag_1)
    with store.begin() as conn:  # a write that does not know when it was read always applies
        write_candidate(conn, jobseeker(1, [1, 2], lastName="Třetí"), at(10), None)
    assert served_candidate(store) == ("Třetí", tags_1_2)


def test_the_later_read_wins_against_a_transaction_not_committed_yet(store: Engine) -> None:
    """The upsert decides under the write lock: an older read planned against the last committed state does not
    overwrite the later read another transaction commits meanwhile."""
    with store.begin() as conn:
        write_candidate(conn, jobseeker(1, [1], lastName="Původní"), at(0), at(0))
    with store.connect() as sync:
        sync.begin()
        write_candidate(sync, jobseeker(1, [1, 2], lastName="Nová", updatedAt="2024-01-11T09:00:09Z"), at(6), at(5))

        def older_action() -> None:
            with store.begin() as conn:
                write_candidate(
                    conn, jobseeker(1, [1], lastName="Stará", updatedAt="2024-01-11T09:00:03Z"), at(7), at(4)
                )

        action = threading.Thread(target=older_action)
        action.start()
        time.sleep(0.5)  # the action has planned against the committed "Původní" and waits for the lock
        sync.commit()
    action.join(30)
    assert served_candidate(store) == ("Nová", sorted([our_id(ModelName.TAGS, 1), our_id(ModelName.TAGS, 2)]))


def test_a_later_read_committed_after_a_batch_was_planned_keeps_its_tag_links(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL lets another writer commit between a batch's plan and its write (SQLite's write lock does not):
    a record planned unchanged (the sync's page is what was stored) whose later read an action committed meanwhile
    keeps the action's tag links, not the page's."""
    if store.dialect.name != "postgresql":
        pytest.skip("SQLite's write lock holds other writers off from a batch's plan to its commit")
    tags_1_2 = sorted([our_id(ModelName.TAGS, 1), our_id(ModelName.TAGS, 2)])
    with store.begin() as conn:
        write_candidate(conn, jobseeker(1, [1], lastName="Nová"), at(0), at(0))
    planned, committed = writer._stored_state, []

    def then_an_action_commits(conn: Connection, table: Any, column: str, keys: Any) -> Any:
        state = planned(conn, table, column, keys)
        if table.name == ModelName.CANDIDATES.value and not committed:
            committed.append(True)  # the action's write-through of its later read (a tag added)
            with store.begin() as action:
                write_candidate(action, jobseeker(1, [1, 2], lastName="Nová"), at(3), at(3))
        return state

    monkeypatch.setattr(writer, "_stored_state", then_an_action_commits)
    with store.begin() as conn:  # the sync's page, read at minute 1: what was stored then
        counts = write_candidate(conn, jobseeker(1, [1], lastName="Nová"), at(4), at(1))
    assert committed
    assert (counts[ModelName.CANDIDATES], counts[ModelName.CANDIDATES_TAGS]) == (Counts(unchanged=1), Counts())
    assert served_candidate(store) == ("Nová", tags_1_2)


def test_a_refresh_moves_only_the_records_that_nest_remote_updated_at(store: Engine) -> None:
    """Only RECRU's ``updatedAt`` (and payload) moved: a candidate nests its applications' ``remote_updated_at``,
    so it moves with them; an application nests its candidate without it, so it stays."""

    def write(model: ModelName, mapper: Any, payload: dict[str, Any], minute: int) -> None:
        with store.begin() as conn:
            writer.upsert(conn, model, INTEGRATION, records(mapped(mapper, [payload])), now=at(minute))

    def updated_at(model: ModelName, remote_id: int) -> datetime:
        with store.connect() as conn:
            return stored(conn, model, remote_id)["updated_at"]  # type: ignore[no-any-return]

    write(ModelName.CANDIDATES, map_candidate, jobseeker(1), 0)
    write(ModelName.APPLICATION_STAGES, map_application_stage, stage(10), 0)
    write(ModelName.APPLICATIONS, map_application, application(100, 1, 10), 1)
    write(ModelName.CANDIDATES, map_candidate, jobseeker(1, updatedAt="2026-01-01T00:00:00Z"), 2)
    assert updated_at(ModelName.APPLICATIONS, 100) == at(1), "a refreshed candidate does not move its applications"
    write(ModelName.APPLICATIONS, map_application, {**application(100, 1, 10), "updatedAt": "2026-01-01T00:00:00Z"}, 3)
    assert updated_at(ModelName.CANDIDATES, 1) == at(3), "a refreshed application moves its candidate"


def test_a_refresh_moves_updated_at_but_not_changed_at(store: Engine) -> None:
    """RECRU changed a field the unified model does not have (its ``updatedAt`` and payload moved): the served
    ``remote_updated_at`` and ``remote_data`` differ, so ``updated_after`` must find the record; its own unified
    fields did not change, so ``changed_at`` stays."""
    before = jobseeker(1)
    with store.begin() as conn:
        writer.upsert(conn, ModelName.CANDIDATES, INTEGRATION, records(mapped(map_candidate, [before])), now=at(0))
    later = {**before, "dateOfBirth": "1961-01-01", "updatedAt": "2026-01-01T00:00:00Z"}
    with store.begin() as conn:
        counts = writer.upsert(
            conn, ModelName.CANDIDATES, INTEGRATION, records(mapped(map_candidate, [later])), now=at(4)
        )
        row = stored(conn, ModelName.CANDIDATES, 1)
    assert counts.updated == 1
    assert (row["changed_at"], row["updated_at"]) == (at(0), at(4))
    assert row["remote_data"]["JobseekerService.list"]["dateOfBirth"] == "1961-01-01"


# --- deletions ------------------------------------------------------------------------------------------------------


def test_unseen_records_are_deleted_with_their_join_rows_and_revived_when_they_return(store: Engine) -> None:
    candidates = mapped(map_candidate, [jobseeker(1, [1, 2]), jobseeker(2, [3])])
    with store.begin() as conn:
        writer.upsert(
            conn,
            ModelName.TAGS,
            INTEGRATION,
            records(mapped(map_tag, [tag(1), tag(2), tag(3)])),
            now=at(0),
            sync_id="s1",
        )
        writer.upsert(conn, ModelName.CANDIDATES, INTEGRATION, records(candidates), now=at(0), sync_id="s1")
        writer.replace_joins(
            conn, ModelName.CANDIDATES_TAGS, INTEGRATION, joins_of(candidates, ModelName.CANDIDATES_TAGS), now=at(0)
        )
    with store.begin() as conn:
        writer.upsert(
            conn, ModelName.TAGS, INTEGRATION, records(mapped(map_tag, [tag(1), tag(2)])), now=at(1), sync_id="s2"
        )
        assert deletions.deletion_candidates(conn, ModelName.TAGS, INTEGRATION, "s2", limit=10) == [
            (our_id(ModelName.TAGS, 3), "3")
        ]
        tag_3 = [our_id(ModelName.TAGS, 3)]
        # the tag and its one link (candidate 2's), then nothing: both are tombstones already
        assert deletions.mark_deleted(conn, ModelName.TAGS, INTEGRATION, tag_3, now=at(1)) == {
            ModelName.TAGS: 1,
            ModelName.CANDIDATES_TAGS: 1,
        }
        assert deletions.mark_deleted(conn, ModelName.TAGS, INTEGRATION, tag_3, now=at(2)) == {
            ModelName.TAGS: 0,
            ModelName.CANDIDATES_TAGS: 0,
        }
        assert deletions.deletion_candidates(conn, ModelName.TAGS, INTEGRATION, "s2", limit=10) == []
        deleted_tag = stored(conn, ModelName.TAGS, 3)
        link = stored_join(conn, ModelName.CANDIDATES_TAGS, tag_id=our_id(ModelName.TAGS, 3))
        candidate = stored(conn, ModelName.CANDIDATES, 2)
    assert (deleted_tag["remote_deleted_at"], deleted_tag["changed_at"], deleted_tag["updated_at"]) == (at(1),) * 3
    assert link["remote_deleted_at"] == at(1)
    assert (candidate["changed_at"], candidate["updated_at"]) == (at(0), at(1))

    with store.begin() as conn:
        assert (
            deletions.mark_deleted(
                conn, ModelName.CANDIDATES, INTEGRATION, [our_id(ModelName.CANDIDATES, 1)], now=at(2)
            )
            # candidate 1 and its links to tags 1 and 2; it has no application to go with it
            == {ModelName.CANDIDATES: 1, ModelName.CANDIDATES_TAGS: 2, ModelName.APPLICATIONS: 0}
        )
        links = conn.execute(
            select(table_of(ModelName.CANDIDATES_TAGS).c.remote_deleted_at).filter_by(
                candidate_id=our_id(ModelName.CANDIDATES, 1)
            )
        ).scalars()
        assert list(links) == [at(2), at(2)]

    with store.begin() as conn:
        counts = writer.upsert(
            conn, ModelName.TAGS, INTEGRATION, records(mapped(map_tag, [tag(3)])), now=at(3), sync_id="s3"
        )
        revived = stored(conn, ModelName.TAGS, 3)
    assert counts == Counts(updated=1)
    assert (revived["remote_deleted_at"], revived["changed_at"], revived["last_seen_sync_id"]) == (None, at(3), "s3")


def test_deletion_candidates_page_by_id(store: Engine) -> None:
    with store.begin() as conn:
        writer.upsert(
            conn, ModelName.TAGS, INTEGRATION, records(mapped(map_tag, [tag(n) for n in range(1, 6)])), now=at(0)
        )
        pages, after = [], None
        while page := deletions.deletion_candidates(conn, ModelName.TAGS, INTEGRATION, "s1", limit=2, after_id=after):
            pages.append(page)
            after = page[-1][0]
    assert [len(page) for page in pages] == [2, 2, 1]
    assert sorted(remote_id for page in pages for _, remote_id in page) == ["1", "2", "3", "4", "5"]


def test_names_and_locations_of_jobs_stages_and_tags_are_cleared_fourteen_days_after_deletion(store: Engine) -> None:
    job = records(mapped(map_job, [project(1, [])]))[0] | {"location": {"city": "Brno", "country": "CZ"}}
    with store.begin() as conn:
        writer.upsert(conn, ModelName.JOBS, INTEGRATION, [job], now=at(0))
        stages = records(mapped(map_application_stage, [stage(1)]))
        writer.upsert(conn, ModelName.APPLICATION_STAGES, INTEGRATION, stages, now=at(0))
        writer.upsert(conn, ModelName.TAGS, INTEGRATION, records(mapped(map_tag, [tag(1)])), now=at(0))
        for model in (ModelName.JOBS, ModelName.APPLICATION_STAGES, ModelName.TAGS):
            deletions.mark_deleted(conn, model, INTEGRATION, [our_id(model, 1)], now=at(0))
    with store.begin() as conn:
        deletions.anonymise_expired(conn, now=at(0) + timedelta(days=14))
        cleared = {
            model: stored(conn, model, 1) for model in (ModelName.JOBS, ModelName.APPLICATION_STAGES, ModelName.TAGS)
        }
    assert [row["name"] for row in cleared.values()] == [None, None, None]
    assert (cleared[ModelName.JOBS]["location"], cleared[ModelName.JOBS]["remote_data"]) == (None, None)
    assert [(row["id"], row["remote_id"]) for row in cleared.values()] == [
        (our_id(model, 1), "1") for model in cleared
    ]  # kept: ids and timestamps
    assert cleared[ModelName.JOBS]["remote_created_at"] is not None


def test_personal_data_is_anonymised_fourteen_days_after_deletion(store: Engine) -> None:
    with store.begin() as conn:
        writer.upsert(
            conn,
            ModelName.CANDIDATES,
            INTEGRATION,
            records(mapped(map_candidate, [jobseeker(1), jobseeker(2)])),
            now=at(0),
        )
        deletions.mark_deleted(conn, ModelName.CANDIDATES, INTEGRATION, [our_id(ModelName.CANDIDATES, 1)], now=at(0))
        deletions.mark_deleted(conn, ModelName.CANDIDATES, INTEGRATION, [our_id(ModelName.CANDIDATES, 2)], now=at(1))
    fourteen_days_later = at(0) + timedelta(days=14)
    with store.begin() as conn:
        assert deletions.anonymise_expired(conn, now=fourteen_days_later) == {INTEGRATION: {ModelName.CANDIDATES: 1}}
        assert deletions.anonymise_expired(conn, now=fourteen_days_later) == {}
        anonymised, kept = stored(conn, ModelName.CANDIDATES, 1), stored(conn, ModelName.CANDIDATES, 2)
    personal = ("first_name", "last_name", "company", "title", "location", "remote_data")
    assert [anonymised[key] for key in personal] == [None] * len(personal)
    assert (anonymised["email_addresses"], anonymised["phone_numbers"]) == ([], [])
    assert (anonymised["id"], anonymised["remote_id"], anonymised["source"]) == (
        our_id(ModelName.CANDIDATES, 1),
        "1",
        "LinkedIn",
    )
    assert (anonymised["remote_deleted_at"], anonymised["anonymised_at"]) == (at(0), fourteen_days_later)
    assert anonymised["changed_at"] == fourteen_days_later
    assert (kept["first_name"], kept["anonymised_at"]) == ("Zuzana", None)

    with store.begin() as conn:
        writer.upsert(
            conn,
            ModelName.CANDIDATES,
            INTEGRATION,
            records(mapped(map_candidate, [jobseeker(1)])),
            now=fourteen_days_later,
        )
        restored = stored(conn, ModelName.CANDIDATES, 1)
    assert (restored["first_name"], restored["anonymised_at"], restored["remote_deleted_at"]) == ("Zuzana", None, None)


def test_removing_an_integration_removes_its_data(store: Engine) -> None:
    with store.begin() as conn:
        add_integration(conn, OTHER_INTEGRATION)
        for integration_id in (INTEGRATION, OTHER_INTEGRATION):
            candidates = mapped(map_candidate, [jobseeker(1, [1])], integration_id)
            writer.upsert(conn, ModelName.CANDIDATES, integration_id, records(candidates), now=at(0))
            writer.replace_joins(
                conn,
                ModelName.CANDIDATES_TAGS,
                integration_id,
                joins_of(candidates, ModelName.CANDIDATES_TAGS),
                now=at(0),
            )
    with store.begin() as conn:
        conn.execute(delete(integrations).where(integrations.c.id == INTEGRATION))
    with store.connect() as conn:
        for model in (ModelName.CANDIDATES, ModelName.CANDIDATES_TAGS):
            table = table_of(model)
            owners = conn.execute(select(table.c.integration_id)).scalars().all()
            assert owners == [OTHER_INTEGRATION]
        assert conn.execute(text("SELECT count(*) FROM integrations")).scalar_one() == 1


@pytest.mark.parametrize(
    ("model", "mapper", "payload"),
    [
        (
            ModelName.JOBS,
            map_job,
            {
                **project(1, [1, 2]),
                "salary": {"amount": 55000.5, "currency": "EUR", "period": "year"},
                "openedAt": "2024-01-02T03:04:05.123456Z",
            },
        ),
        (ModelName.CANDIDATES, map_candidate, jobseeker(1, [1, 2], lastName='Dvořák "Jr."\n')),
        (ModelName.APPLICATIONS, map_application, application(1, 1, 1)),
    ],
)
def test_the_writer_stores_values_exactly_as_sqlalchemy_types_do(
    store: Engine, model: ModelName, mapper: Any, payload: dict[str, Any]
) -> None:
    # The writer serialises values itself (store.bulk); readers rely on them being what the column types store.
    [record] = records(mapped(mapper, [payload]))
    table = table_of(model)
    with store.begin() as conn:
        writer.upsert(conn, model, INTEGRATION, [record], now=at(0), sync_id="s1")
        written = conn.execute(select(table).where(table.c.id == record["id"])).mappings().one()
        conn.execute(insert(table).values({**written, "id": "twin", "remote_id": "twin"}))
        raw = conn.execute(text(f"SELECT * FROM {table.name} ORDER BY id = 'twin'")).mappings().all()
    assert {key: record[key] for key in record} == {key: written[key] for key in record}
    by_writer, by_sqlalchemy = ({k: v for k, v in row.items() if k not in ("id", "remote_id")} for row in raw)
    assert by_writer == by_sqlalchemy
