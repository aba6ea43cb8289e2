"""Kombo's official SDK reads every endpoint of the synced tenant, page by page, and gets RECRU's data.

The SDK validates each response against its own pydantic models, so a missing key, a wrong type or an unknown
enum literal fails here; the expected values are derived from RECRU's answers with the hand-written tables of
``integration.sync.parity``.
"""

from __future__ import annotations

import base64
from collections import defaultdict

import httpx
from kombo import Kombo
from sqlalchemy import select

from atsbridge.store import tables
from atsbridge.store.reader import ts
from integration.api.conftest import World, value, walk
from integration.sync.parity import EMPLOYMENT, JOB_STATUS, OUTCOME, ROLES, expected_user, primary_first, upper


def test_check_api_key_names_the_environment(world: World, sdk: Kombo) -> None:
    assert sdk.general.check_api_key().data.environment_id == world.integration.environment_id


def test_users(world: World, sdk: Kombo) -> None:
    users, pages = walk(sdk.ats.get_users, page_size=3)
    expected = {str(u["id"]): expected_user(u) for u in world.recru.all("users")}
    assert pages == -(-len(expected) // 3)
    got = {
        u.remote_id: {
            "first_name": u.first_name,
            "last_name": u.last_name,
            "email": u.email,
            "status": value(u.status),
            "roles": [value(role.unified_type) for role in u.system_roles],
        }
        for u in users
    }
    assert len(users) == len(got)
    assert got == expected


def test_jobs_with_pipeline_and_hiring_team(world: World, sdk: Kombo) -> None:
    jobs, pages = walk(sdk.ats.get_jobs, page_size=4)
    assert pages > 1
    stage_names = {str(s["id"]): s["name"] for s in world.recru.all("stages")}
    expected = {
        str(p["id"]): {
            "name": p["name"],
            "job_code": p["code"],
            "status": JOB_STATUS[p["status"]],
            "employment_type": EMPLOYMENT.get(p["employmentType"], upper(p["employmentType"])),
            "visibility": p["visibility"].upper(),
            "weekly_hours": p["weeklyHours"],
            "stages": [(i, str(s), stage_names[str(s)]) for i, s in enumerate(p["stageIds"])],
            "team": sorted((str(m["userId"]), ROLES[m["role"]]) for m in p["hiringTeam"]),
        }
        for p in world.recru.all("projects")
    }
    got = {
        j.remote_id: {
            "name": j.name,
            "job_code": j.job_code,
            "status": value(j.status),
            "employment_type": value(j.employment_type),
            "visibility": value(j.visibility),
            "weekly_hours": j.weekly_hours,
            "stages": [(s.index, s.remote_id, s.name) for s in j.stages],
            "team": sorted((m.remote_id, value(role.unified_type)) for m in j.hiring_team for role in m.job_roles),
        }
        for j in jobs
    }
    assert len(jobs) == len(got)
    assert got == expected


def test_candidates_with_applications_and_tags_including_null_heavy_ones(world: World, sdk: Kombo) -> None:
    candidates, pages = walk(sdk.ats.get_candidates, page_size=7)
    jobseekers = world.recru.all("jobseekers")
    assert pages == -(-len(jobseekers) // 7)
    applications_of: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    for a in world.recru.all("applications"):
        applications_of[str(a["jobseekerId"])].append(
            (str(a["id"]), str(a["projectId"]), str(a["stageId"]), OUTCOME[a["status"]])
        )
    expected = {
        str(j["id"]): {
            "first_name": j["firstName"],
            "last_name": j["lastName"],
            "company": j["currentCompany"],
            "title": j["currentPosition"],
            "emails": [(e["value"], e["type"].upper()) for e in primary_first(j["emails"])],
            "phones": [(p["value"], p["type"].upper()) for p in primary_first(j["phones"])],
            "city": (j["address"] or {}).get("city"),
            "tags": sorted(str(t) for t in j["tagIds"]),
            "applications": sorted(applications_of[str(j["id"])]),
        }
        for j in jobseekers
    }
    got = {
        c.remote_id: {
            "first_name": c.first_name,
            "last_name": c.last_name,
            "company": c.company,
            "title": c.title,
            "emails": [(e.email_address, e.type) for e in c.email_addresses],
            "phones": [(p.phone_number, p.type) for p in c.phone_numbers],
            "city": c.location.city if c.location else None,
            "tags": sorted(t.remote_id for t in c.tags),
            "applications": sorted(
                (a.remote_id, a.job.remote_id, a.current_stage.remote_id, value(a.outcome)) for a in c.applications
            ),
        }
        for c in candidates
    }
    assert len(candidates) == len(got)
    assert got == expected
    # the tenant has the sparse records this test is meant to validate through the SDK
    sparse = {
        "location": any(c.location is None for c in candidates),
        "company": any(c.company is None for c in candidates),
        "title": any(c.title is None for c in candidates),
        "source": any(c.source is None for c in candidates),
        "phone_numbers": any(not c.phone_numbers for c in candidates),
        "tags": any(not c.tags for c in candidates),
    }
    assert all(sparse.values()), sparse


def test_applications_with_candidate_stage_and_job(world: World, sdk: Kombo) -> None:
    applications, pages = walk(sdk.ats.get_applications, page_size=250)
    recru_applications = world.recru.all("applications")
    assert pages == -(-len(recru_applications) // 250)
    pipelines = {p["id"]: p["stageIds"] for p in world.recru.all("projects")}
    reasons = world.recru.codebook("rejectionReasons")
    expected = {
        str(a["id"]): (
            str(a["projectId"]),
            str(a["jobseekerId"]),
            str(a["stageId"]),
            pipelines[a["projectId"]].index(a["stageId"]),
            OUTCOME[a["status"]],
            reasons[a["rejectionReasonId"]]["name"] if a["rejectionReasonId"] else None,
        )
        for a in recru_applications
    }
    got = {
        a.remote_id: (
            a.job.remote_id,
            a.candidate.remote_id,
            a.current_stage.remote_id,
            a.current_stage.index,
            value(a.outcome),
            a.rejection_reason_name,
        )
        for a in applications
    }
    assert len(applications) == len(got)
    assert got == expected
    by_id = {a.id: a for a in applications}
    assert all(a.job_id == a.job.id and a.candidate_id == a.candidate.id for a in by_id.values())


def test_application_stages_and_tags(world: World, sdk: Kombo) -> None:
    stages, _ = walk(sdk.ats.get_application_stages, page_size=5)
    assert {s.remote_id: s.name for s in stages} == {str(s["id"]): s["name"] for s in world.recru.all("stages")}
    tags, _ = walk(sdk.ats.get_tags, page_size=2)
    assert {t.remote_id: t.name for t in tags} == {str(t["id"]): t["name"] for t in world.recru.all("tags")}


def test_attachments_of_a_candidate_and_an_application_download_recrus_bytes(world: World, sdk: Kombo) -> None:
    jobseekers = world.recru.all("jobseekers")
    files = {j["id"]: world.recru.call("AttachmentService.list", {"jobseekerId": j["id"]})["items"] for j in jobseekers}
    jobseeker_id = next(j for j, items in files.items() if len({i["applicationId"] for i in items}) > 1)
    expected = files[jobseeker_id]
    candidate_id = next(c.id for c in walk(sdk.ats.get_candidates, remote_ids=[str(jobseeker_id)])[0])

    listed = sdk.ats.get_candidate_attachments(candidate_id=candidate_id)
    assert listed.warnings == []
    got = {a.remote_id: a for a in listed.data.results}
    assert set(got) == {str(i["id"]) for i in expected}
    for item in expected:
        attachment = got[str(item["id"])]
        assert (attachment.file_name, attachment.content_type, attachment.candidate_id) == (
            item["fileName"],
            item["contentType"],
            candidate_id,
        )
        assert value(attachment.type) == {"cv": "CV", "cover_letter": "COVER_LETTER"}.get(item["type"], "OTHER")
        download = httpx.get(attachment.data_url)  # the signed link needs no credentials
        assert download.status_code == 200
        original = world.recru.call("AttachmentService.download", {"id": item["id"]})
        assert download.content == base64.b64decode(original["data"])
        assert download.headers["content-type"].startswith(item["contentType"])

    application_remote_id = next(i["applicationId"] for i in expected if i["applicationId"] is not None)
    application = walk(sdk.ats.get_applications, remote_ids=[str(application_remote_id)])[0][0]
    of_application = sdk.ats.get_application_attachments(application_id=application.id).data.results
    assert {a.remote_id for a in of_application} == {
        str(i["id"]) for i in expected if i["applicationId"] == application_remote_id
    }
    raw = world.get(f"/ats/applications/{application.id}/attachments").json()["data"]["results"]
    assert {a["application_id"] for a in raw} == {application.id}  # a key the SDK's model of this list lacks


def test_a_download_keeps_recrus_content_type_and_file_name_and_answers_head(scratch: World) -> None:
    name = 'CV 2024/25 "finál".txt'
    text = "Žluťoučký kůň".encode("cp1250")  # not UTF-8: a charset added to its type would garble it
    jobseeker = {"firstName": "Jana", "lastName": "Dlouhá", "emails": [{"value": "jana.dlouha@example.cz"}]}
    attachment = {"type": "cv", "fileName": name, "contentType": "text/plain", "data": base64.b64encode(text).decode()}
    created = scratch.recru.call("JobseekerService.create", {"jobseeker": jobseeker, "attachments": [attachment]})
    scratch.sync("DELTA")
    listed = scratch.get(f"/ats/candidates/remote:{created['id']}/attachments").json()["data"]["results"]
    link = listed[0]["data_url"]
    download = httpx.get(link)
    assert (download.status_code, download.content) == (200, text)
    assert download.headers["content-type"] == "text/plain"
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"CV 2024/25 _fin_l_.txt\"; filename*=UTF-8''CV%202024%2F25%20%22fin%C3%A1l%22.txt"
    )
    head = httpx.head(link)
    assert (head.status_code, head.content, head.headers["content-type"]) == (200, b"", "text/plain")
    tampered = httpx.get(link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB"))
    assert tampered.status_code == 401 and tampered.headers["www-authenticate"].startswith("Bearer")


def test_timestamps_are_utc_iso_8601_to_the_millisecond_as_stored(world: World) -> None:
    table = tables.candidates
    with world.engine.connect() as conn:
        stored = {
            row.id: row
            for row in conn.execute(
                select(table.c.id, table.c.changed_at, table.c.remote_created_at).where(
                    table.c.integration_id == world.integration_id
                )
            )
        }
    jobseekers = {str(j["id"]): j for j in world.recru.all("jobseekers")}
    served = world.walk("/ats/candidates", page_size=250)
    assert all(stored[c["id"]].changed_at.microsecond % 1000 == 0 for c in served)  # stored as served
    for candidate in served:
        row = stored[candidate["id"]]
        assert candidate["changed_at"] == ts(row.changed_at)
        assert candidate["changed_at"].endswith("Z")
        assert candidate["remote_created_at"] == jobseekers[candidate["remote_id"]]["createdAt"][:-1] + ".000Z"
        assert candidate["remote_deleted_at"] is None
