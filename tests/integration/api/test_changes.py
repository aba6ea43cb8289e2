"""What a client sees after changes in RECRU and a sync — ``updated_after`` with nested changes (unified-api §3),
deletions behind ``include_deleted``, the ``email`` filter through changes, deletion and anonymisation — and after
changes of the integration's settings: "sync only created applications", remote data."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from atsbridge.store import deletions, tables
from atsbridge.store.integrations import set_integration_fields, track_application
from integration.api.conftest import World, open_world
from support.recru import Recru


def by_remote_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["remote_id"]: r for r in records}


def instant(text: str | None) -> datetime:
    assert text is not None
    return datetime.fromisoformat(text)


def a_moment() -> datetime:
    """Now, strictly after anything written before (the store's marks come from the same clock)."""
    time.sleep(0.01)
    moment = datetime.now(UTC)
    time.sleep(0.01)
    return moment


def test_updated_after_follows_nested_changes_while_changed_at_stays(scratch: World) -> None:
    recru = scratch.recru
    candidates_before = by_remote_id(scratch.walk("/ats/candidates", page_size=250))
    projects = {p["id"]: p for p in recru.all("projects")}
    applications = recru.all("applications")
    jobseekers = recru.all("jobseekers")
    tags = [t["id"] for t in recru.all("tags")]
    since = a_moment()

    # an application moves to another stage: its candidate's nested data changes, the candidate's own does not
    moved = next(a for a in applications if a["status"] == "active")
    new_stage = next(s for s in projects[moved["projectId"]]["stageIds"] if s != moved["stageId"])
    recru.patch("applications", moved["id"], stageId=new_stage)
    # a tag is added to one candidate and removed from another
    tagged = next(j for j in jobseekers if len(j["tagIds"]) < len(tags) and j["id"] != moved["jobseekerId"])
    new_tag = next(t for t in tags if t not in tagged["tagIds"])
    recru.call("JobseekerService.addTag", {"jobseekerId": tagged["id"], "tagId": new_tag})
    untagged = next(j for j in jobseekers if j["tagIds"] and j["id"] not in (moved["jobseekerId"], tagged["id"]))
    recru.call("JobseekerService.removeTag", {"jobseekerId": untagged["id"], "tagId": untagged["tagIds"][0]})
    # a user joins a job's hiring team
    project = projects[moved["projectId"]]
    member = next(u for u in recru.all("users") if u["id"] not in {m["userId"] for m in project["hiringTeam"]})
    recru.patch(
        "projects", project["id"], hiringTeam=[*project["hiringTeam"], {"userId": member["id"], "role": "interviewer"}]
    )
    scratch.sync("DELTA")

    changed = by_remote_id(scratch.walk("/ats/candidates", page_size=250, updated_after=since.isoformat()))
    assert set(changed) == {str(moved["jobseekerId"]), str(tagged["id"]), str(untagged["id"])}
    nested_only = changed[str(moved["jobseekerId"])]
    assert nested_only["changed_at"] == candidates_before[str(moved["jobseekerId"])]["changed_at"]
    assert instant(nested_only["changed_at"]) < since
    moved_nested = next(a for a in nested_only["applications"] if a["remote_id"] == str(moved["id"]))
    assert moved_nested["current_stage"]["remote_id"] == str(new_stage)
    assert instant(moved_nested["changed_at"]) > since
    assert str(new_tag) in {t["remote_id"] for t in changed[str(tagged["id"])]["tags"]}
    assert str(untagged["tagIds"][0]) not in {t["remote_id"] for t in changed[str(untagged["id"])]["tags"]}

    # applications: the moved one, and those whose candidate's own fields changed (RECRU's updatedAt, a field of
    # the candidate, moves with a tag change)
    own_change = {c["id"] for c in changed.values() if instant(c["changed_at"]) > since}
    expected = {str(moved["id"])} | {
        a["remote_id"] for c in changed.values() if c["id"] in own_change for a in c["applications"]
    }
    got = scratch.walk("/ats/applications", page_size=250, updated_after=since.isoformat())
    assert {a["remote_id"] for a in got} == expected

    jobs = scratch.walk("/ats/jobs", updated_after=since.isoformat())
    assert [j["remote_id"] for j in jobs] == [str(project["id"])]
    assert str(member["id"]) in {m["remote_id"] for m in jobs[0]["hiring_team"]}
    assert scratch.walk("/ats/tags", updated_after=since.isoformat()) == []


def test_an_application_given_to_another_candidate_is_news_of_both(scratch: World) -> None:
    applications = scratch.recru.all("applications")
    jobs_of: dict[int, set[int]] = {}
    for application in applications:
        jobs_of.setdefault(application["jobseekerId"], set()).add(application["projectId"])
    moved = next(a for a in applications if len(jobs_of[a["jobseekerId"]]) > 1)
    taker = next(j for j, jobs in jobs_of.items() if moved["projectId"] not in jobs)
    since = a_moment()
    scratch.recru.patch("applications", moved["id"], jobseekerId=taker)
    scratch.sync("DELTA")

    changed = by_remote_id(scratch.walk("/ats/candidates", updated_after=since.isoformat()))
    assert set(changed) == {str(moved["jobseekerId"]), str(taker)}
    assert str(moved["id"]) not in {a["remote_id"] for a in changed[str(moved["jobseekerId"])]["applications"]}
    assert str(moved["id"]) in {a["remote_id"] for a in changed[str(taker)]["applications"]}


def test_a_deleted_application_stays_still_when_its_job_is_deleted_later(scratch: World) -> None:
    applications = scratch.recru.all("applications")
    gone = next(a for a in applications if sum(b["projectId"] == a["projectId"] for b in applications) > 1)
    scratch.recru.delete("applications", gone["id"])
    scratch.sync("FULL")
    since = a_moment()
    scratch.recru.delete("projects", gone["projectId"])
    scratch.sync("FULL")

    news = scratch.walk("/ats/applications", updated_after=since.isoformat(), include_deleted="true", page_size=250)
    cascaded = {str(a["id"]) for a in applications if a["projectId"] == gone["projectId"]} - {str(gone["id"])}
    assert {a["remote_id"] for a in news} == cascaded
    assert all(instant(a["remote_deleted_at"]) > since for a in news)


def test_updated_after_the_latest_changed_at_served_returns_only_what_changed_since(scratch: World) -> None:
    before = scratch.walk("/ats/candidates", page_size=250)
    latest = max(c["changed_at"] for c in before)
    assert sum(c["changed_at"] == latest for c in before) > 1  # written in one batch, in one instant
    assert scratch.walk("/ats/candidates", updated_after=latest) == []
    changed = before[0]
    scratch.recru.patch("jobseekers", int(changed["remote_id"]), currentPosition="Nová pozice")
    scratch.sync("DELTA")
    assert [c["id"] for c in scratch.walk("/ats/candidates", updated_after=latest)] == [changed["id"]]


def test_deleted_records_are_hidden_unless_include_deleted(scratch: World) -> None:
    recru = scratch.recru
    jobseekers = recru.all("jobseekers")
    applications = recru.all("applications")
    victim = next(j for j in jobseekers if j["tagIds"] and sum(a["jobseekerId"] == j["id"] for a in applications) > 1)
    victim_applications = {str(a["id"]) for a in applications if a["jobseekerId"] == victim["id"]}
    tag = next(t for t in recru.all("tags") if any(t["id"] in j["tagIds"] for j in jobseekers if j is not victim))
    formerly_tagged = {str(j["id"]) for j in jobseekers if tag["id"] in j["tagIds"] and j is not victim}
    since = a_moment()
    recru.delete("jobseekers", victim["id"])
    recru.delete("tags", tag["id"])
    scratch.sync("FULL")
    gone = {str(victim["id"])}

    visible = by_remote_id(scratch.walk("/ats/candidates", page_size=250))
    assert set(visible) == {str(j["id"]) for j in jobseekers} - gone
    everything = by_remote_id(scratch.walk("/ats/candidates", page_size=250, include_deleted="true"))
    assert set(everything) == {str(j["id"]) for j in jobseekers}
    assert instant(everything[str(victim["id"])]["remote_deleted_at"]) > since
    assert all(c["remote_deleted_at"] is None for remote, c in everything.items() if remote not in gone)

    assert not victim_applications & {a["remote_id"] for a in scratch.walk("/ats/applications", page_size=250)}
    with_deleted = by_remote_id(scratch.walk("/ats/applications", page_size=250, include_deleted="true"))
    for remote in victim_applications:
        assert instant(with_deleted[remote]["remote_deleted_at"]) > since
        assert with_deleted[remote]["job"]["id"] == with_deleted[remote]["job_id"]  # the job still exists
        assert with_deleted[remote]["candidate"] is None  # the deleted candidate is not nested

    assert str(tag["id"]) not in by_remote_id(scratch.walk("/ats/tags"))
    assert by_remote_id(scratch.walk("/ats/tags", include_deleted="true"))[str(tag["id"])]["remote_deleted_at"]
    for remote in formerly_tagged:  # nested lists show live links only
        assert str(tag["id"]) not in {t["remote_id"] for t in visible[remote]["tags"]}

    # tracking deletions: updated_after shows the deleted record only together with include_deleted
    changed = by_remote_id(scratch.walk("/ats/candidates", page_size=250, updated_after=since.isoformat()))
    assert set(changed) == formerly_tagged
    changed = scratch.walk("/ats/candidates", page_size=250, updated_after=since.isoformat(), include_deleted="true")
    assert {c["remote_id"] for c in changed} == formerly_tagged | gone

    # a deleted candidate's attachments are no longer served
    response = scratch.get(f"/ats/candidates/{everything[str(victim['id'])]['id']}/attachments")
    assert response.status_code == 404


def test_the_email_filter_follows_changes_deletion_and_anonymisation(scratch: World) -> None:
    recru = scratch.recru
    jobseekers = recru.all("jobseekers")
    several = next(j for j in jobseekers if len(j["emails"]) > 1)
    other = next(j for j in jobseekers if j["id"] != several["id"])
    first, second = (e["value"] for e in several["emails"][:2])

    def matched(email: str, **params: Any) -> set[str]:
        return {c["remote_id"] for c in scratch.walk("/ats/candidates", email=email, **params)}

    assert matched(second.upper()) == matched(f" {first.title()} ") == {str(several["id"])}

    # an address replaced in RECRU no longer matches, the new one does; a shared address matches both candidates
    recru.patch(
        "jobseekers", several["id"], emails=[several["emails"][0], {**several["emails"][1], "value": "NEW@X.test"}]
    )
    recru.patch(
        "jobseekers", other["id"], emails=[*other["emails"], {"value": first, "type": "work", "primary": False}]
    )
    scratch.sync("DELTA")
    assert matched(second) == set()
    assert matched("new@x.TEST") == {str(several["id"])}
    assert matched(first) == {str(several["id"]), str(other["id"])}

    # a deleted candidate is found only with include_deleted, and no longer once anonymised
    recru.delete("jobseekers", several["id"])
    scratch.sync("FULL")
    assert matched("new@x.test") == set()
    assert matched("new@x.test", include_deleted="true") == {str(several["id"])}
    with scratch.engine.begin() as conn:
        assert deletions.anonymise_expired(conn, now=datetime.now(UTC) + timedelta(days=15))
    assert matched("new@x.test", include_deleted="true") == set()
    assert matched(first, include_deleted="true") == {str(other["id"])}


def tracked_expectations(recru: Recru) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Two applications to track — one of a candidate with other applications — and that candidate."""
    applications = recru.all("applications")
    count: dict[int, int] = {}
    for a in applications:
        count[a["jobseekerId"]] = count.get(a["jobseekerId"], 0) + 1
    first = next(a for a in applications if count[a["jobseekerId"]] > 1)
    second = next(a for a in applications if a["jobseekerId"] != first["jobseekerId"])
    return [first, second], first


def assert_only_tracked_served(world: World, tracked: list[dict[str, Any]], shared: dict[str, Any]) -> None:
    applications = world.walk("/ats/applications", page_size=250)
    assert {a["remote_id"] for a in applications} == {str(a["id"]) for a in tracked}
    candidates = by_remote_id(world.walk("/ats/candidates", page_size=250))
    assert set(candidates) == {str(a["jobseekerId"]) for a in tracked}
    nested = candidates[str(shared["jobseekerId"])]["applications"]
    assert [a["remote_id"] for a in nested] == [str(shared["id"])]  # its untracked applications stay hidden
    assert len(world.walk("/ats/jobs")) == len(world.recru.all("projects"))  # the rest in full
    # a filter on applications does not reach the untracked ones either
    other_jobs = {
        str(a["projectId"])
        for a in world.recru.all("applications")
        if a["jobseekerId"] == shared["jobseekerId"] and a["id"] != shared["id"]
    }
    job_ids = [j["id"] for j in world.walk("/ats/jobs") if j["remote_id"] in other_jobs - {str(shared["projectId"])}]
    assert job_ids
    assert world.walk("/ats/candidates", job_ids=",".join(job_ids)) == []
    # nor are hidden records reached through their attachments or tags, by our id or by RECRU's
    served = candidates[str(shared["jobseekerId"])]
    assert world.get(f"/ats/candidates/{served['id']}/attachments").status_code == 200
    hidden_candidate = next(j["id"] for j in world.recru.all("jobseekers") if str(j["id"]) not in candidates)
    hidden_application = next(a for a in world.recru.all("applications") if a not in tracked)
    refs = [f"candidates/remote:{hidden_candidate}", f"applications/remote:{hidden_application['id']}"]
    with world.engine.connect() as conn:
        stored = conn.execute(
            select(tables.applications.c.id).where(tables.applications.c.remote_id == str(hidden_application["id"]))
        ).scalar()
    refs += [f"applications/{stored}"] if stored else []
    for ref in refs:
        assert world.get(f"/ats/{ref}/attachments").status_code == 404, ref
    tag = {"tag": {"name": world.recru.all("tags")[0]["name"]}}
    before = world.recru.call("JobseekerService.get", {"id": hidden_candidate})
    for method in ("POST", "DELETE"):
        response = world.request(method, f"/ats/candidates/remote:{hidden_candidate}/tags", json=tag)
        assert response.status_code == 404, response.text
    assert world.recru.call("JobseekerService.get", {"id": hidden_candidate}) == before


def test_sync_only_created_applications_serves_only_the_tracked_ones(
    engine: Engine, scratch_recru: Recru, tmp_path: Any
) -> None:
    tracked, shared = tracked_expectations(scratch_recru)
    with open_world(engine, scratch_recru.process, tmp_path, sync_all=False, synced=False) as world:
        with engine.begin() as conn:
            for application in tracked:
                track_application(conn, world.integration_id, str(application["id"]), str(application["jobseekerId"]))
        world.sync("FULL")
        assert_only_tracked_served(world, tracked, shared)


def test_switching_to_tracked_mode_hides_untracked_records_already_stored(scratch: World) -> None:
    tracked, shared = tracked_expectations(scratch.recru)
    with scratch.engine.begin() as conn:
        set_integration_fields(conn, scratch.integration_id, sync_only_created_applications=True)
        for application in tracked:
            track_application(conn, scratch.integration_id, str(application["id"]), str(application["jobseekerId"]))
    assert_only_tracked_served(scratch, tracked, shared)


def test_a_hidden_application_deleted_with_its_job_is_no_news_of_its_served_candidate(scratch: World) -> None:
    """In tracked mode a candidate nests only its tracked applications: another of its applications (stored from
    a time everything was served) tombstoned with its deleted job changes nothing the candidate shows."""
    tracked, shared = tracked_expectations(scratch.recru)
    hidden = next(
        a
        for a in scratch.recru.all("applications")
        if a["jobseekerId"] == shared["jobseekerId"] and a["projectId"] != shared["projectId"]
    )
    with scratch.engine.begin() as conn:
        set_integration_fields(conn, scratch.integration_id, sync_only_created_applications=True)
        for application in tracked:
            track_application(conn, scratch.integration_id, str(application["id"]), str(application["jobseekerId"]))
    served = by_remote_id(scratch.walk("/ats/candidates"))[str(shared["jobseekerId"])]
    since = a_moment()
    scratch.recru.delete("projects", hidden["projectId"])
    scratch.sync("FULL")

    assert [j["remote_id"] for j in scratch.walk("/ats/jobs", updated_after=since.isoformat(), include_deleted="true")]
    assert [
        c["remote_id"] for c in scratch.walk("/ats/candidates", updated_after=since.isoformat(), include_deleted="true")
    ] == []
    assert by_remote_id(scratch.walk("/ats/candidates"))[str(shared["jobseekerId"])] == served
    with scratch.engine.connect() as conn:
        stored = conn.execute(
            select(tables.applications.c.remote_deleted_at).where(tables.applications.c.remote_id == str(hidden["id"]))
        ).scalar_one()
        told = conn.execute(
            select(tables.webhook_outbox.c.payload)
            .where(tables.webhook_outbox.c.type == "data-changed")
            .order_by(tables.webhook_outbox.c.created_at.desc())
        ).first()
    assert stored is not None  # the hidden application was tombstoned with its job
    assert told is not None
    named = {m["name"] for m in told.payload["changed_models"]}
    assert "ats_jobs" in named
    assert not {"ats_candidates", "ats_applications"} & named


def test_records_served_again_when_tracked_mode_is_turned_off_are_news_to_updated_after(scratch: World) -> None:
    """A client that loaded everything while only created applications were served (nothing tracked: nothing), then
    follows ``updated_after``, learns of every candidate and application the store serves again, at once."""
    applications = scratch.recru.all("applications")
    open_jobs = [p["id"] for p in scratch.recru.all("projects") if p["status"] == "open" and p["stageIds"]]
    applied: dict[int, set[int]] = {}
    for application in applications:
        applied.setdefault(application["jobseekerId"], set()).add(application["projectId"])
    jobseeker_id, job_id = next((j, p) for j, projects in applied.items() for p in open_jobs if p not in projects)
    jobseeker = scratch.recru.call("JobseekerService.get", {"id": jobseeker_id})
    created = scratch.sdk().ats.create_application(  # tracked: served all along, with its candidate
        job_id=f"remote:{job_id}",
        candidate={"first_name": "A", "last_name": "B", "email_address": jobseeker["emails"][0]["value"]},
    )
    settings = f"/integrations/{scratch.integration_id}/settings"
    assert scratch.request("PATCH", settings, json={"sync_only_created_applications": True}).status_code == 200
    assert [c["remote_id"] for c in scratch.walk("/ats/candidates")] == [str(jobseeker["id"])]
    since = a_moment()
    assert scratch.request("PATCH", settings, json={"sync_only_created_applications": False}).status_code == 200
    expected = {  # that candidate too: its applications gain the ones hidden until now
        "/ats/candidates": {str(j["id"]) for j in scratch.recru.all("jobseekers")},
        "/ats/applications": {str(a["id"]) for a in applications},
    }
    for path, remote_ids in expected.items():
        news = scratch.walk(path, updated_after=since.isoformat(), include_deleted="true", page_size=250)
        assert {r["remote_id"] for r in news} == remote_ids, path
    assert created.data.remote_id not in expected["/ats/applications"]
    assert scratch.walk("/ats/jobs", updated_after=since.isoformat()) == []  # always served: no news
    with scratch.engine.connect() as conn:
        told = conn.execute(
            select(tables.webhook_outbox.c.payload)
            .where(tables.webhook_outbox.c.type == "data-changed")
            .order_by(tables.webhook_outbox.c.created_at.desc())
        ).first()
    assert told is not None
    assert {m["name"] for m in told.payload["changed_models"]} == {"ats_candidates", "ats_applications"}


def test_remote_data_is_served_only_where_the_integration_enables_it(scratch: World) -> None:
    assert all(c["remote_data"] is None for c in scratch.walk("/ats/candidates", page_size=250))
    with scratch.engine.begin() as conn:
        set_integration_fields(conn, scratch.integration_id, remote_data_enabled=True)
    jobseekers = {str(j["id"]): j for j in scratch.recru.all("jobseekers")}
    for candidate in scratch.walk("/ats/candidates", page_size=250):
        raw = candidate["remote_data"]["JobseekerService.list"]
        assert (str(raw["id"]), raw["lastName"]) == (
            candidate["remote_id"],
            jobseekers[candidate["remote_id"]]["lastName"],
        )
    jobs = scratch.walk("/ats/jobs")
    assert {j["remote_data"]["ProjectService.list"]["name"] for j in jobs} == {j["name"] for j in jobs}


def test_the_candidate_a_tracked_application_was_created_for_stays_served_when_recru_moves_it(
    engine: Engine, scratch_recru: Recru, tmp_path: Any
) -> None:
    """In tracked mode the candidate an application was created for through us vanished (no tombstone, no
    `updated_after` news) once RECRU gave the application to another jobseeker; it stays served, as one whose
    tracked application was deleted does, now holding none, and is news."""
    project = next(p for p in scratch_recru.all("projects") if p["status"] == "open")
    other = scratch_recru.all("jobseekers")[0]
    with open_world(engine, scratch_recru.process, tmp_path, sync_all=False) as world:
        body = {"candidate": {"first_name": "Vít", "last_name": "Přesunutý", "email_address": "vit.presun@example.cz"}}
        created = world.request("POST", f"/ats/jobs/remote:{project['id']}/applications", json=body)
        assert created.status_code == 200, created.text
        application, candidate = created.json()["data"]["remote_id"], created.json()["data"]["candidate"]["remote_id"]
        since = a_moment()
        scratch_recru.patch("applications", int(application), jobseekerId=other["id"])

        for kind in ("DELTA", "FULL"):
            world.sync(kind)
            news = by_remote_id(world.walk("/ats/candidates", updated_after=since.isoformat()))
            assert set(news) == {candidate, str(other["id"])}, kind
            assert news[candidate]["remote_deleted_at"] is None
            assert news[candidate]["applications"] == []
            assert [a["remote_id"] for a in news[str(other["id"])]["applications"]] == [application]


def test_a_candidate_that_only_held_a_tracked_application_for_a_while_stays_served_when_recru_moves_it_on(
    engine: Engine, scratch_recru: Recru, tmp_path: Any
) -> None:
    """A jobseeker RECRU gave a tracked application to, then took it away from again, vanished in tracked mode (no
    tombstone, no `updated_after` news: a client kept it holding the application); it stays served, holding none."""
    project = next(p for p in scratch_recru.all("projects") if p["status"] == "open")
    first, second = scratch_recru.all("jobseekers")[:2]
    with open_world(engine, scratch_recru.process, tmp_path, sync_all=False) as world:
        body = {"candidate": {"first_name": "Eva", "last_name": "Putovní", "email_address": "eva.putovni@example.cz"}}
        created = world.request("POST", f"/ats/jobs/remote:{project['id']}/applications", json=body)
        assert created.status_code == 200, created.text
        application = created.json()["data"]["remote_id"]
        scratch_recru.patch("applications", int(application), jobseekerId=first["id"])
        world.sync("DELTA")
        held = by_remote_id(world.walk("/ats/candidates"))[str(first["id"])]
        assert [a["remote_id"] for a in held["applications"]] == [application]
        since = a_moment()
        scratch_recru.patch("applications", int(application), jobseekerId=second["id"])

        for kind in ("DELTA", "FULL"):
            world.sync(kind)
            news = by_remote_id(world.walk("/ats/candidates", updated_after=since.isoformat(), include_deleted="true"))
            assert set(news) == {str(first["id"]), str(second["id"])}, kind
            assert news[str(first["id"])]["remote_deleted_at"] is None
            assert news[str(first["id"])]["applications"] == []
            assert [a["remote_id"] for a in news[str(second["id"])]["applications"]] == [application]
            assert str(first["id"]) in by_remote_id(world.walk("/ats/candidates")), kind
