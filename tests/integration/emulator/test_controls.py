"""§8: the test controls under /__emulator__/ — records, reset, clock, counters."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from .conftest import (
    APPLICATIONS,
    CODEBOOKS,
    CTL,
    ENTRY,
    FROZEN,
    JOBSEEKERS,
    LOCATION,
    PROJECTS,
    RPC,
    SEED,
    SIZE,
    STAGE,
    TAG,
    USERS,
    Api,
    Entity,
    conform,
    jobseeker_input,
    parse_ts,
    ts_add,
    unique_email,
)

CONTROLLED_CODEBOOKS = {
    "sources": "jobseekerSources",
    "departments": "departments",
    "locations": "locations",
    "rejectionReasons": "rejectionReasons",
    "projectCloseReasons": "projectCloseReasons",
}
READ_BACK: dict[str, Any] = {
    "users": USERS,
    "projects": PROJECTS,
    "jobseekers": JOBSEEKERS,
    "stages": "StageService.list",
    "tags": "TagService.list",
    **CONTROLLED_CODEBOOKS,
}


def read_back(api: Api, entity: str, rid: int) -> dict[str, Any] | None:
    how = READ_BACK[entity]
    if isinstance(how, Entity):
        return api.get(how, rid)
    items = api.codebook(how) if how in CODEBOOKS else api.items(how)
    return next((i for i in items if i["id"] == rid), None)


SCHEMAS = {"users": USERS.schema, "projects": PROJECTS.schema, "jobseekers": JOBSEEKERS.schema, "stages": STAGE,
           "tags": TAG, **dict.fromkeys(CONTROLLED_CODEBOOKS, ENTRY), "locations": LOCATION}  # fmt: skip


@pytest.mark.parametrize("entity", list(READ_BACK))
def test_create_with_defaults(api: Api, entity: str) -> None:
    record = api.create(entity)
    conform(record, SCHEMAS[entity])
    assert read_back(api, entity, record["id"]) == record


@pytest.mark.parametrize(
    ("entity", "fields"),
    [
        ("users", {"firstName": "Jürgen", "lastName": "Weiß", "email": "jw@example.org", "role": "hiring_manager"}),
        ("projects", {"name": "Elektroniker (m/w/d)", "status": "on_hold", "visibility": "internal"}),
        ("jobseekers", {"firstName": "Marek", "lastName": "Kováč", "salutation": "mr",
                        "emails": [{"value": "marek@example.sk", "type": "work", "primary": True}]}),
        ("stages", {"name": "Telefoninterview", "kind": "regular", "active": True}),
        ("tags", {"name": "Top-Talent", "color": "#ff8800"}),
        ("sources", {"name": "Empfehlung Mitarbeiter", "active": True}),
        ("departments", {"name": "Vertrieb", "active": False}),
        ("locations", {"name": "Brno – Líšeň", "city": "Brno", "postalCode": "628 00", "countryCode": "CZ"}),
        ("rejectionReasons", {"name": "Nedostatečná praxe", "active": True}),
        ("projectCloseReasons", {"name": "Obsazeno interně", "active": True}),
    ],
)  # fmt: skip
def test_create_with_fields(api: Api, entity: str, fields: dict[str, Any]) -> None:
    record = api.create(entity, **fields)
    assert {k: record[k] for k in fields} == fields
    assert read_back(api, entity, record["id"]) == record


@pytest.mark.parametrize("entity", [JOBSEEKERS, PROJECTS, USERS], ids=lambda e: e.control)
def test_create_takes_the_read_shapes_timestamps(api: Api, entity: Entity) -> None:
    created = api.create(entity.control, createdAt="2024-03-01T08:00:00+01:00", updatedAt="2024-05-01T12:00:00Z")
    assert (created["createdAt"], created["updatedAt"]) == ("2024-03-01T07:00:00Z", "2024-05-01T12:00:00Z")
    assert api.get(entity, created["id"]) == created
    since = [r["id"] for r in api.walk(entity, updatedSince="2024-05-01T12:00:00Z")]
    assert created["id"] in since and created["id"] not in [
        r["id"] for r in api.walk(entity, updatedSince="2024-05-01T12:00:01Z")
    ]


def test_create_with_only_a_past_created_at_is_updated_now(api: Api) -> None:
    api.freeze(FROZEN)
    created = api.create("jobseekers", createdAt="2025-01-01T10:00:00+01:00")
    assert (created["createdAt"], created["updatedAt"]) == ("2025-01-01T09:00:00Z", FROZEN)
    assert created["id"] in [r["id"] for r in api.walk(JOBSEEKERS, updatedSince=FROZEN)]
    later = api.create("jobseekers", createdAt="2031-01-01T00:00:00Z")
    assert (later["createdAt"], later["updatedAt"]) == ("2031-01-01T00:00:00Z", "2031-01-01T00:00:00Z")


def test_create_with_only_an_updated_at_is_created_no_later(api: Api) -> None:
    created = api.create("jobseekers", updatedAt="2024-05-01T12:00:00Z")
    assert (created["createdAt"], created["updatedAt"]) == ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z")


def test_create_refuses_an_id_and_an_update_before_the_creation(api: Api) -> None:
    before = api.walk(JOBSEEKERS)
    body = {"createdAt": "2024-05-01T12:00:00Z", "updatedAt": "2024-04-01T12:00:00Z"}
    api.ctl("POST", "/records/jobseekers", body, 422)
    api.ctl("POST", "/records/jobseekers", {"id": 99_999}, 422)
    assert api.walk(JOBSEEKERS) == before


def test_create_application(api: Api) -> None:
    project = api.open_project()
    jid = api.new_jobseeker()
    record = api.create("applications", jobseekerId=jid, projectId=project["id"], stageId=project["stageIds"][1],
                        status="rejected")  # fmt: skip
    conform(record, APPLICATIONS.schema)
    assert api.get(APPLICATIONS, record["id"]) == record
    assert (record["jobseekerId"], record["projectId"], record["status"]) == (jid, project["id"], "rejected")


def test_an_application_created_in_the_past_applied_then_unless_told(api: Api) -> None:
    project = api.open_project()
    past = api.create("applications", jobseekerId=api.new_jobseeker(), projectId=project["id"],
                      createdAt="2025-01-02T00:00:00+01:00")  # fmt: skip
    assert past["createdAt"] == past["appliedAt"] == "2025-01-01T23:00:00Z"
    told = api.create("applications", jobseekerId=api.new_jobseeker(), projectId=project["id"],
                      createdAt="2025-01-02T00:00:00Z", appliedAt="2024-12-24T12:00:00Z")  # fmt: skip
    assert (told["createdAt"], told["appliedAt"]) == ("2025-01-02T00:00:00Z", "2024-12-24T12:00:00Z")


def test_created_user_with_password_can_log_in(api: Api) -> None:
    email = unique_email("recruiter")
    user = api.create("users", firstName="Petra", lastName="Horvátová", email=email, password="Geheim-123",
                      apiAccess=True)  # fmt: skip
    assert "password" not in user
    assert user["apiAccess"] is True
    assert api.login(email, "Geheim-123")["user"]["id"] == user["id"]


@pytest.mark.parametrize(
    ("entity", "change"),
    [
        ("users", {"role": "admin"}),
        ("projects", {"status": "closed"}),
        ("jobseekers", {"currentCompany": "Siemens AG", "tagIds": []}),
        ("applications", {"status": "hired"}),
        ("stages", {"name": "Angebot"}),
        ("tags", {"color": "#000000"}),
        ("sources", {"active": False}),
        ("departments", {"name": "Finance (nové)"}),
        ("locations", {"city": "Ostrava", "countryCode": "CZ"}),
        ("rejectionReasons", {"name": "Nereaguje na e-maily"}),
    ],
)
def test_patch_returns_the_record(api: Api, entity: str, change: dict[str, Any]) -> None:
    rid = api.create(entity)["id"] if entity != "applications" else api.walk(APPLICATIONS)[0]["id"]
    record = api.patch(entity, rid, **change)
    assert record["id"] == rid
    assert {k: record[k] for k in change} == change
    if entity in READ_BACK:
        assert read_back(api, entity, rid) == record
    else:
        assert api.get(APPLICATIONS, rid) == record


def test_closing_a_project_stamps_closed_at_and_opening_it_again_clears_it(api: Api) -> None:
    project = api.open_project()
    api.freeze(FROZEN)
    assert api.patch("projects", project["id"], status="closed")["closedAt"] == FROZEN
    assert api.patch("projects", project["id"], status="open")["closedAt"] is None
    assert api.patch("projects", project["id"], status="archived")["closedAt"] == FROZEN
    assert api.patch("projects", project["id"], status="closed")["closedAt"] == FROZEN  # still ended: kept
    assert api.patch("projects", project["id"], status="on_hold")["closedAt"] is None
    # unless the change sets them, null included
    assert api.patch("projects", project["id"], status="closed", closedAt=None)["closedAt"] is None
    assert api.patch("projects", project["id"], status="open", closedAt="2026-01-02T03:04:05Z")["closedAt"] == (
        "2026-01-02T03:04:05Z"
    )


def test_a_project_created_closed_or_archived_carries_closed_at(api: Api) -> None:
    api.freeze(FROZEN)
    for status in ("closed", "archived"):
        assert api.create("projects", status=status)["closedAt"] == FROZEN
    for status in ("open", "on_hold", "draft"):
        assert api.create("projects", status=status)["closedAt"] is None


def test_tag_links_set_by_a_control_are_a_set(api: Api) -> None:
    tag_ids = sorted(api.create("tags")["id"] for _ in range(2))
    jobseeker = api.create("jobseekers")
    repeated = [tag_ids[1], tag_ids[0], tag_ids[1]]
    assert api.patch("jobseekers", jobseeker["id"], tagIds=repeated)["tagIds"] == tag_ids
    assert api.call("JobseekerService.removeTag", {"jobseekerId": jobseeker["id"], "tagId": tag_ids[1]}) == {
        "jobseekerId": jobseeker["id"],
        "tagIds": tag_ids[:1],
    }


@pytest.mark.parametrize("key", ["id", "createdAt", "updatedAt"])
@pytest.mark.parametrize("entity", [JOBSEEKERS, PROJECTS, USERS, APPLICATIONS], ids=lambda e: e.control)
def test_patch_of_managed_fields_is_refused(api: Api, entity: Entity, key: str) -> None:
    record = api.walk(entity)[-1]
    value = 99_999 if key == "id" else "2031-01-01T00:00:00Z"
    api.ctl("PATCH", f"/records/{entity.control}/{record['id']}", {key: value}, 422)
    assert api.get(entity, record["id"]) == record


@pytest.mark.parametrize(
    ("verb", "path", "body"),
    [
        ("PATCH", "/records/jobseekers/987654", {"lastName": "Nowak"}),
        ("DELETE", "/records/jobseekers/987654", None),
        ("PATCH", "/records/projects/987654", {"name": "x"}),
        ("DELETE", "/records/projects/987654", None),
        ("DELETE", "/records/users/987654", None),
        ("DELETE", "/records/applications/987654", None),
        ("DELETE", "/records/tags/987654", None),
        ("DELETE", "/records/stages/987654", None),
        ("DELETE", "/records/sources/987654", None),
        ("PATCH", "/records/widgets/1", {"name": "x"}),
        ("POST", "/records/widgets", {}),
    ],
)
def test_unknown_records_are_404(api: Api, verb: str, path: str, body: Any) -> None:
    assert "error" in api.ctl(verb, path, body, 404).json()


@pytest.mark.parametrize(
    ("verb", "path", "status"),
    [("GET", "/records/users/abc", 404), ("GET", "/no-such-control", 404), ("GET", "/reset", 405)],
)
def test_unknown_paths_and_methods_of_the_controls_answer_json(api: Api, verb: str, path: str, status: int) -> None:
    answer = api.ctl(verb, path, None, status)
    assert answer.json() == {"error": answer.json()["error"], "fields": {}}
    if status == 405:
        assert answer.headers["allow"] == "POST"


@pytest.mark.parametrize(
    ("path", "allowed"),
    [("/faults", "POST, DELETE"), ("/records/users/1", "GET, HEAD, PATCH, DELETE"), ("/counters", "GET, HEAD")],
)
def test_a_405_names_every_method_the_control_takes(api: Api, path: str, allowed: str) -> None:
    """A path served by several routes (POST and DELETE /faults) named only the first route's method."""
    assert api.ctl("PUT", path, None, 405).headers["allow"] == allowed


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"createdAt": "2020-01-01T00:00:00"}, "invalid_format"),  # no offset
        ({"createdAt": "0001-01-01T00:00:00+01:00"}, "invalid_format"),  # before year 1 in UTC
        ({"createdAt": 5}, "invalid_type"),
        ({"createdAt": "garbage"}, "invalid_format"),
    ],
)
@pytest.mark.parametrize("entity", ["users", "projects", "jobseekers", "applications"])
def test_a_control_timestamp_is_refused_with_the_apis_reason(
    api: Api, entity: str, body: dict[str, Any], reason: str
) -> None:
    assert api.ctl("POST", f"/records/{entity}", body, 422).json()["fields"] == {"createdAt": reason}


def test_a_conflict_refused_by_a_control_is_not_called_a_missing_reference(api: Api) -> None:
    user, _ = api.new_user()
    refused = api.ctl("POST", "/records/users", {"email": user["email"]}, 422).json()
    assert refused["fields"] == {"email": "already_used"}
    assert "conflicts" in refused["error"]


@pytest.mark.parametrize(
    ("verb", "path", "body"),
    [
        ("POST", "/records/jobseekers", [1, 2]),
        ("POST", "/records/jobseekers", {"firstName": 5}),
        ("POST", "/records/jobseekers", {"salutation": "sir"}),
        ("POST", "/records/projects", {"status": "Running"}),
        ("POST", "/records/users", {"role": "the boss"}),
        ("POST", "/records/stages", {"kind": "maybe?"}),
        ("PATCH", "/records/projects/1", {"stageIds": "all"}),
        ("PATCH", "/records/jobseekers/1", "lastName"),
        ("POST", "/reset", {"seed": "seven", "size": 10}),
        ("POST", "/reset", {"seed": 7, "size": -1}),
        ("POST", "/reset", {"seed": 7, "sizes": 10}),
        ("PUT", "/rate-limit", {"perMinute": "fast"}),
        ("PUT", "/rate-limit", {"perMinute": 10, "burst": 5}),
        ("POST", "/records/users", {"email": "pw-number@example.com", "password": 12345}),
        ("PATCH", "/records/users/1", {"password": 5}),
        ("POST", "/records/applications", {"jobseekerId": 1, "projectId": [3]}),
        ("POST", "/records/applications", {"jobseekerId": 1, "projectId": {"id": 3}}),
        ("POST", "/clock", {"freeze": "tomorrow"}),
        ("POST", "/clock", {"freeze": 5}),
        ("POST", "/clock", {"freeze": None}),
        ("PATCH", "/records/projects/1", {"openedAt": 5}),
        ("POST", "/records/users", {"createdAt": True}),
        ("POST", "/records/applications", {"jobseekerId": 1, "projectId": 3, "appliedAt": []}),
        ("POST", "/clock", {"advanceSeconds": "soon"}),
        ("POST", "/clock", {}),
        ("POST", "/faults", {"kind": "explode"}),
        ("POST", "/faults", {}),
        ("POST", "/faults", {"kind": "error_500", "share": 2}),
        ("POST", "/faults", {"kind": "error_500", "count": "many"}),
        ("POST", "/faults", {"kind": "error_500", "method": "UserService.List"}),
        ("POST", "/records/tags", {"name": "  "}),
        ("POST", "/records/sources", {"name": ""}),
        ("PATCH", "/records/stages/1", {"name": "\t"}),
        ("PATCH", "/records/projects/1", {"name": ""}),
    ],
)
def test_bad_bodies_are_422(api: Api, verb: str, path: str, body: Any) -> None:
    api.ctl(verb, path, body, 422)
    api.call("SystemService.ping")  # no fault was installed, the clock did not move
    api.relogin()  # the API user's password is as it was


def test_controls_keep_at_most_one_application_per_pair(api: Api) -> None:
    apps = api.walk(APPLICATIONS)
    first = apps[0]
    other = next(a for a in apps if first["jobseekerId"] != a["jobseekerId"] and first["projectId"] != a["projectId"])
    pair = {"jobseekerId": first["jobseekerId"], "projectId": first["projectId"]}
    assert api.client.post(f"{CTL}/records/applications", json=pair).status_code in (409, 422)
    assert api.client.patch(f"{CTL}/records/applications/{other['id']}", json=pair).status_code in (409, 422)
    assert api.walk(APPLICATIONS) == apps


def test_non_json_body_is_422(api: Api) -> None:
    resp = api.client.post(
        "/__emulator__/records/jobseekers", content=b"{oops", headers={"Content-Type": "application/json"}
    )
    assert resp.status_code == 422


def test_delete_is_204_and_then_404(api: Api) -> None:
    tag = api.create("tags", name="Rückruf")
    resp = api.ctl("DELETE", f"/records/tags/{tag['id']}", None, 204)
    assert resp.content == b""
    api.ctl("DELETE", f"/records/tags/{tag['id']}", None, 404)
    api.ctl("PATCH", f"/records/tags/{tag['id']}", {"name": "x"}, 404)


def test_bulk_actions_are_204(api: Api) -> None:
    api.fault("error_500")
    api.ctl("DELETE", "/faults", None, 204)
    api.ctl("POST", "/tokens/expire", None, 204)


def test_control_changes_show_in_the_api(api: Api) -> None:
    jid = api.walk(JOBSEEKERS)[0]["id"]
    api.patch("jobseekers", jid, lastName="Procházková")
    assert api.get(JOBSEEKERS, jid)["lastName"] == "Procházková"
    assert [j["id"] for j in api.walk(JOBSEEKERS, updatedSince=api.get(JOBSEEKERS, jid)["updatedAt"])][-1] == jid


# --- reset -------------------------------------------------------------------------------------------------------


def test_reset_gives_the_same_tenant_for_the_same_seed(api: Api) -> None:
    before = {e.name: api.walk(e) for e in (USERS, PROJECTS, JOBSEEKERS, APPLICATIONS)}
    stages, tags = api.items("StageService.list"), api.items("TagService.list")
    api.patch("jobseekers", before["jobseeker"][0]["id"], lastName="Changed")
    api.delete("projects", before["project"][0]["id"])
    api.new_jobseeker()
    api.ctl("POST", "/reset", {"seed": SEED, "size": SIZE})
    api.relogin()
    assert {e.name: api.walk(e) for e in (USERS, PROJECTS, JOBSEEKERS, APPLICATIONS)} == before
    assert (api.items("StageService.list"), api.items("TagService.list")) == (stages, tags)


def test_reset_with_another_seed_and_size(api: Api) -> None:
    first = api.page(JOBSEEKERS)["items"]
    api.ctl("POST", "/reset", {"seed": SEED + 1, "size": 25})
    api.relogin()
    assert api.total(JOBSEEKERS) == 25
    assert api.page(JOBSEEKERS)["items"] != first[:25]


def test_a_reset_larger_than_the_largest_tenant_is_422_and_resets_nothing(api: Api) -> None:
    for size in (250_001, 1_000_000_000, -1):
        refused = api.ctl("POST", "/reset", {"seed": 3, "size": size}, 422).json()
        assert refused["fields"] == {"size": "out_of_range"}
        assert refused["error"]
    api.call("SystemService.ping")  # the tokens are kept: nothing was reset
    assert api.total(JOBSEEKERS) == SIZE


def test_reset_keeps_the_api_user_and_clears_tokens(api: Api) -> None:
    old = api.token
    api.ctl("POST", "/reset", {"seed": 3, "size": 20})
    assert api.error("SystemService.ping", {}, -32002, token=old)["data"]["reason"] in ("invalid", "expired")
    result = api.login()
    assert result["user"]["email"].lower() == api.login_name.lower()
    api.call("SystemService.ping", token=result["token"])


def test_a_reset_that_would_give_a_generated_user_the_api_users_login_is_409_and_changes_nothing(api: Api) -> None:
    api.ctl("POST", "/reset", {"seed": SEED + 1, "size": 10})
    api.relogin()
    staff_address = api.walk(USERS)[1]["email"]
    api.ctl("POST", "/reset", {"seed": SEED, "size": SIZE})
    api.relogin()
    api.patch("users", 1, email=staff_address)
    try:
        refused = api.ctl("POST", "/reset", {"seed": SEED + 1, "size": 10}, expect=409)
        assert "change the API user's e-mail first" in refused.json()["error"]
        api.call("SystemService.ping")  # the tokens are kept: nothing was reset
        assert api.total(JOBSEEKERS) == SIZE
    finally:
        api.patch("users", 1, email=api.login_name)


def test_a_reset_without_seed_and_size_makes_the_tenant_it_was_made_from(api: Api) -> None:
    api.ctl("POST", "/reset", {"seed": SEED + 1, "size": 25})
    api.relogin()
    first = api.walk(JOBSEEKERS)
    api.patch("jobseekers", first[0]["id"], lastName="Changed")
    api.ctl("POST", "/reset", {})
    api.relogin()
    assert api.walk(JOBSEEKERS) == first


def test_reset_clears_faults_counters_and_clock(api: Api) -> None:
    api.call("SystemService.ping")
    api.fault("error_500", count=5)
    api.ctl("POST", "/clock", {"freeze": FROZEN})
    api.ctl("POST", "/reset", {"seed": SEED, "size": SIZE})
    assert api.counters() == {"calls": {}, "errors": {}, "faults": {}}
    api.relogin()
    now = parse_ts(api.now())
    assert abs((now - datetime.now(UTC)).total_seconds()) < 120


def test_reset_keeps_the_rate_limit(api: Api) -> None:
    api.ctl("PUT", "/rate-limit", {"perMinute": 3})
    api.ctl("POST", "/reset", {"seed": SEED, "size": SIZE})
    user, password = api.new_user()
    token = api.login(user["email"], password)["token"]
    for _ in range(2):
        api.call("SystemService.ping", token=token)
    api.error("SystemService.ping", {}, -32029, token=token)


# --- clock -------------------------------------------------------------------------------------------------------


def test_clock_freeze_advance_release(api: Api) -> None:
    api.freeze(FROZEN)
    time.sleep(1.1)
    assert api.now() == FROZEN  # frozen: does not tick
    api.advance(90)
    assert api.now() == ts_add(FROZEN, 90)
    api.ctl("POST", "/clock", {"release": True})
    api.relogin()
    assert abs((parse_ts(api.now()) - datetime.now(UTC)).total_seconds()) < 120


def test_clock_freeze_accepts_an_offset(api: Api) -> None:
    api.freeze("2030-01-01T01:00:00+01:00")
    assert api.now() == FROZEN


def test_clock_advance_without_freeze(api: Api) -> None:
    api.advance(7200)
    api.relogin()
    delta = (parse_ts(api.now()) - datetime.now(UTC)).total_seconds()
    assert 7200 - 120 < delta < 7200 + 120


@pytest.mark.parametrize(
    "body",
    [
        {"advanceSeconds": 1e300},
        {"advanceSeconds": -1},
        {"freeze": "0001-01-01T00:00:00+01:00"},
        {"freeze": "9999-12-31T23:59:59-01:00"},
    ],
)
def test_a_clock_body_out_of_range_is_422_and_moves_nothing(api: Api, body: dict[str, Any]) -> None:
    api.freeze(FROZEN)
    response = api.ctl("POST", "/clock", body, 422)
    assert response.json()["fields"]
    assert api.now() == FROZEN


def test_a_freeze_moves_the_clock_at_most_a_century_ahead(api: Api) -> None:
    api.freeze(FROZEN)
    assert api.ctl("POST", "/clock", {"freeze": "2131-01-01T00:00:00Z"}, 422).json()["fields"] == {"freeze": "invalid"}
    assert api.ctl("POST", "/clock", {"freeze": "9000-01-01T00:00:00Z"}, 422).json()["fields"] == {"freeze": "invalid"}
    assert api.now() == FROZEN
    api.freeze("2129-12-31T00:00:00Z")
    api.freeze("0999-06-01T00:00:00Z")  # back: any distance


def test_the_clock_cannot_be_moved_to_where_the_tenant_could_not_stamp_times(api: Api) -> None:
    for year in range(2100, 10_000, 100):  # a century at a time
        api.ctl("POST", "/clock", {"freeze": f"{year}-01-01T00:00:00Z"})
    api.freeze("9999-12-01T00:00:00Z")
    api.ctl("POST", "/clock", {"advanceSeconds": 40 * 86_400}, 422)
    assert api.now() == "9999-12-01T00:00:00Z"
    api.ctl("POST", "/clock", {"freeze": "9999-12-31T23:30:00Z"}, 422)  # a token would expire after year 9999
    api.ctl("POST", "/clock", {"release": True})
    century = {"advanceSeconds": 100 * 365 * 86_400}
    answers = [api.client.post(CTL + "/clock", json=century) for _ in range(81)]
    assert {a.status_code for a in answers} == {200, 422}  # the real clock, a century at a time, until no further
    api.relogin()
    assert api.call("SystemService.ping", {})["serverTime"] < "9999-12-31"
    api.error("JobseekerService.list", {"updatedSince": "9999-12-31T23:59:59Z"})


def test_a_control_body_with_nan_is_422_and_creates_nothing(api: Api) -> None:
    body = '{"firstName":"N","lastName":"A","emails":[{"value":"nan-control@example.com"}],'
    body += '"salaryExpectation":{"amount":NaN,"currency":"EUR","period":"year"}}'
    response = api.client.post(CTL + "/records/jobseekers", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert api.call("JobseekerService.list", {"email": "nan-control@example.com"})["items"] == []


def test_clock_stamps_writes(api: Api) -> None:
    api.freeze(FROZEN)
    api.advance(5)
    result = api.call("JobseekerService.create", {"jobseeker": jobseeker_input()})
    assert result["createdAt"] == ts_add(FROZEN, 5)
    assert api.create("projects")["createdAt"] == ts_add(FROZEN, 5)


# --- counters ----------------------------------------------------------------------------------------------------


def test_counters(api: Api) -> None:
    assert api.counters() == {"calls": {"AuthService.login": 1}, "errors": {}, "faults": {}}
    api.call("SystemService.ping")
    api.call("SystemService.ping")
    api.error("JobseekerService.get", {"id": 987_654}, -32004)
    api.error("JobseekerService.list", {"page": 0})
    api.fault("error_500")
    api.error("TagService.list", {}, -32603)
    counters = api.counters()
    assert set(counters) == {"calls", "errors", "faults"}
    assert counters["calls"]["SystemService.ping"] == 2
    assert counters["calls"]["JobseekerService.get"] == 1
    assert counters["calls"]["JobseekerService.list"] == 1
    assert counters["calls"]["AuthService.login"] == 1
    assert counters["errors"]["-32004"] == 1
    assert counters["errors"]["-32602"] == 1
    assert counters["faults"] == {"error_500": 1}
    assert all(isinstance(v, int) for group in counters.values() for v in group.values())


def test_calls_of_methods_that_do_not_exist_are_not_counted(api: Api) -> None:
    """Only methods are counted: a name the API does not have is its -32601 error, not a key of ``calls``."""
    for index in range(3):
        api.error(f"GuessService.method{index}", {}, -32601)
    api.error("TagService.create", {"name": "Neu"}, -32601)
    assert api.counters() == {"calls": {"AuthService.login": 1}, "errors": {"-32601": 4}, "faults": {}}


def test_requests_refused_as_malformed_are_not_calls_of_the_method_they_name(api: Api) -> None:
    """-32600 answers a request before its method runs: it counts under ``errors`` only."""
    ping = {"jsonrpc": "2.0", "id": 1, "method": "SystemService.ping", "params": {}}
    for malformed in ({"id": None}, {"jsonrpc": "1.0"}, {"params": []}):
        api.client.post(RPC, json={**ping, **malformed}, headers={"Authorization": f"Bearer {api.token}"})
    assert api.counters() == {"calls": {"AuthService.login": 1}, "errors": {"-32600": 3}, "faults": {}}


def test_years_before_1000_are_written_with_four_digits_and_filter_in_order(api: Api) -> None:
    every = api.page(JOBSEEKERS, perPage=1)["total"]
    assert api.page(JOBSEEKERS, perPage=1, updatedSince="0300-01-01T00:00:00Z")["total"] == every
    api.freeze("0999-06-01T00:00:00Z")
    assert api.now() == "0999-06-01T00:00:00Z"
    assert api.relogin() and api.login()["expiresAt"] == "0999-06-01T01:00:00Z"


def test_expired_tokens_stay_expired_when_the_clock_goes_back(api: Api) -> None:
    api.advance(86_400)
    api.relogin()
    api.ctl("POST", "/tokens/expire")
    assert api.error("SystemService.ping", {}, -32002)["data"]["reason"] == "expired"
    api.ctl("POST", "/clock", {"release": True})
    assert api.error("SystemService.ping", {}, -32002)["data"]["reason"] == "expired"
