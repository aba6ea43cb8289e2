"""§3, §4, §5: read shapes, pagination, ordering, filters, get, stages, tags, codebooks, ping, attachments."""

from __future__ import annotations

import base64
import re
from collections import Counter
from typing import Any

import pytest

from .conftest import (
    APPLICATIONS,
    ATTACHMENT,
    CODEBOOKS,
    CONTENT_TYPES,
    ENTRY,
    FROZEN,
    JOBSEEKERS,
    LISTED,
    LOCATION,
    PROJECTS,
    STAGE,
    TAG,
    USERS,
    Api,
    Entity,
    attachment,
    conform,
    is_country,
    is_text,
    jobseeker_input,
    ts_add,
)

by_name = pytest.mark.parametrize("entity", LISTED, ids=lambda e: e.name)


@by_name
def test_every_listed_record_has_the_read_shape(api: Api, entity: Entity) -> None:
    items = api.walk(entity)
    assert items, f"the generated tenant has no {entity.name}"
    for item in items:
        conform(item, entity.schema, f"{entity.name}[{item['id']}]")
        assert item["createdAt"] <= item["updatedAt"], item


@by_name
def test_get_equals_the_listed_record(api: Api, entity: Entity) -> None:
    items = api.walk(entity)
    for item in items[:3] + items[-3:]:
        assert api.get(entity, item["id"]) == item


@by_name
def test_default_page(api: Api, entity: Entity) -> None:
    result = api.page(entity)
    total = result["total"]
    assert (result["page"], result["perPage"]) == (1, 50)
    assert len(result["items"]) == min(50, total)
    assert result["hasMore"] is (total > 50)
    ids = [i["id"] for i in result["items"]]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


@by_name
def test_pages_follow_each_other_in_id_order(api: Api, entity: Entity) -> None:
    full = [i["id"] for i in api.walk(entity, per_page=200)]
    assert full == sorted(full)
    assert len(set(full)) == len(full)
    assert [i["id"] for i in api.walk(entity, per_page=37)] == full
    assert api.page(entity, perPage=200)["total"] == len(full)


@by_name
def test_page_past_the_end(api: Api, entity: Entity) -> None:
    total = api.total(entity)
    for page in (total // 10 + 2, 10_000, 2**62):
        result = api.page(entity, page=page, perPage=10)
        assert result == {"items": [], "page": page, "perPage": 10, "total": total, "hasMore": False}


@by_name
@pytest.mark.parametrize("per_page", [1, 200])
def test_per_page_bounds_are_accepted(api: Api, entity: Entity, per_page: int) -> None:
    result = api.page(entity, perPage=per_page)
    assert result["perPage"] == per_page
    assert len(result["items"]) == min(per_page, result["total"])


@by_name
@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"perPage": 201}, {"perPage": "out_of_range"}),
        ({"perPage": 500}, {"perPage": "out_of_range"}),
        ({"perPage": 0}, {"perPage": "out_of_range"}),
        ({"perPage": -1}, {"perPage": "out_of_range"}),
        ({"page": 0}, {"page": "out_of_range"}),
        ({"page": -2}, {"page": "out_of_range"}),
        ({"page": "x"}, {"page": "invalid_type"}),
        ({"page": True}, {"page": "invalid_type"}),
        ({"page": 1.5}, {"page": "invalid_type"}),
        ({"perPage": "50"}, {"perPage": "invalid_type"}),
        ({"perPage": [50]}, {"perPage": "invalid_type"}),
        ({"updatedSince": "yesterday"}, {"updatedSince": "invalid_format"}),
        ({"updatedSince": "2024-01-01T00:00:00"}, {"updatedSince": "invalid_format"}),
        ({"updatedSince": "0001-01-01T00:00:00+01:00"}, {"updatedSince": "invalid_format"}),  # before year 1 in UTC
        ({"updatedSince": "9999-12-31T23:59:59-01:00"}, {"updatedSince": "invalid_format"}),  # after year 9999 in UTC
        ({"updatedSince": 1700000000}, {"updatedSince": "invalid_type"}),
        # ISO 8601's other forms: basic, week date, offset without a colon or without minutes, no "T"
        ({"updatedSince": "20240101T000000Z"}, {"updatedSince": "invalid_format"}),
        ({"updatedSince": "2024-W01-1T00:00:00Z"}, {"updatedSince": "invalid_format"}),
        ({"updatedSince": "2024-01-01T00:00:00+0100"}, {"updatedSince": "invalid_format"}),
        ({"updatedSince": "2024-01-01T00:00:00+01"}, {"updatedSince": "invalid_format"}),
        ({"updatedSince": "2024-01-01 00:00:00Z"}, {"updatedSince": "invalid_format"}),
        ({"page": 0, "perPage": 201}, {"page": "out_of_range", "perPage": "out_of_range"}),
    ],
)
def test_bad_paging_params(api: Api, entity: Entity, params: dict[str, Any], fields: dict[str, str]) -> None:
    assert api.fields(entity.list, params) == fields


@pytest.mark.parametrize(
    ("method", "params", "fields"),
    [
        ("UserService.list", {"active": "yes"}, {"active": "invalid_type"}),
        ("ProjectService.list", {"status": "running"}, {"status": "invalid_enum"}),
        ("ProjectService.list", {"status": 1}, {"status": "invalid_type"}),
        ("JobseekerService.list", {"email": 5}, {"email": "invalid_type"}),
        ("ApplicationService.list", {"status": "pending"}, {"status": "invalid_enum"}),
        ("ApplicationService.list", {"projectId": "x"}, {"projectId": "invalid_type"}),
        ("ApplicationService.list", {"jobseekerId": [1]}, {"jobseekerId": "invalid_type"}),
        ("UserService.get", {}, {"id": "required"}),
        ("ProjectService.get", {"id": "abc"}, {"id": "invalid_type"}),
        ("JobseekerService.get", {"id": "abc"}, {"id": "invalid_type"}),
        ("JobseekerService.get", {"id": 1.5}, {"id": "invalid_type"}),
        ("ApplicationService.get", {"id": "7"}, {"id": "invalid_type"}),
        ("AttachmentService.download", {"id": "abc"}, {"id": "invalid_type"}),
        ("AttachmentService.download", {}, {"id": "required"}),
        ("AttachmentService.list", {}, {"jobseekerId": "required"}),
        ("AttachmentService.list", {"jobseekerId": "1"}, {"jobseekerId": "invalid_type"}),
        ("CodebookService.get", {}, {"name": "required"}),
        ("CodebookService.get", {"name": 3}, {"name": "invalid_type"}),
        ("JobseekerService.addTag", {"jobseekerId": 1}, {"tagId": "required"}),
        ("JobseekerService.removeTag", {"jobseekerId": "1", "tagId": 1}, {"jobseekerId": "invalid_type"}),
    ],
)
def test_bad_params(api: Api, method: str, params: dict[str, Any], fields: dict[str, str]) -> None:
    assert api.fields(method, params) == fields


@by_name
@pytest.mark.parametrize("record_id", [987_654, 0, -3])
def test_get_unknown_id(api: Api, entity: Entity, record_id: int) -> None:
    error = api.error(entity.get, {"id": record_id}, -32004)
    assert error["data"] == {"entity": entity.name, "id": record_id}


# --- updatedSince ----------------------------------------------------------------------------------------------


def updated_order(items: list[dict[str, Any]]) -> list[int]:
    return [i["id"] for i in sorted(items, key=lambda i: (i["updatedAt"], i["id"]))]


@by_name
def test_updated_since_is_inclusive_and_ordered(api: Api, entity: Entity) -> None:
    full = api.walk(entity)
    pivot = sorted(full, key=lambda i: i["updatedAt"])[len(full) // 2]
    got = api.walk(entity, updatedSince=pivot["updatedAt"])
    assert pivot["id"] in [i["id"] for i in got]
    assert [i["id"] for i in got] == updated_order([i for i in full if i["updatedAt"] >= pivot["updatedAt"]])
    later = api.walk(entity, updatedSince=ts_add(max(i["updatedAt"] for i in full), 1))
    assert later == []


def test_updated_since_with_equal_timestamps_orders_by_id(api: Api) -> None:
    ids = [j["id"] for j in api.walk(JOBSEEKERS)][:5]
    api.freeze(FROZEN)
    for jid in (ids[4], ids[0], ids[2]):
        api.patch("jobseekers", jid, currentCompany="Škoda Auto a.s.")
    got = api.page(JOBSEEKERS, updatedSince=FROZEN)
    assert [i["id"] for i in got["items"]] == [ids[0], ids[2], ids[4]]
    assert got["total"] == 3
    assert all(i["updatedAt"] == FROZEN for i in got["items"])
    api.advance(10)
    api.patch("jobseekers", ids[0], currentPosition="Vedoucí skladu")
    assert [i["id"] for i in api.walk(JOBSEEKERS, updatedSince=FROZEN)] == [ids[2], ids[4], ids[0]]
    assert [i["id"] for i in api.walk(JOBSEEKERS, updatedSince=ts_add(FROZEN, 1))] == [ids[0]]


@pytest.mark.parametrize(
    ("entity", "filters"),
    [(PROJECTS, {"status": "open"}), (USERS, {"active": True}), (APPLICATIONS, {"status": "active"})],
    ids=["project-status", "user-active", "application-status"],
)
def test_updated_since_combines_with_filters(api: Api, entity: Entity, filters: dict[str, Any]) -> None:
    full = api.walk(entity)
    since = sorted(i["updatedAt"] for i in full)[len(full) // 3]
    matching = [i for i in full if i["updatedAt"] >= since and all(i[k] == v for k, v in filters.items())]
    assert [i["id"] for i in api.walk(entity, per_page=7, updatedSince=since, **filters)] == updated_order(matching)


@pytest.mark.parametrize("key", ["projectId", "jobseekerId", "email"])
def test_updated_since_combines_with_id_and_email_filters(api: Api, key: str) -> None:
    entity = JOBSEEKERS if key == "email" else APPLICATIONS
    full = api.walk(entity)
    for record in full[:: len(full) // 4]:
        value = record["emails"][0]["value"].upper() if key == "email" else record[key]
        matching = api.walk(entity, **{key: value})
        assert record in matching
        since = record["updatedAt"]
        expected = updated_order([i for i in matching if i["updatedAt"] >= since])
        assert record["id"] in expected
        assert [i["id"] for i in api.walk(entity, updatedSince=since, **{key: value})] == expected


@pytest.mark.parametrize(
    "since",
    [
        "2030-01-01T02:00:00+02:00",
        "2029-12-31T19:00:00-05:00",
        "2030-01-01T00:00:00+00:00",
        "2030-01-01t00:00:00z",
        "2029-12-31T23:59:59.25Z",
    ],
)
def test_updated_since_accepts_any_offset(api: Api, since: str) -> None:
    jid = api.walk(JOBSEEKERS)[0]["id"]
    api.freeze(FROZEN)
    api.patch("jobseekers", jid, currentCompany="Bosch GmbH")
    assert [i["id"] for i in api.walk(JOBSEEKERS, updatedSince=since)] == [jid]
    assert api.walk(JOBSEEKERS, updatedSince=ts_add(FROZEN, 1)) == []


# --- filters ---------------------------------------------------------------------------------------------------


def test_user_active_filter(api: Api) -> None:
    users = api.walk(USERS)
    target = next(u for u in reversed(users) if u["email"].lower() != api.login_name.lower())
    api.patch("users", target["id"], active=False)
    users = api.walk(USERS)
    for flag in (True, False):
        got = api.walk(USERS, active=flag)
        assert got == [u for u in users if u["active"] is flag]
    assert any(u["active"] is False for u in users)


def test_project_status_filter(api: Api) -> None:
    projects = api.walk(PROJECTS)
    statuses = Counter(p["status"] for p in projects)
    assert "open" in statuses
    for status in ("draft", "open", "on_hold", "closed", "archived"):
        got = api.walk(PROJECTS, status=status)
        assert got == [p for p in projects if p["status"] == status]
        assert len(got) == statuses[status]


def test_jobseeker_email_filter(api: Api) -> None:
    jobseekers = api.walk(JOBSEEKERS)
    target = next(j for j in jobseekers if len(j["emails"]) >= 2)
    for email in (e["value"] for e in target["emails"]):
        for variant in (email, email.upper(), email.lower()):
            got = api.walk(JOBSEEKERS, email=variant)
            assert [j["id"] for j in got] == [j["id"] for j in jobseekers if email.lower() in lowered(j)]
            assert target["id"] in [j["id"] for j in got]
    first = target["emails"][0]["value"]
    assert api.walk(JOBSEEKERS, email=first[1:]) == []  # exact, not a substring
    assert api.walk(JOBSEEKERS, email=first.split("@")[0]) == []
    assert api.walk(JOBSEEKERS, email=f" {first}") == api.walk(JOBSEEKERS, email=f"{first}\t") == []  # exact
    assert api.page(JOBSEEKERS, email="nobody.at.all@example.invalid")["total"] == 0


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_email_filter_matches_no_jobseeker(api: Api, blank: str) -> None:
    result = api.page(JOBSEEKERS, email=blank)
    assert (result["items"], result["total"], result["hasMore"]) == ([], 0, False)


def lowered(jobseeker: dict[str, Any]) -> set[str]:
    return {e["value"].lower() for e in jobseeker["emails"]}


@pytest.mark.parametrize("key", ["projectId", "jobseekerId", "status"])
def test_application_filters(api: Api, key: str) -> None:
    apps = api.walk(APPLICATIONS)
    values = Counter(a[key] for a in apps)
    for value, _ in values.most_common(3) + values.most_common()[-2:]:
        assert api.walk(APPLICATIONS, **{key: value}) == [a for a in apps if a[key] == value]


def test_application_filters_combine(api: Api) -> None:
    apps = api.walk(APPLICATIONS)
    pid = Counter(a["projectId"] for a in apps).most_common(1)[0][0]
    status = next(a["status"] for a in apps if a["projectId"] == pid)
    expected = [a for a in apps if a["projectId"] == pid and a["status"] == status]
    assert api.walk(APPLICATIONS, projectId=pid, status=status) == expected
    assert api.page(APPLICATIONS, projectId=987_654)["total"] == 0


def test_generated_tenant_is_realistic(api: Api) -> None:
    jobseekers, apps, projects = api.walk(JOBSEEKERS), api.walk(APPLICATIONS), api.walk(PROJECTS)
    assert len(jobseekers) == 300  # --size is the number of jobseekers
    assert any(not n.isascii() for j in jobseekers for n in (j["firstName"], j["lastName"]))
    assert any(len(j["emails"]) >= 2 for j in jobseekers)
    assert any(len(j["phones"]) >= 2 for j in jobseekers)
    assert any(j["tagIds"] for j in jobseekers)
    assert any(j["gdprConsent"]["given"] for j in jobseekers)
    assert any(j["address"] for j in jobseekers)
    assert any(j["source"] for j in jobseekers)
    assert {"active", "hired", "rejected", "withdrawn"} <= {a["status"] for a in apps}
    assert any(p["hiringTeam"] for p in projects)
    assert all(p["stageIds"] for p in projects)
    assert any(p["description"] and re.search(r"<\w+", p["description"]) for p in projects)
    assert len(api.walk(USERS)) > 1


def test_references_resolve(api: Api) -> None:
    users = {u["id"] for u in api.walk(USERS)}
    projects = {p["id"]: p for p in api.walk(PROJECTS)}
    jobseekers = {j["id"]: j for j in api.walk(JOBSEEKERS)}
    apps = api.walk(APPLICATIONS)
    stages = {s["id"] for s in api.items("StageService.list")}
    tags = {t["id"] for t in api.items("TagService.list")}
    books = {name: {e["id"] for e in api.codebook(name)} for name in CODEBOOKS}
    for p in projects.values():
        assert set(p["stageIds"]) <= stages
        assert len(set(p["stageIds"])) == len(p["stageIds"])
        assert {m["userId"] for m in p["hiringTeam"]} <= users
        assert set(p["locationIds"]) <= books["locations"]
        assert p["departmentId"] in books["departments"] | {None}
        assert p["closeReasonId"] in books["projectCloseReasons"] | {None}
    for j in jobseekers.values():
        assert set(j["tagIds"]) <= tags
        assert len(set(j["tagIds"])) == len(j["tagIds"])
        assert j["ownerUserId"] in users | {None}
        assert j["source"] is None or j["source"]["id"] in books["jobseekerSources"]
        assert j["address"] is None or j["address"]["countryCode"] in books["countries"] | {None}
    for a in apps:
        assert a["jobseekerId"] in jobseekers
        assert a["projectId"] in projects
        assert a["stageId"] in stages
        assert a["rejectionReasonId"] in books["rejectionReasons"] | {None}
    pairs = Counter((a["jobseekerId"], a["projectId"]) for a in apps)
    assert max(pairs.values()) == 1, "at most one application per jobseeker and project"


# --- stages, tags, codebooks, ping -------------------------------------------------------------------------------


def test_stages(api: Api) -> None:
    stages = api.items("StageService.list")
    assert stages
    for stage in stages:
        conform(stage, STAGE)
    assert {"regular", "hired", "rejected"} <= {s["kind"] for s in stages}


def test_tags(api: Api) -> None:
    tags = api.items("TagService.list")
    assert tags
    for tag in tags:
        conform(tag, TAG)


@pytest.mark.parametrize("method", ["TagService.create", "TagService.update", "TagService.delete"])
def test_tags_cannot_be_written(api: Api, method: str) -> None:
    before = api.items("TagService.list")
    assert api.error(method, {"name": "VIP", "id": 1}, -32601)["data"] == {"method": method}
    assert api.items("TagService.list") == before


@pytest.mark.parametrize("name", CODEBOOKS)
def test_codebooks(api: Api, name: str) -> None:
    entries = api.codebook(name)
    assert entries or name in ("rejectionReasons", "projectCloseReasons")
    for entry in entries:
        if name == "countries":
            assert is_country(entry["id"]), entry
            assert is_text(entry["name"]), entry
            assert set(entry) == {"id", "name"}, entry
        else:
            conform(entry, LOCATION if name == "locations" else ENTRY)
    assert len({e["id"] for e in entries}) == len(entries)


@pytest.mark.parametrize("name", ["sources", "JobseekerSources", "tags", ""])
def test_unknown_codebook(api: Api, name: str) -> None:
    assert "name" in api.fields("CodebookService.get", {"name": name})


def test_ping(api: Api) -> None:
    result = api.call("SystemService.ping")
    assert set(result) == {"pong", "serverTime"}
    assert result["pong"] is True
    api.freeze(FROZEN)
    assert api.call("SystemService.ping") == {"pong": True, "serverTime": FROZEN}


# --- attachments -------------------------------------------------------------------------------------------------


def test_attachment_list_and_download(api: Api) -> None:
    files = {
        "cv.pdf": (b"%PDF-1.7\n" + bytes(range(256)) * 40, "application/pdf", "cv"),
        "Anschreiben.txt": ("Sehr geehrte Damen und Herren, … Grüße".encode(), "text/plain", "cover_letter"),
    }
    jid = api.new_jobseeker(
        attachments=[attachment(data, type_=kind, name=name, ct=ct) for name, (data, ct, kind) in files.items()]
    )
    project = api.open_project()
    photo = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    app = api.call(
        "ApplicationService.create",
        {"projectId": project["id"], "jobseekerId": jid,
         "attachments": [attachment(photo, type_="other", name="foto.png", ct="image/png")]},
    )  # fmt: skip
    items = api.items("AttachmentService.list", {"jobseekerId": jid})
    assert len(items) == 3
    for item in items:
        conform(item, ATTACHMENT)
        assert item["jobseekerId"] == jid
    by_file = {i["fileName"]: i for i in items}
    files["foto.png"] = (photo, "image/png", "other")
    assert set(by_file) == set(files)
    for name, (data, ct, kind) in files.items():
        meta = by_file[name]
        assert (meta["contentType"], meta["type"], meta["size"]) == (ct, kind, len(data))
        assert meta["applicationId"] == (app["id"] if name == "foto.png" else None)
        download = api.call("AttachmentService.download", {"id": meta["id"]})
        assert set(download) == {"fileName", "contentType", "data"}
        assert (download["fileName"], download["contentType"]) == (name, ct)
        raw = base64.b64decode(download["data"], validate=True)
        assert raw == data
        assert len(raw) == meta["size"]
    only_app = api.items("AttachmentService.list", {"jobseekerId": jid, "applicationId": app["id"]})
    assert [i["fileName"] for i in only_app] == ["foto.png"]


def test_attachment_not_found(api: Api) -> None:
    assert api.error("AttachmentService.download", {"id": 987_654}, -32004)["data"] == {
        "entity": "attachment",
        "id": 987_654,
    }
    assert api.error("AttachmentService.list", {"jobseekerId": 987_654}, -32004)["data"] == {
        "entity": "jobseeker",
        "id": 987_654,
    }


def test_attachment_list_of_jobseeker_without_files(api: Api) -> None:
    jid = api.new_jobseeker(jobseeker=jobseeker_input())
    assert api.items("AttachmentService.list", {"jobseekerId": jid}) == []


def test_content_types_listed_are_accepted(api: Api) -> None:
    jid = api.new_jobseeker(
        attachments=[
            attachment(b"x" * (i + 1), name=f"f{i}", ct=ct, type_="other") for i, ct in enumerate(CONTENT_TYPES)
        ]
    )
    items = api.items("AttachmentService.list", {"jobseekerId": jid})
    assert sorted(i["contentType"] for i in items) == sorted(CONTENT_TYPES)
