"""§3, §8, §9: what moves ``updatedAt`` (on a frozen tenant clock), deletions and their cascades."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from .conftest import (
    APPLICATIONS,
    FROZEN,
    JOBSEEKERS,
    PROJECTS,
    USERS,
    Api,
    Entity,
    attachment,
    jobseeker_input,
    ts_add,
)

T1, T2, T3 = (ts_add(FROZEN, 60 * n) for n in (1, 2, 3))


@pytest.fixture
def frozen(api: Api) -> Api:
    api.freeze(FROZEN)
    return api


def other_user(api: Api) -> dict[str, Any]:
    return next(u for u in api.walk(USERS) if u["email"].lower() != api.login_name.lower())


@pytest.mark.parametrize(
    ("entity", "change"),
    [
        (JOBSEEKERS, {"lastName": "Dvořáková"}),
        (JOBSEEKERS, {"gdprConsent": {"given": True, "givenAt": "2029-12-01T10:00:00Z", "expiresAt": "2032-01-01"}}),
        (PROJECTS, {"name": "Lagerlogistiker (m/w/d)"}),
        (USERS, {"lastName": "Schröder"}),
        (APPLICATIONS, {"status": "withdrawn"}),
    ],
    ids=["jobseeker", "consent", "project", "user", "application"],
)
def test_own_field_change_moves_updated_at(frozen: Api, entity: Entity, change: dict[str, Any]) -> None:
    api = frozen
    items = api.walk(entity)
    if entity is USERS:
        items = [other_user(api), *items]
    target = next(i for i in items if any(i[k] != v for k, v in change.items()))
    bystander = next(i for i in reversed(items) if i["id"] != target["id"])
    api.advance(60)
    patched = api.patch(entity.control, target["id"], **change)
    record = api.get(entity, target["id"])
    assert patched == record
    assert {k: record[k] for k in change} == change
    assert (record["createdAt"], record["updatedAt"]) == (target["createdAt"], T1)
    assert api.get(entity, bystander["id"]) == bystander


def test_tags_move_the_jobseeker_but_a_no_op_does_not(frozen: Api) -> None:
    api = frozen
    jobseeker = api.walk(JOBSEEKERS)[0]
    tag = next(t["id"] for t in api.items("TagService.list") if t["id"] not in jobseeker["tagIds"])
    params = {"jobseekerId": jobseeker["id"], "tagId": tag}

    def step(method: str, present: bool, updated_at: str) -> None:
        api.advance(60)
        result = api.call(f"JobseekerService.{method}", params)
        assert set(result) == {"jobseekerId", "tagIds"}
        assert result["jobseekerId"] == jobseeker["id"]
        assert sorted(result["tagIds"]) == sorted(set(jobseeker["tagIds"]) | ({tag} if present else set()))
        record = api.get(JOBSEEKERS, jobseeker["id"])
        assert (sorted(record["tagIds"]), record["updatedAt"]) == (sorted(result["tagIds"]), updated_at)

    step("addTag", True, T1)
    step("addTag", True, T1)  # already there: nothing moves
    step("removeTag", False, T3)
    step("removeTag", False, T3)


def test_creating_an_application_does_not_move_the_jobseeker(frozen: Api) -> None:
    api = frozen
    jid = api.new_jobseeker()
    project = api.open_project()
    api.advance(60)
    result = api.call("ApplicationService.create", {"projectId": project["id"], "jobseekerId": jid})
    assert result["createdAt"] == T1
    app = api.get(APPLICATIONS, result["id"])
    assert (app["createdAt"], app["updatedAt"]) == (T1, T1)
    assert api.get(JOBSEEKERS, jid)["updatedAt"] == FROZEN
    existing = api.walk(JOBSEEKERS)[0]
    api.call("ApplicationService.create", {"projectId": project["id"], "jobseekerId": existing["id"]})
    assert api.get(JOBSEEKERS, existing["id"]) == existing


@pytest.mark.parametrize(
    "extra",
    [
        {"source": {"name": "Jobmesse Brno"}},
        {"gdprConsent": {"given": True, "expiresAt": "2031-06-30"}},
        {"attachments": [attachment()]},
    ],
    ids=["source", "consent", "attachment"],
)
def test_writes_on_the_jobseeker_in_an_application_move_it(frozen: Api, extra: dict[str, Any]) -> None:
    api = frozen
    jid = api.new_jobseeker()
    project = api.open_project()
    api.advance(60)
    api.call("ApplicationService.create", {"projectId": project["id"], "jobseekerId": jid, **extra})
    jobseeker = api.get(JOBSEEKERS, jid)
    assert jobseeker["updatedAt"] == T1
    for item in api.items("AttachmentService.list", {"jobseekerId": jid}):
        assert item["createdAt"] == T1
    if "gdprConsent" in extra:
        assert jobseeker["gdprConsent"] == {"given": True, "givenAt": T1, "expiresAt": "2031-06-30"}


@pytest.mark.parametrize("change", ["hiringTeam", "stageIds"])
def test_project_team_and_pipeline_move_the_project(frozen: Api, change: str) -> None:
    api = frozen
    project = next(p for p in api.walk(PROJECTS) if len(p["stageIds"]) >= 2)
    user = other_user(api)
    value: Any = (
        [m for m in project["hiringTeam"] if m["userId"] != user["id"]]
        + [{"userId": user["id"], "role": "interviewer"}]
        if change == "hiringTeam"
        else project["stageIds"][1:] + project["stageIds"][:1]
    )
    api.advance(60)
    api.patch("projects", project["id"], **{change: value})
    record = api.get(PROJECTS, project["id"])
    assert (record[change], record["updatedAt"]) == (value, T1)


# --- deletions ---------------------------------------------------------------------------------------------------


def ids(items: list[dict[str, Any]]) -> set[int]:
    return {i["id"] for i in items}


def test_deleting_a_jobseeker_cascades(api: Api) -> None:
    apps = api.walk(APPLICATIONS)
    jid = Counter(a["jobseekerId"] for a in apps).most_common(1)[0][0]
    project = api.open_project()
    tag = api.items("TagService.list")[0]["id"]
    api.call("JobseekerService.addTag", {"jobseekerId": jid, "tagId": tag})
    app = api.call(
        "ApplicationService.create", {"projectId": project["id"], "jobseekerId": jid, "attachments": [attachment()]}
    )
    files = api.items("AttachmentService.list", {"jobseekerId": jid})
    own_apps = {a["id"] for a in apps if a["jobseekerId"] == jid} | {app["id"]}
    email = api.get(JOBSEEKERS, jid)["emails"][0]["value"]
    total, app_total = api.total(JOBSEEKERS), api.total(APPLICATIONS)

    api.delete("jobseekers", jid)

    assert api.error("JobseekerService.get", {"id": jid}, -32004)["data"] == {"entity": "jobseeker", "id": jid}
    assert jid not in ids(api.walk(JOBSEEKERS))
    assert api.total(JOBSEEKERS) == total - 1
    assert not own_apps & ids(api.walk(APPLICATIONS))
    assert api.total(APPLICATIONS) == app_total - len(own_apps)
    for aid in own_apps:
        assert api.error("ApplicationService.get", {"id": aid}, -32004)["data"] == {"entity": "application", "id": aid}
    assert files
    for f in files:
        api.error("AttachmentService.download", {"id": f["id"]}, -32004)
    api.error("AttachmentService.list", {"jobseekerId": jid}, -32004)
    api.error("JobseekerService.addTag", {"jobseekerId": jid, "tagId": tag}, -32004)
    api.error("ApplicationService.create", {"projectId": project["id"], "jobseekerId": jid}, -32004)
    assert api.walk(JOBSEEKERS, email=email) == []
    api.new_jobseeker(jobseeker=jobseeker_input(emails=[{"value": email, "type": "work", "primary": True}]))
    api.ctl("DELETE", f"/records/jobseekers/{jid}", None, 404)


def test_deleting_an_application(api: Api) -> None:
    apps = api.walk(APPLICATIONS)
    victim = apps[len(apps) // 2]
    jobseeker = api.get(JOBSEEKERS, victim["jobseekerId"])
    api.delete("applications", victim["id"])
    assert api.error("ApplicationService.get", {"id": victim["id"]}, -32004)["data"]["entity"] == "application"
    assert api.walk(APPLICATIONS) == [a for a in apps if a["id"] != victim["id"]]
    assert api.get(JOBSEEKERS, jobseeker["id"]) == jobseeker


def test_deleting_a_project_cascades(api: Api) -> None:
    apps = api.walk(APPLICATIONS)
    pid = Counter(a["projectId"] for a in apps).most_common(1)[0][0]
    own_apps = {a["id"] for a in apps if a["projectId"] == pid}
    api.delete("projects", pid)
    assert api.error("ProjectService.get", {"id": pid}, -32004)["data"] == {"entity": "project", "id": pid}
    assert pid not in ids(api.walk(PROJECTS))
    remaining = api.walk(APPLICATIONS)
    assert ids(remaining) == ids(apps) - own_apps
    for aid in list(own_apps)[:5]:
        api.error("ApplicationService.get", {"id": aid}, -32004)
    error = api.error("ApplicationService.create", {"projectId": pid, "jobseeker": jobseeker_input()}, -32004)
    assert error["data"] == {"entity": "project", "id": pid}


def test_deleting_a_tag_unlinks_it_and_moves_those_jobseekers(frozen: Api) -> None:
    api = frozen
    jobseekers = api.walk(JOBSEEKERS)
    tag = Counter(t for j in jobseekers for t in j["tagIds"]).most_common(1)[0][0]
    api.advance(60)
    api.delete("tags", tag)
    assert tag not in ids(api.items("TagService.list"))
    after = {j["id"]: j for j in api.walk(JOBSEEKERS)}
    for before in jobseekers:
        now = after[before["id"]]
        if tag in before["tagIds"]:
            assert now["tagIds"] == [t for t in before["tagIds"] if t != tag]
            assert now["updatedAt"] == T1
        else:
            assert now == before
    jid = jobseekers[0]["id"]
    for method in ("addTag", "removeTag"):
        error = api.error(f"JobseekerService.{method}", {"jobseekerId": jid, "tagId": tag}, -32004)
        assert error["data"] == {"entity": "tag", "id": tag}


def test_deleting_a_user_clears_references_and_moves_those_records(api: Api) -> None:
    user = other_user(api)
    uid = user["id"]
    jobseeker = api.walk(JOBSEEKERS)[0]
    project = api.walk(PROJECTS)[0]
    api.patch("jobseekers", jobseeker["id"], ownerUserId=uid)
    team = [m for m in project["hiringTeam"] if m["userId"] != uid] + [{"userId": uid, "role": "interviewer"}]
    api.patch("projects", project["id"], hiringTeam=team)
    jobseekers, projects = api.walk(JOBSEEKERS), api.walk(PROJECTS)
    api.freeze(FROZEN)
    api.delete("users", uid)

    assert api.error("UserService.get", {"id": uid}, -32004)["data"] == {"entity": "user", "id": uid}
    assert uid not in ids(api.walk(USERS))
    after = {j["id"]: j for j in api.walk(JOBSEEKERS)}
    for before in jobseekers:
        if before["ownerUserId"] == uid:
            assert after[before["id"]] == {**before, "ownerUserId": None, "updatedAt": FROZEN}
        else:
            assert after[before["id"]] == before
    after = {p["id"]: p for p in api.walk(PROJECTS)}
    for before in projects:
        if uid in {m["userId"] for m in before["hiringTeam"]}:
            team = [m for m in before["hiringTeam"] if m["userId"] != uid]
            assert after[before["id"]] == {**before, "hiringTeam": team, "updatedAt": FROZEN}
        else:
            assert after[before["id"]] == before


def test_deleting_a_stage_in_a_pipeline_is_refused(api: Api) -> None:
    stages = api.items("StageService.list")
    project = api.walk(PROJECTS)[0]
    api.ctl("DELETE", f"/records/stages/{project['stageIds'][0]}", None, 409)
    assert api.items("StageService.list") == stages
    assert api.get(PROJECTS, project["id"]) == project


def test_deleting_a_stage_used_by_an_application_is_refused(api: Api) -> None:
    stage = api.create("stages", name="Assessment Center", kind="regular")
    project = api.open_project()
    api.patch("projects", project["id"], stageIds=[stage["id"], *project["stageIds"]])
    app = api.call("ApplicationService.create", {"projectId": project["id"], "jobseeker": jobseeker_input()})
    assert api.get(APPLICATIONS, app["id"])["stageId"] == stage["id"]
    api.patch("projects", project["id"], stageIds=project["stageIds"])
    stages = api.items("StageService.list")
    api.ctl("DELETE", f"/records/stages/{stage['id']}", None, 409)
    assert api.items("StageService.list") == stages
    assert api.get(APPLICATIONS, app["id"])["stageId"] == stage["id"]


def test_deleting_an_unused_stage(api: Api) -> None:
    stage = api.create("stages", name="Probearbeit")
    assert stage in api.items("StageService.list")
    api.delete("stages", stage["id"])
    assert stage["id"] not in ids(api.items("StageService.list"))
    api.ctl("DELETE", f"/records/stages/{stage['id']}", None, 404)


def test_deleting_a_source_deactivates_it(api: Api) -> None:
    holder = next(j for j in api.walk(JOBSEEKERS) if j["source"])
    sid = holder["source"]["id"]
    before = api.codebook("jobseekerSources")
    api.delete("sources", sid)
    after = api.codebook("jobseekerSources")
    assert after == [{**e, "active": False} if e["id"] == sid else e for e in before]
    assert api.get(JOBSEEKERS, holder["id"])["source"] == holder["source"]


@pytest.mark.parametrize(
    ("entity", "codebook", "holders"),
    [
        ("departments", "departments", PROJECTS),
        ("locations", "locations", PROJECTS),
        ("rejectionReasons", "rejectionReasons", APPLICATIONS),
    ],
)
def test_a_codebook_entry_deleted_or_renamed_changes_no_record_naming_it(
    api: Api, entity: str, codebook: str, holders: Entity
) -> None:
    """Records name codebook entries by id: deleting one deactivates it (§2), renaming it leaves their `updatedAt`."""
    before = api.codebook(codebook)
    records = api.walk(holders)
    entry_id = before[0]["id"]
    assert api.patch(entity, entry_id, name="Přejmenováno")["name"] == "Přejmenováno"
    api.delete(entity, entry_id)
    renamed = {**before[0], "name": "Přejmenováno", "active": False}
    assert api.codebook(codebook) == [renamed, *before[1:]]
    assert api.walk(holders) == records


def test_renaming_a_source_renames_it_on_its_jobseekers_and_moves_them(frozen: Api) -> None:
    api = frozen
    jobseekers = api.walk(JOBSEEKERS)
    sid = Counter(j["source"]["id"] for j in jobseekers if j["source"]).most_common(1)[0][0]
    api.advance(60)
    api.patch("sources", sid, name="Renamed Source")
    assert {"id": sid, "name": "Renamed Source", "active": True} in api.codebook("jobseekerSources")
    after = {j["id"]: j for j in api.walk(JOBSEEKERS)}
    for before in jobseekers:
        now = after[before["id"]]
        if before["source"] and before["source"]["id"] == sid:
            assert now == {**before, "source": {"id": sid, "name": "Renamed Source"}, "updatedAt": T1}
        else:
            assert now == before
    api.advance(60)
    api.patch("sources", sid, name="Renamed Source")
    assert api.walk(JOBSEEKERS) == list(after.values())


def test_closing_a_project_is_not_a_deletion(api: Api) -> None:
    project = next(p for p in api.walk(PROJECTS) if p["status"] == "open")
    api.patch("projects", project["id"], status="closed")
    assert api.get(PROJECTS, project["id"])["status"] == "closed"
    assert project["id"] in ids(api.walk(PROJECTS))
    assert project["id"] in ids(api.walk(PROJECTS, status="closed"))
    apps = [a for a in api.walk(APPLICATIONS) if a["projectId"] == project["id"]]
    assert apps == api.walk(APPLICATIONS, projectId=project["id"])


def test_deactivating_a_user_is_not_a_deletion(api: Api) -> None:
    user = other_user(api)
    api.patch("users", user["id"], active=False)
    assert api.get(USERS, user["id"])["active"] is False
    assert user["id"] in ids(api.walk(USERS))


@pytest.mark.parametrize("entity", ["jobseekers", "projects", "users", "tags", "stages"])
def test_ids_are_never_reused(api: Api, entity: str) -> None:
    first = api.create(entity)["id"]
    second = api.create(entity)["id"]
    api.delete(entity, second)
    api.delete(entity, first)
    assert api.create(entity)["id"] > second


def test_jobseeker_ids_are_never_reused_through_the_api(api: Api) -> None:
    last = api.walk(JOBSEEKERS)[-1]["id"]
    api.delete("jobseekers", last)
    first = api.new_jobseeker()
    assert first > last
    api.delete("jobseekers", first)
    assert api.new_jobseeker() > first
