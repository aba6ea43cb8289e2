"""'Sync only created applications': tracked applications and their candidates only; the rest in full."""

from __future__ import annotations

from sqlalchemy import Engine, delete

from atsbridge.store import tables
from atsbridge.store.integrations import apply_settings, load_integration, track_application
from integration.sync.conftest import Sync, make_integration
from integration.sync.parity import assert_parity, live
from support.emulator_process import EmulatorProcess
from support.recru import Recru


def test_tracked_mode_reads_only_tracked_applications_and_their_candidates(
    engine: Engine, recru: Recru, recru_process: EmulatorProcess, sync: Sync
) -> None:
    integration = make_integration(engine, recru_process, sync_all=False)
    applications = recru.all("applications")
    tracked = [a for a in applications if a["status"] == "active"][:2]
    with engine.begin() as conn:
        for application in tracked:
            track_application(conn, integration.id, str(application["id"]), str(application["jobseekerId"]))

    result = sync("FULL", integration=integration)
    assert result.state == "SUCCEEDED", result.errors

    def remote_ids(table: object) -> set[str]:
        return {row.remote_id for row in live(engine, table, integration.id)}

    assert remote_ids(tables.applications) == {str(a["id"]) for a in tracked}
    assert remote_ids(tables.candidates) == {str(a["jobseekerId"]) for a in tracked}
    assert len(remote_ids(tables.jobs)) == len(recru.all("projects"))
    assert len(remote_ids(tables.users)) == len(recru.all("users"))
    assert len(remote_ids(tables.tags)) == len(recru.all("tags"))

    moved, removed = tracked
    project = next(p for p in recru.all("projects") if p["id"] == moved["projectId"])
    new_stage = next(s for s in project["stageIds"] if s != moved["stageId"])
    recru.patch("applications", moved["id"], stageId=new_stage)
    recru.delete("applications", removed["id"])
    untracked = next(a for a in applications if a not in tracked)
    recru.patch("applications", untracked["id"], status="hired")
    recru.patch("jobseekers", untracked["jobseekerId"], currentPosition="Not ours")
    calls = recru.control("GET", "/counters")["calls"]

    delta = sync("DELTA", integration=integration)
    assert delta.state == "SUCCEEDED", delta.errors
    stored = {row.remote_id: row for row in live(engine, tables.applications, integration.id)}
    stage_remote_ids = {row.id: row.remote_id for row in live(engine, tables.application_stages, integration.id)}
    assert stage_remote_ids[stored[str(moved["id"])].current_stage_id] == str(new_stage)
    assert set(stored) == {str(a["id"]) for a in tracked}  # only what is tracked; deletions are FULL's to find
    assert remote_ids(tables.candidates) == {str(a["jobseekerId"]) for a in tracked}
    after = recru.control("GET", "/counters")["calls"]
    # what changed is listed: no read per tracked record, however many were ever created through us
    assert after.get("ApplicationService.get", 0) == calls.get("ApplicationService.get", 0)
    assert after.get("JobseekerService.get", 0) == calls.get("JobseekerService.get", 0)

    full = sync("FULL", integration=integration)
    assert full.state == "SUCCEEDED", full.errors
    assert remote_ids(tables.applications) == {str(moved["id"])}  # a tracked application RECRU no longer has
    assert full.counts["ats_applications"]["deleted"] == 1


def test_a_delta_stores_the_candidate_of_a_tracked_application_the_store_lacks(
    engine: Engine, recru: Recru, recru_process: EmulatorProcess, sync: Sync
) -> None:
    """Creating an application does not move its jobseeker's ``updatedAt``: a DELTA does not list an existing
    jobseeker, so the candidate of a newly tracked application is read by itself."""
    integration = make_integration(engine, recru_process, sync_all=False)
    assert sync("FULL", integration=integration).state == "SUCCEEDED"
    application = recru.all("applications")[0]
    with engine.begin() as conn:
        track_application(conn, integration.id, str(application["id"]), str(application["jobseekerId"]))
    recru.patch("applications", application["id"], status="hired")  # listed by the DELTA; its jobseeker is not

    result = sync("DELTA", integration=integration)
    assert result.state == "SUCCEEDED", result.errors
    assert [row.remote_id for row in live(engine, tables.applications, integration.id)] == [str(application["id"])]
    assert [row.remote_id for row in live(engine, tables.candidates, integration.id)] == [
        str(application["jobseekerId"])
    ]


def test_turning_tracked_mode_off_makes_the_next_delta_list_everything(
    engine: Engine, recru: Recru, recru_process: EmulatorProcess, sync: Sync
) -> None:
    integration = make_integration(engine, recru_process, sync_all=False)
    assert sync("FULL", integration=integration).state == "SUCCEEDED"
    assert live(engine, tables.candidates, integration.id) == []  # nothing tracked yet
    with engine.begin() as conn:
        apply_settings(conn, integration.id, sync_only_created_applications=False)
        switched = load_integration(conn, integration.id)
    assert switched is not None and switched.delta_watermark is None
    result = sync("DELTA", integration=switched)
    assert result.state == "SUCCEEDED", result.errors
    assert_parity(engine, integration.id, recru)


def test_a_tracked_candidate_deleted_in_recru_is_tombstoned_with_its_application(
    engine: Engine, recru: Recru, recru_process: EmulatorProcess, sync: Sync
) -> None:
    integration = make_integration(engine, recru_process, sync_all=False)
    application = recru.all("applications")[0]
    with engine.begin() as conn:
        track_application(conn, integration.id, str(application["id"]), str(application["jobseekerId"]))
    assert sync("FULL", integration=integration).state == "SUCCEEDED"
    assert [row.remote_id for row in live(engine, tables.candidates, integration.id)] == [
        str(application["jobseekerId"])
    ]
    recru.delete("jobseekers", application["jobseekerId"])  # its applications go with it
    result = sync("FULL", integration=integration)
    assert result.state == "SUCCEEDED", result.errors
    assert live(engine, tables.applications, integration.id) == []
    assert live(engine, tables.candidates, integration.id) == []
    assert (result.counts["ats_applications"]["deleted"], result.counts["ats_candidates"]["deleted"]) == (1, 1)
    asked_before = recru.control("GET", "/counters")["calls"].get("ApplicationService.get", 0)
    assert sync("FULL", integration=integration).state == "SUCCEEDED"  # deleted for good: not asked for again
    assert recru.control("GET", "/counters")["calls"].get("ApplicationService.get", 0) == asked_before


def test_a_delta_stores_a_tracked_application_recru_did_not_change_since(
    engine: Engine, recru: Recru, recru_process: EmulatorProcess, sync: Sync
) -> None:
    """Tracked after RECRU last changed it (its read-back failed while a sync was listing, say): no DELTA would list
    it, so it is read by itself."""
    integration = make_integration(engine, recru_process, sync_all=False)
    assert sync("FULL", integration=integration).state == "SUCCEEDED"
    assert sync("DELTA", integration=integration).state == "SUCCEEDED"  # the watermark is after its last change
    application = recru.all("applications")[0]
    with engine.begin() as conn:
        track_application(conn, integration.id, str(application["id"]), str(application["jobseekerId"]))

    assert sync("DELTA", integration=integration).state == "SUCCEEDED"
    assert [row.remote_id for row in live(engine, tables.applications, integration.id)] == [str(application["id"])]
    assert [row.remote_id for row in live(engine, tables.candidates, integration.id)] == [
        str(application["jobseekerId"])
    ]


def test_a_delta_stores_the_candidate_a_failed_run_left_out(
    engine: Engine, recru: Recru, recru_process: EmulatorProcess, sync: Sync
) -> None:
    """A run that failed between storing a tracked application and its candidate: no later DELTA lists the
    unchanged jobseeker, so it is read by itself."""
    integration = make_integration(engine, recru_process, sync_all=False)
    application = recru.all("applications")[0]
    with engine.begin() as conn:
        track_application(conn, integration.id, str(application["id"]), str(application["jobseekerId"]))
    assert sync("FULL", integration=integration).state == "SUCCEEDED"
    with engine.begin() as conn:  # as the failed run left it
        conn.execute(delete(tables.candidates_tags).where(tables.candidates_tags.c.integration_id == integration.id))
        conn.execute(delete(tables.candidates).where(tables.candidates.c.integration_id == integration.id))

    assert sync("DELTA", integration=integration).state == "SUCCEEDED"
    assert [row.remote_id for row in live(engine, tables.candidates, integration.id)] == [
        str(application["jobseekerId"])
    ]
