"""Nested lists come in one order on both stores and whatever the query: a job's stages by pipeline index, its
hiring team, a candidate's tags and applications by our id."""

from __future__ import annotations

from typing import Any

from integration.api.conftest import World


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def test_tags_and_hiring_team_are_in_id_order_in_every_query(scratch: World) -> None:
    recru = scratch.recru
    tag_ids = sorted(tag["id"] for tag in recru.call("TagService.list")["items"])[:4]
    user_ids = sorted(user["id"] for user in recru.all("users") if user["active"])[:4]
    jobseeker, project = recru.all("jobseekers")[7], recru.all("projects")[3]
    recru.patch("jobseekers", jobseeker["id"], tagIds=list(reversed(tag_ids)))
    team = [{"userId": user_id, "role": "interviewer"} for user_id in reversed(user_ids)]
    recru.patch("projects", project["id"], hiringTeam=team)
    scratch.sync("DELTA")

    (candidate,) = scratch.walk("/ats/candidates", remote_ids=str(jobseeker["id"]))
    (job,) = scratch.walk("/ats/jobs", remote_ids=str(project["id"]))
    assert len(candidate["tags"]) == len(tag_ids) and len(job["hiring_team"]) == len(user_ids)
    assert ids(candidate["tags"]) == sorted(ids(candidate["tags"]))
    assert ids(job["hiring_team"]) == sorted(ids(job["hiring_team"]))
    assert ids(candidate["applications"]) == sorted(ids(candidate["applications"]))

    every_candidate = {found["id"]: found for found in scratch.walk("/ats/candidates", page_size=250)}
    every_job = {found["id"]: found for found in scratch.walk("/ats/jobs", page_size=250)}
    assert every_candidate[candidate["id"]]["tags"] == candidate["tags"]
    assert every_job[job["id"]]["hiring_team"] == job["hiring_team"]
    for found in every_candidate.values():
        assert ids(found["tags"]) == sorted(ids(found["tags"]))
    for found in every_job.values():
        assert ids(found["hiring_team"]) == sorted(ids(found["hiring_team"]))
