"""Deletions (detected, cascaded, revived, never false) and runs that meet faults, expired tokens or a kill."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, select, text, update

from atsbridge.config import Settings
from atsbridge.store import tables
from atsbridge.store.credentials import RecruCredentials
from atsbridge.store.integrations import Integration, apply_settings, delete_integration, set_integration_fields
from atsbridge.store.syncs import PROCESS_GONE, STALE_AFTER, run_note
from atsbridge.sync import engine as engine_module
from atsbridge.sync.engine import RUN_ABANDONED, SETTINGS_CHANGED, SyncResult, SyncRun
from atsbridge.sync.reconnect import reconnect
from atsbridge.sync.runner import execute_sync
from atsbridge.sync.scheduler import fail_stale_runs, queue_sync
from atsbridge.unified.ids import ModelName
from integration.sync.conftest import KEY, Sync, kill_full_run_once_listing, run_async
from integration.sync.parity import assert_parity, live
from support.emulator_process import EmulatorProcess
from support.recru import Recru


def tombstones(engine: Engine, table: Any, integration_id: str) -> set[str]:
    with engine.connect() as conn:
        query = select(table.c.remote_id).where(
            table.c.integration_id == integration_id, table.c.remote_deleted_at.is_not(None)
        )
        return set(conn.execute(query).scalars())


def test_deletions_are_detected_and_cascade(engine: Engine, integration: Integration, recru: Recru, sync: Sync) -> None:
    sync("FULL")
    tag = recru.all("tags")[0]
    jobseeker = next(j for j in recru.all("jobseekers") if set(j["tagIds"]) - {tag["id"]})  # links that stay
    applications = [a["id"] for a in recru.all("applications") if a["jobseekerId"] == jobseeker["id"]]
    project = recru.all("projects")[-1]
    project_applications = [a["id"] for a in recru.all("applications") if a["projectId"] == project["id"]]
    recru.delete("jobseekers", jobseeker["id"])
    recru.delete("projects", project["id"])
    recru.delete("tags", tag["id"])

    delta = sync("DELTA")
    # a DELTA lists the tags whole (RECRU does not paginate them), so it finds the deleted tag; the paginated
    # streams' deletions wait for a FULL run
    assert tombstones(engine, tables.tags, integration.id) == {str(tag["id"])}
    assert delta.counts[ModelName.TAGS]["deleted"] == 1
    paginated = (ModelName.USERS, ModelName.JOBS, ModelName.CANDIDATES, ModelName.APPLICATIONS)
    assert all(delta.counts[model]["deleted"] == 0 for model in paginated)
    result = sync("FULL")
    assert result.state == "SUCCEEDED"
    assert tombstones(engine, tables.candidates, integration.id) == {str(jobseeker["id"])}
    assert tombstones(engine, tables.jobs, integration.id) == {str(project["id"])}
    assert tombstones(engine, tables.tags, integration.id) == {str(tag["id"])}
    assert tombstones(engine, tables.applications, integration.id) == {
        str(a) for a in {*applications, *project_applications}
    }
    assert result.counts[ModelName.CANDIDATES]["deleted"] == 1
    # the deleted jobseeker's tag links go with it, and are counted (the tag's other links went in the DELTA)
    assert result.counts[ModelName.CANDIDATES_TAGS]["deleted"] >= len(set(jobseeker["tagIds"]) - {tag["id"]}) > 0
    assert_parity(engine, integration.id, recru)  # tag links of the deleted tag and jobseeker are gone too


def test_a_record_that_reappears_is_revived(engine: Engine, integration: Integration, recru: Recru, sync: Sync) -> None:
    sync("FULL")
    remote_id = str(recru.all("jobseekers")[3]["id"])
    with engine.begin() as conn:  # as if an earlier run had seen it vanish
        conn.execute(
            update(tables.candidates)
            .where(tables.candidates.c.integration_id == integration.id, tables.candidates.c.remote_id == remote_id)
            .values(remote_deleted_at=tables.candidates.c.changed_at)
        )
    result = sync("FULL")
    assert remote_id not in tombstones(engine, tables.candidates, integration.id)
    assert result.counts[ModelName.CANDIDATES]["updated"] >= 1
    assert_parity(engine, integration.id, recru)


def test_records_deleted_during_a_full_listing_cause_no_false_deletion(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    for _ in range(600):  # pages enough that some are asked for after the deletion
        recru.create("jobseekers")
    jobseekers = recru.all("jobseekers")
    doomed = [j["id"] for j in jobseekers[:40]]  # all on the first page: later pages shift back by 40

    def delete_after_first_page(model: ModelName, done: int, total: int | None) -> None:
        if model is ModelName.CANDIDATES and done == 200 and doomed:
            while doomed:
                recru.delete("jobseekers", doomed.pop())

    deleted = set(map(str, doomed))
    result = sync("FULL", progress=delete_after_first_page)
    assert result.state == "SUCCEEDED"
    assert not doomed
    # the 40 records that shifted into an earlier page were read all the same (the listing's total fell: the
    # page before was read again), and none of those seen before their deletion is taken for deleted
    stored = {r.remote_id for r in live(engine, tables.candidates, integration.id)}
    assert stored - deleted == {str(j["id"]) for j in recru.all("jobseekers")}
    assert tombstones(engine, tables.candidates, integration.id) == set()
    assert_parity_except_deleted(engine, integration, recru, sync)


def test_a_record_shifted_across_a_page_by_a_deletion_meanwhile_is_stored_by_a_later_full(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    """Not only a first sync: a record created since the last run, moved into a page already read by a deletion
    while a FULL lists, is stored by that FULL."""
    sync("FULL")
    for _ in range(600):  # new since that run: pages enough that some are asked for after the deletion
        recru.create("jobseekers")
    doomed = [j["id"] for j in recru.all("jobseekers")[:3]]

    def delete_after_first_page(model: ModelName, done: int, total: int | None) -> None:
        if model is ModelName.CANDIDATES and done == 200 and doomed:
            while doomed:
                recru.delete("jobseekers", doomed.pop())

    assert sync("FULL", progress=delete_after_first_page).state == "SUCCEEDED"
    stored = {r.remote_id for r in live(engine, tables.candidates, integration.id)}
    assert {str(j["id"]) for j in recru.all("jobseekers")} <= stored


class MaskedDeletions:
    """A run's progress callback that deletes the first three jobseekers once the first page of 200 is read and
    creates three others (``clock_ahead``: while RECRU's clock is a day ahead): the listing's total does not fall,
    yet three records shift into the page already read."""

    def __init__(self, recru: Recru, *, clock_ahead: bool = False) -> None:
        self.recru = recru
        self.doomed = [j["id"] for j in recru.all("jobseekers")[:3]]
        self.clock_ahead = clock_ahead

    def after_first_page(self, model: ModelName, done: int, total: int | None) -> None:
        if model is ModelName.CANDIDATES and done == 200 and self.doomed:
            if self.clock_ahead:
                self.recru.control("POST", "/clock", {"advanceSeconds": 86_400})
            while self.doomed:
                self.recru.delete("jobseekers", self.doomed.pop())
                self.recru.create("jobseekers")
            if self.clock_ahead:
                self.recru.control("POST", "/clock", {"release": True})


@pytest.mark.parametrize("clock_ahead", [False, True], ids=["", "created while RECRU's clock was ahead"])
def test_deletions_masked_by_creations_between_the_same_two_pages_hide_no_record(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync, clock_ahead: bool
) -> None:
    """Three records deleted from the first page and three created while the next page is on its way: the listing's
    total does not fall, yet three records shift into the page already read. Also where RECRU stamped the three new
    ones a day ahead: new, whatever their stamps say."""
    for _ in range(600):
        recru.create("jobseekers")
    masking = MaskedDeletions(recru, clock_ahead=clock_ahead)
    assert sync("FULL", progress=masking.after_first_page).state == "SUCCEEDED"
    assert not masking.doomed
    stored = {r.remote_id for r in live(engine, tables.candidates, integration.id)}
    assert {str(j["id"]) for j in recru.all("jobseekers")} <= stored
    assert_parity_except_deleted(engine, integration, recru, sync)


def test_a_listing_read_again_counts_each_record_once(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    for _ in range(600):
        recru.create("jobseekers")
    sync("FULL")
    before = len(recru.all("jobseekers"))
    result = sync("FULL", progress=MaskedDeletions(recru).after_first_page)  # listed twice
    counts = result.counts[ModelName.CANDIDATES]
    assert (counts["created"], counts["deleted"]) == (3, 0)  # the deleted three were listed before they went
    assert counts["created"] + counts["updated"] + counts["unchanged"] == before + 3
    tags = result.counts[ModelName.CANDIDATES_TAGS]
    links = sum(len(j["tagIds"]) for j in recru.all("jobseekers"))
    assert links <= tags["created"] + tags["updated"] + tags["unchanged"] < links + 3 * 10


def test_records_recru_stamped_before_its_clock_was_set_back_make_no_second_listing(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    """A record created while RECRU's clock was a day ahead carries a `createdAt` after the start of every later
    listing, as one created while it lists does: each quiet FULL read the listing twice, for as long as RECRU's
    clock stayed behind that stamp. Once a record is made after it (a lower stamp, a higher id), it is told apart."""
    recru.control("POST", "/clock", {"advanceSeconds": 86_400})
    recru.create("jobseekers")
    recru.control("POST", "/clock", {"release": True})
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    recru.create("jobseekers", createdAt=an_hour_ago, updatedAt=an_hour_ago)
    sync("FULL")
    pages = -(-len(recru.all("jobseekers")) // 200)
    before = recru.control("GET", "/counters")["calls"]["JobseekerService.list"]
    assert sync("FULL").state == "SUCCEEDED"
    assert recru.control("GET", "/counters")["calls"]["JobseekerService.list"] - before == pages


@pytest.mark.parametrize("kind", ["FULL", "DELTA"])
def test_an_application_whose_new_jobseeker_is_deleted_after_the_applications_were_listed_is_not_served_live(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync, kind: str
) -> None:
    """The applications are listed before the jobseekers: a jobseeker made since the last run, deleted (with its
    application) in between, is read at the run's end and not found. Its application was left served live with
    `candidate: null` until the next FULL; it is read again and found gone."""
    sync("FULL")
    job = next(p for p in recru.all("projects") if p["status"] == "open")
    jobseeker = recru.create("jobseekers", emails=[{"value": f"{kind.lower()}-gone@example.com"}])
    made = recru.create("applications", jobseekerId=jobseeker["id"], projectId=job["id"])

    def delete_once_the_applications_are_listed(model: ModelName, done: int, total: int | None) -> None:
        if model is ModelName.APPLICATIONS and (total is None or done >= total) and not deleted:
            deleted.append(recru.delete("jobseekers", jobseeker["id"]))

    deleted: list[Any] = []
    assert sync(kind, progress=delete_once_the_applications_are_listed).state == "SUCCEEDED"
    assert deleted
    stored = {r.remote_id for r in live(engine, tables.applications, integration.id)}
    assert str(made["id"]) not in stored
    assert str(made["id"]) in tombstones(engine, tables.applications, integration.id)


def assert_parity_except_deleted(engine: Engine, integration: Integration, recru: Recru, sync: Sync) -> None:
    sync("FULL")  # the deleted ones were seen on page 1; the next complete listing retires them
    assert_parity(engine, integration.id, recru)


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "rate_limit", "count": 3, "retryAfter": 1},
        {"kind": "error_500", "share": 0.15},
        {"kind": "unavailable_503", "share": 0.15, "retryAfter": 1},
        {"kind": "slow", "share": 0.1, "delaySeconds": 0.3},
        {"kind": "drop", "share": 0.15},
        {"kind": "truncate", "share": 0.15},
        {"kind": "garbage", "share": 0.15},
    ],
    ids=lambda fault: fault["kind"],
)
def test_a_run_under_faults_still_ends_in_parity(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync, fault: dict[str, Any]
) -> None:
    recru.control("POST", "/faults", fault)
    result = sync("FULL")
    recru.control("DELETE", "/faults")
    assert result.state == "SUCCEEDED", result.errors
    faults = recru.control("GET", "/counters")["faults"]
    assert faults.get(fault["kind"], 0) >= 1
    assert_parity(engine, integration.id, recru)


def test_token_expiry_mid_run_is_survived(engine: Engine, integration: Integration, recru: Recru, sync: Sync) -> None:
    expired = []

    def expire_tokens(model: ModelName, done: int, total: int | None) -> None:
        if model is ModelName.CANDIDATES and not expired:
            recru.control("POST", "/tokens/expire")
            expired.append(done)

    result = sync("FULL", progress=expire_tokens)
    assert expired
    assert result.state == "SUCCEEDED", result.errors
    assert_parity(engine, integration.id, recru)


def test_a_killed_run_then_a_rerun_ends_in_parity_without_false_deletions(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    sync("FULL")
    for jobseeker in recru.all("jobseekers")[:5]:
        recru.patch("jobseekers", jobseeker["id"], currentCompany="Škoda Auto a.s.")
    gone = recru.all("jobseekers")[-1]["id"]
    recru.delete("jobseekers", gone)

    kill_full_run_once_listing(engine, integration, ModelName.APPLICATIONS)
    with engine.connect() as conn:
        states = list(conn.execute(select(tables.syncs.c.state).order_by(tables.syncs.c.queued_at)).scalars())
    assert states[-1] == "CANCELLED"
    assert tombstones(engine, tables.candidates, integration.id) == set()  # a partial run never deletes

    result = sync("FULL")
    assert result.state == "SUCCEEDED"
    assert tombstones(engine, tables.candidates, integration.id) == {str(gone)}
    assert_parity(engine, integration.id, recru)


@pytest.mark.parametrize("ending", ["failed", "killed"])
def test_a_full_run_that_does_not_list_everything_deletes_nothing_of_any_stream(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync, ending: str
) -> None:
    sync("FULL")
    project = recru.all("projects")[-1]
    recru.delete("projects", project["id"])  # listed before the jobseekers: its stream is complete in both endings
    recru.delete("tags", recru.all("tags")[0]["id"])

    if ending == "failed":
        recru.control("POST", "/faults", {"kind": "error_500", "method": "JobseekerService.list", "count": 1000})
        result = sync("FULL")
        recru.control("DELETE", "/faults")
        assert result.state == "FAILED"
        assert all(counts["deleted"] == 0 for counts in result.counts.values())
        assert result.errors[0]["level"] == "error"  # RECRU's words, none of our class names
        assert result.errors[0]["message"].startswith("JobseekerService.list failed after ")
        assert result.errors[0]["message"].endswith(" attempt(s): RECRU error -32603: Internal error")
    else:
        kill_full_run_once_listing(engine, integration, ModelName.CANDIDATES)
    for table in (tables.jobs, tables.applications, tables.tags, tables.candidates_tags):
        with engine.connect() as conn:
            deleted = conn.execute(
                select(table.c.id).where(
                    table.c.integration_id == integration.id, table.c.remote_deleted_at.is_not(None)
                )
            ).all()
        assert deleted == [], table.name

    assert sync("FULL").state == "SUCCEEDED"
    assert tombstones(engine, tables.jobs, integration.id) == {str(project["id"])}
    assert_parity(engine, integration.id, recru)


def test_an_unexpected_error_ends_the_run_failed_and_told(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_batch = SyncRun._write_batch

    def failing(self: SyncRun, conn: Any, records: Any, *args: Any) -> None:
        if records.table.name == ModelName.CANDIDATES:
            raise RuntimeError("a bug in the store path")
        write_batch(self, conn, records, *args)

    monkeypatch.setattr(SyncRun, "_write_batch", failing)
    result = sync("FULL")
    assert result.state == "FAILED"
    assert "unexpected RuntimeError: a bug in the store path" in result.errors[0]["message"]
    with engine.connect() as conn:
        run = conn.execute(select(tables.syncs).where(tables.syncs.c.id == result.sync_id)).one()
        finished = conn.execute(
            select(tables.webhook_outbox.c.payload).where(tables.webhook_outbox.c.type == "sync-finished")
        ).scalar_one()
    assert (run.state, finished["sync_state"], finished["sync_id"]) == ("FAILED", "FAILED", result.sync_id)


@pytest.mark.parametrize("failure", ["bad cast", "duplicate key"])
def test_a_database_error_is_told_without_the_statement_or_its_data(
    engine: Engine, integration: Integration, sync: Sync, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    private = "private@example.org"

    def failing(self: SyncRun, conn: Any, *args: Any) -> None:
        marker = "?" if conn.dialect.name == "sqlite" else "%s"
        if failure == "bad cast":  # PostgreSQL quotes the value it could not read (SQLite casts it to 0)
            function = "no_such_function" if conn.dialect.name == "sqlite" else "CAST"
            conn.exec_driver_sql(f"SELECT {function}({marker} AS INTEGER)", (private,))
        else:  # PostgreSQL's DETAIL line quotes the key
            conn.exec_driver_sql("CREATE TEMPORARY TABLE probe (email TEXT PRIMARY KEY)")
            conn.exec_driver_sql(f"INSERT INTO probe VALUES ({marker}), ({marker})", (private, private))

    monkeypatch.setattr(SyncRun, "_write_batch", failing)
    result = sync("FULL")
    assert result.state == "FAILED"
    message = result.errors[0]["message"]
    assert message.startswith("unexpected ") and len(message) > len("unexpected ")
    assert private not in message
    assert "[SQL" not in message  # SQLAlchemy's quote of the statement and its parameters


def test_a_queued_run_whose_credentials_cannot_be_decrypted_fails_told(
    engine: Engine, integration: Integration, tmp_path: Path
) -> None:
    # a process with another ATSBRIDGE_SECRET_KEY: left queued, the run would be picked up again at once, for good
    with engine.begin() as conn:
        sync_id, _ = queue_sync(conn, integration.id, "DELTA")
    other_key = Settings(data_dir=tmp_path, secret_key=bytes(range(1, 33)).hex())
    assert asyncio.run(execute_sync(engine, other_key, sync_id, integration.id, "DELTA")) is None
    with engine.connect() as conn:
        run = conn.execute(select(tables.syncs).where(tables.syncs.c.id == sync_id)).one()
        finished = conn.execute(
            select(tables.webhook_outbox.c.payload).where(tables.webhook_outbox.c.type == "sync-finished")
        ).scalar_one()
    assert run.state == "FAILED"
    assert "ATSBRIDGE_SECRET_KEY" in run.errors[0]["message"]
    assert (finished["sync_id"], finished["sync_state"]) == (sync_id, "FAILED")


async def run_meanwhile(
    engine: Engine,
    integration: Integration,
    meanwhile: Callable[[], None],
    within: float | None,
    *,
    kind: str = "FULL",
    once_listed: ModelName = ModelName.JOBS,
) -> SyncResult:
    """A run (FULL unless ``kind`` says) with ``meanwhile`` done once it reports progress on ``once_listed``; its
    result within ``within`` seconds (``None``: however long it takes)."""
    listing = asyncio.Event()

    def on_progress(model: ModelName, done: int, total: int | None) -> None:
        if model is once_listed:
            listing.set()

    run = asyncio.create_task(run_async(engine, integration, kind, on_progress))
    await listing.wait()
    meanwhile()
    return await asyncio.wait_for(run, within)


@pytest.mark.parametrize("stop", ["disabled", "deleted"])
def test_a_run_stops_once_its_integration_is_disabled_or_deleted(
    engine: Engine, integration: Integration, recru: Recru, monkeypatch: pytest.MonkeyPatch, stop: str
) -> None:
    monkeypatch.setattr(engine_module, "WATCH_EVERY", 0.2)
    recru.control("POST", "/faults", {"kind": "slow", "method": "ApplicationService.list", "delaySeconds": 3})

    def stop_it() -> None:
        with engine.begin() as conn:
            if stop == "disabled":
                set_integration_fields(conn, integration.id, enabled=False)
            else:
                delete_integration(conn, integration.id)

    result = asyncio.run(run_meanwhile(engine, integration, stop_it, 2.5))  # before RECRU's slow answer
    assert (result.state, result.errors[0]["message"]) == ("CANCELLED", f"the integration was {stop}")
    with engine.connect() as conn:
        runs = conn.execute(select(tables.syncs.c.state).where(tables.syncs.c.id == result.sync_id)).scalars()
        finished = conn.execute(
            select(tables.webhook_outbox.c.payload).where(tables.webhook_outbox.c.type == "sync-finished")
        ).scalars()
        assert list(runs) == ([] if stop == "deleted" else ["CANCELLED"])
        assert [event["sync_state"] for event in finished] == ([] if stop == "deleted" else ["CANCELLED"])


@pytest.mark.parametrize("tracked_before", [True, False], ids=["everything served now", "only created ones now"])
def test_a_run_stops_when_its_setting_changes_and_a_sync_is_queued_again(
    engine: Engine, integration: Integration, recru: Recru, monkeypatch: pytest.MonkeyPatch, tracked_before: bool
) -> None:
    """A run reads what "sync only created applications" said when it started: switched meanwhile, it stops
    (CANCELLED, saying why) and a sync is queued again, a FULL where everything RECRU holds is now served (the
    settings route's FULL was that very run: a client got ``already_queued``, and nothing would have come)."""
    monkeypatch.setattr(engine_module, "WATCH_EVERY", 0.2)
    with engine.begin() as conn:
        set_integration_fields(conn, integration.id, sync_only_created_applications=tracked_before)
    recru.control("POST", "/faults", {"kind": "slow", "method": "ProjectService.list", "delaySeconds": 3})

    def switch() -> None:
        with engine.begin() as conn:
            apply_settings(conn, integration.id, sync_only_created_applications=not tracked_before)

    switched_while_it_runs = run_meanwhile(
        engine, integration, switch, 2.5, kind="DELTA", once_listed=ModelName.USERS
    )  # within 2.5 s: before RECRU's slow answer
    result = asyncio.run(switched_while_it_runs)
    assert (result.state, result.errors) == ("CANCELLED", [{"level": "info", "message": SETTINGS_CHANGED, "count": 1}])
    assert queued_types(engine, integration.id) == ["FULL" if tracked_before else "DELTA"]


def test_a_run_ending_before_it_sees_everything_is_now_served_leaves_a_full_queued(
    engine: Engine, integration: Integration, sync: Sync, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run of the "only created applications" mode that succeeds before its watch looks, though the setting was
    switched meanwhile (the route's FULL was that run): a FULL is queued, and the run leaves no watermark (a DELTA
    would otherwise list only what changed since, and the rest wait for the scheduled FULL)."""
    with engine.begin() as conn:
        set_integration_fields(conn, integration.id, sync_only_created_applications=True)
    assert sync("FULL").state == "SUCCEEDED"
    monkeypatch.setattr(engine_module, "WATCH_EVERY", 3600)
    switched: list[bool] = []

    def switch_once(model: ModelName, done: int, total: int | None) -> None:
        if not switched:
            with engine.begin() as conn:
                apply_settings(conn, integration.id, sync_only_created_applications=False)
            switched.append(True)

    result = sync("FULL", progress=switch_once)
    assert result.state == "SUCCEEDED"
    assert queued_types(engine, integration.id) == ["FULL"]
    with engine.connect() as conn:
        now = conn.execute(
            select(tables.integrations.c.delta_watermark).where(tables.integrations.c.id == integration.id)
        ).scalar_one()
        assert now is None


def test_a_run_failing_on_credentials_replaced_while_it_ran_is_queued_again(
    engine: Engine, integration: Integration, recru: Recru, recru_process: EmulatorProcess, sync: Sync
) -> None:
    """A relink while a run of the integration runs is handed that run (``already_queued``); once the API user's
    password changed, that run fails on the older login: a run of its type is queued again, on the new one."""
    assert sync("FULL").state == "SUCCEEDED"
    api_user = next(u for u in recru.all("users") if u["email"] == recru_process.login)

    def relink() -> None:
        recru.patch("users", api_user["id"], password="a-new-password-1")
        recru.control("POST", "/tokens/expire")  # the run must log in again: with the older password
        with engine.begin() as conn:
            reconnect(conn, KEY, integration.id, RecruCredentials(recru_process.login, "a-new-password-1"))

    try:
        relinked_while_it_runs = run_meanwhile(
            engine, integration, relink, None, kind="DELTA", once_listed=ModelName.USERS
        )
        result = asyncio.run(relinked_while_it_runs)
    finally:
        recru.patch("users", api_user["id"], password=recru_process.password)
    assert result.state == "FAILED"
    assert queued_types(engine, integration.id) == ["DELTA"]


def queued_types(engine: Engine, integration_id: str) -> list[str]:
    """The types of the integration's queued syncs."""
    with engine.connect() as conn:
        query = select(tables.syncs.c.type).where(
            tables.syncs.c.integration_id == integration_id, tables.syncs.c.state == "QUEUED"
        )
        return list(conn.execute(query).scalars())


@pytest.mark.parametrize("noticed", [True, False], ids=["noticed by its watch", "ending before its watch looks"])
def test_a_run_given_up_for_dead_that_goes_on_stops_and_records_nothing(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync, monkeypatch: pytest.MonkeyPatch, noticed: bool
) -> None:
    """Its process was stopped (SIGSTOP, a frozen VM) long enough for another to mark it FAILED and maybe start
    another run; once it goes on it must neither go on beside that one, nor tombstone, nor write its end over the
    FAILED."""
    assert sync("FULL").state == "SUCCEEDED"
    monkeypatch.setattr(engine_module, "WATCH_EVERY", 0.2 if noticed else 3600)
    recru.control("POST", "/faults", {"kind": "slow", "method": "ApplicationService.list", "delaySeconds": 2})
    stored_before = {row.remote_id for row in live(engine, tables.candidates, integration.id)}
    recru.delete("jobseekers", recru.all("jobseekers")[0]["id"])  # a deletion this run must not carry out

    def give_it_up() -> None:
        with engine.begin() as conn:  # as abandon_stale does, seeing no heartbeat
            conn.execute(
                update(tables.syncs)
                .where(tables.syncs.c.integration_id == integration.id, tables.syncs.c.state == "RUNNING")
                .values(state="FAILED", errors=[run_note(PROCESS_GONE)])
            )

    # noticed: before RECRU's slow answer comes
    result = asyncio.run(run_meanwhile(engine, integration, give_it_up, 1.5 if noticed else 60))
    assert (result.state, result.errors[0]["message"]) == ("FAILED", RUN_ABANDONED)
    with engine.connect() as conn:
        run = conn.execute(select(tables.syncs).where(tables.syncs.c.id == result.sync_id)).one()
        finished = conn.execute(
            select(tables.webhook_outbox.c.payload["sync_id"]).where(tables.webhook_outbox.c.type == "sync-finished")
        ).scalars()
        assert result.sync_id not in list(finished)  # told by whoever gave it up, not twice
    assert (run.state, run.errors) == ("FAILED", [run_note(PROCESS_GONE)])  # what gave it up wrote, kept
    assert {row.remote_id for row in live(engine, tables.candidates, integration.id)} == stored_before


@pytest.mark.parametrize("goes_on", ["later", "before the give-up is committed"])
def test_a_run_given_up_for_dead_while_it_holds_rows_does_not_hold_up_the_next(
    engine: Engine,
    integration: Integration,
    recru: Recru,
    sync: Sync,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    goes_on: str,
) -> None:
    """PostgreSQL: a run's process stopped in the middle of its writes (SIGSTOP, a frozen VM) keeps the rows it wrote
    locked, whatever the server's timeouts; once another process gives the run up for dead, it ends the run's store
    session, so the run after it writes those rows at once, and the stopped run, going on (even while the process
    giving it up has not committed yet), records nothing and is no "unexpected" failure."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite: a stopped process keeps the store's write lock (documented)")
    assert sync("FULL").state == "SUCCEEDED"
    jobseeker = recru.all("jobseekers")[0]
    recru.patch("jobseekers", jobseeker["id"], lastName="Zastavený")
    monkeypatch.setattr(engine_module, "WATCH_EVERY", 3600)  # it learns of it by its failing store, as a stopped one
    holding, go_on = threading.Event(), threading.Event()
    write_batch = engine_module.write_batch

    def stopped_once_written(conn: Connection, records: Any, *args: Any, **kwargs: Any) -> Any:
        written = write_batch(conn, records, *args, **kwargs)
        if records.table is tables.candidates and not holding.is_set():
            holding.set()
            go_on.wait(60)
        return written

    monkeypatch.setattr(engine_module, "write_batch", stopped_once_written)
    stopped_result: list[SyncResult] = []
    stopped = threading.Thread(
        target=lambda: stopped_result.append(asyncio.run(run_async(engine, integration, "FULL")))
    )
    stopped.start()
    try:
        assert holding.wait(30)
        with engine.begin() as conn:  # minutes later, no heartbeat
            fail_stale_runs(conn, integration.id, datetime.now(UTC) + STALE_AFTER + timedelta(seconds=1))
            if goes_on != "later":
                go_on.set()
                time.sleep(1)  # its store fails at once: it must still learn it was given up
        with engine.connect() as conn:  # a writer of its rows is not held up: fails within 10 s, if it were
            conn.execute(text("SET lock_timeout = '10s'"))
            conn.execute(
                update(tables.candidates)
                .where(tables.candidates.c.remote_id == str(jobseeker["id"]))
                .values(last_name="Zastavený")
            )
            conn.commit()
        after = sync("FULL")
    finally:
        go_on.set()
        stopped.join(60)
    assert after.state == "SUCCEEDED", after.errors
    assert [(r.state, r.errors[0]["message"]) for r in stopped_result] == [("FAILED", RUN_ABANDONED)]
    assert "failed unexpectedly" not in caplog.text
    stored = {row.remote_id: row.last_name for row in live(engine, tables.candidates, integration.id)}
    assert stored[str(jobseeker["id"])] == "Zastavený"
