"""Write-through: what an action created is in the store when its answer arrives, exactly as a sync would have
stored it, so a following sync changes nothing; and "sync only created applications" serves just those."""

from __future__ import annotations

import asyncio
from datetime import datetime
from functools import partial
from typing import Any

import pytest
from sqlalchemy import func, select

from atsbridge.connectors.recru.client import RecruClient
from atsbridge.store import tables
from atsbridge.store.integrations import tracked_application_ids
from atsbridge.unified.ids import ModelName
from integration.actions.conftest import ActionWorld, candidate

WRITTEN = (
    ModelName.CANDIDATES,
    ModelName.APPLICATIONS,
    ModelName.CANDIDATES_TAGS,
    ModelName.TAGS,
    ModelName.JOBS,
    ModelName.JOBS_APPLICATION_STAGES,
)


def instant(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def test_created_records_are_served_at_once_and_a_full_sync_changes_nothing(world: ActionWorld) -> None:
    world.sync("FULL")  # settle what earlier tests changed in RECRU behind the store's back
    job = world.open_job()
    department, location = (
        next(iter(world.recru.codebook("departments"))),
        next(iter(world.recru.codebook("locations"))),
    )
    unsynced_job = world.new_project(departmentId=department, locationIds=[location])
    tag = world.recru.create("tags", name=f"Write-through {world.recru_totals()[0]}")
    existing = world.existing_jobseeker(currentPosition="Skladník")
    ats = world.kombo().ats
    new = ats.create_application(job_id=f"remote:{unsynced_job['id']}", candidate=candidate(title="Řidič")).data
    attached = ats.create_application(
        job_id=f"remote:{job['id']}", candidate=candidate(email_address=existing["emails"][0]["value"])
    ).data
    legacy = ats.create_candidate(candidate=candidate(), application={"job_id": f"remote:{job['id']}"}).data
    ats.add_candidate_tag(candidate_id=legacy.id, tag={"name": tag["name"]})

    served: dict[str, dict[str, Any]] = {}
    for data in (new, attached):
        application = world.read("applications", data.id)
        assert application is not None
        assert (application["candidate_id"], application["job_id"]) == (data.candidate.id, data.job_id)
        assert application["current_stage"]["id"] == data.current_stage_id
        assert instant(application["changed_at"]) == data.changed_at
        person = world.read("candidates", data.candidate.id)
        assert person is not None
        assert [a["id"] for a in person["applications"]] == [data.id]
        assert instant(person["changed_at"]) == data.candidate.changed_at
        served |= {data.id: application, data.candidate.id: person}
    assert served[attached.candidate.id]["title"] == "Skladník"
    job_served = world.read("jobs", new.job_id)
    assert job_served is not None and job_served["department"] is not None and job_served["location"] is not None
    served[new.job_id] = job_served
    legacy_served = world.read("candidates", legacy.id)
    assert legacy_served is not None
    assert [a["id"] for a in legacy_served["applications"]] == [legacy.applications[0].id]
    assert legacy_served["tags"] == [
        {"id": world.id_of(ModelName.TAGS, tag["id"]), "name": tag["name"], "remote_id": str(tag["id"])}
    ]
    served[legacy.id] = legacy_served

    result = world.sync("FULL")

    for model in WRITTEN:
        counts = result.counts[model.value]
        assert (counts["created"], counts["updated"], counts["deleted"]) == (0, 0, 0), (model, counts)
    for record_id, before in served.items():
        model = "applications" if "candidate_id" in before else "jobs" if "stages" in before else "candidates"
        assert world.read(model, record_id) == before


def test_sync_only_created_applications_serves_just_those_and_follows_their_changes(world: ActionWorld) -> None:
    tracked = world.tracked
    job, other_job = world.open_job(min_stages=3), world.new_project()
    existing = world.existing_jobseeker()
    elsewhere = world.recru.create("applications", jobseekerId=existing["id"], projectId=other_job["id"])
    ats = world.kombo(tracked).ats
    created = [
        ats.create_application(job_id=f"remote:{job['id']}", candidate=candidate(email_address=email)).data
        for email in (existing["emails"][0]["value"], candidate()["email_address"])
    ]

    with world.engine.connect() as conn:
        tracked_ids = set(tracked_application_ids(conn, tracked.id))
    assert {c.remote_id for c in created} <= tracked_ids
    applications = world.served("applications", tracked)
    assert {a.remote_id for a in applications} == tracked_ids
    assert str(elsewhere["id"]) not in tracked_ids
    people = {c.remote_id: c for c in world.served("candidates", tracked)}
    assert set(people) == {a.candidate.remote_id for a in applications}
    assert [a.remote_id for a in people[str(existing["id"])].applications] == [created[0].remote_id]

    stage = job["stageIds"][2]
    world.recru.patch("applications", int(created[1].remote_id), stageId=stage)
    world.sync_tracked("DELTA")
    moved = world.read("applications", created[1].id, tracked)
    assert moved is not None
    assert moved["current_stage"]["remote_id"] == str(stage)


def test_with_sync_only_created_applications_off_everything_is_served(world: ActionWorld) -> None:
    world.sync("FULL")
    assert {a.remote_id for a in world.served("applications")} == {
        str(a["id"]) for a in world.recru.all("applications")
    }
    assert {c.remote_id for c in world.served("candidates")} == {str(j["id"]) for j in world.recru.all("jobseekers")}


def test_an_action_queues_data_changed_for_what_it_changed(world: ActionWorld) -> None:
    outbox = tables.webhook_outbox
    with world.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(outbox)).scalar_one()
    job = world.open_job()
    world.kombo().ats.create_application(job_id=f"remote:{job['id']}", candidate=candidate())
    with world.engine.connect() as conn:
        events = list(
            conn.execute(select(outbox.c.type, outbox.c.payload).order_by(outbox.c.created_at).offset(before))
        )
    assert [event.type for event in events] == ["data-changed"]
    changed = {model["name"] for model in events[0].payload["changed_models"]}
    assert {"ats_candidates", "ats_applications"} <= changed
    assert events[0].payload["integration_id"] == world.integration.id


def test_stages_tags_and_users_recru_made_since_the_sync_are_stored_with_what_refers_to_them(
    world: ActionWorld,
) -> None:
    job = world.open_job()
    stage = world.recru.create("stages", name=f"Assessment {world.recru_totals()[1]}", active=True)
    tag = world.recru.create("tags", name=f"Fresh {world.recru_totals()[1]}")
    user = world.recru.create("users", firstName="Nová", lastName="Náborářka", role="recruiter")
    team = [*job["hiringTeam"], {"userId": user["id"], "role": "recruiter"}]
    world.recru.patch("projects", job["id"], stageIds=[*job["stageIds"], stage["id"]], hiringTeam=team)
    person = world.existing_jobseeker(tagIds=[tag["id"]])

    data = (
        world.kombo()
        .ats.create_application(
            job_id=f"remote:{job['id']}",
            stage_id=f"remote:{stage['id']}",
            candidate=candidate(email_address=person["emails"][0]["value"]),
        )
        .data
    )
    assert data.current_stage is not None
    assert (data.current_stage.remote_id, data.current_stage.name) == (str(stage["id"]), stage["name"])
    assert [t.remote_id for t in data.candidate.tags] == [str(tag["id"])]
    served_job = world.read("jobs", data.job_id)
    assert served_job is not None
    assert served_job["stages"][-1]["remote_id"] == str(stage["id"])
    assert served_job["stages"][-1]["index"] == len(job["stageIds"])
    assert str(user["id"]) in {member["remote_id"] for member in served_job["hiring_team"]}
    served_stage = world.read("application-stages", world.id_of(ModelName.APPLICATION_STAGES, stage["id"]))
    assert served_stage is not None and served_stage["name"] == stage["name"]


def test_a_sync_does_not_undo_an_action_recru_answered_after_the_syncs_page(
    world: ActionWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RECRU answers a sync's page, then an action changes one of its records (and writes it through) before the
    sync writes the page: the sync's older copy must not replace the newer one."""
    person = world.existing_jobseeker()
    world.sync("DELTA")
    tag = next(t for t in world.recru.call("TagService.list")["items"] if t["id"] not in person["tagIds"])
    candidate_id = world.id_of(ModelName.CANDIDATES, person["id"])
    listed = RecruClient.call
    acted: list[str] = []

    async def tag_added_while_the_page_travels(self: RecruClient, method: str, *args: Any, **kwargs: Any) -> Any:
        result = await listed(self, method, *args, **kwargs)
        if method == "JobseekerService.list" and not acted and person["id"] in {j["id"] for j in result["items"]}:
            acted.append(method)
            add = partial(world.kombo().ats.add_candidate_tag, candidate_id=candidate_id, tag={"name": tag["name"]})
            await asyncio.to_thread(add)
        return result

    monkeypatch.setattr(RecruClient, "call", tag_added_while_the_page_travels)
    world.sync("DELTA")
    assert acted, "the action ran while the page was on its way"
    served = world.read("candidates", candidate_id)
    assert served is not None
    assert tag["id"] in world.recru.call("JobseekerService.get", {"id": person["id"]})["tagIds"]
    assert str(tag["id"]) in {t["remote_id"] for t in served["tags"]}
    recru_updated_at = world.recru.call("JobseekerService.get", {"id": person["id"]})["updatedAt"]
    assert instant(served["remote_updated_at"]) == instant(recru_updated_at)
