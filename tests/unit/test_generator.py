"""The tenant generator: determinism, the API user, the spec's read shapes and the invariants the API relies on."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from recru_emulator.generator import ANCHOR, generate
from recru_emulator.tenant_data import CODEBOOK_NAMES, Record, TenantData

SHAPES = {  # spec §4, plus the private extras of tenant_data
    "users": "id firstName lastName email role active apiAccess createdAt updatedAt password",
    "projects": "id code name description status closeReasonId visibility employmentType experienceLevel salary "
    "weeklyHours remote departmentId locationIds hiringTeam stageIds openedAt closedAt createdAt updatedAt",
    "stages": "id name position kind active",
    "tags": "id name color",
    "jobseekers": "id salutation titleBefore titleAfter firstName lastName emails phones address currentCompany "
    "currentPosition dateOfBirth availableFrom salaryExpectation source tagIds ownerUserId gdprConsent createdAt "
    "updatedAt",
    "applications": "id jobseekerId projectId stageId status rejectionReasonId appliedAt createdAt updatedAt",
    "attachments": "id jobseekerId applicationId type fileName contentType size createdAt data",
}
NESTED_SHAPES = {
    "email": {"value", "type", "primary"},
    "phone": {"value", "type", "primary"},
    "address": {"street", "postalCode", "city", "region", "countryCode"},
    "consent": {"given", "givenAt", "expiresAt"},
    "salary": {"amount", "currency", "period"},
    "team": {"userId", "role"},
}
ACCEPTED_CONTENT_TYPES = {
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
    "application/rtf",
    "text/plain",
    "image/jpeg",
    "image/png",
}
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
LOCAL_PART = re.compile(r"[a-z0-9._]+")
ANCHOR_TS = ANCHOR.strftime("%Y-%m-%dT%H:%M:%SZ")
OLDEST_TS = ANCHOR.replace(year=ANCHOR.year - 3).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def tenant() -> TenantData:
    return generate(7, 1000)


def by_id(records: list[Record]) -> dict[int, Record]:
    return {record["id"]: record for record in records}


def test_same_seed_and_size_give_the_same_tenant() -> None:
    assert generate(3, 300) == generate(3, 300)


def test_another_seed_gives_another_tenant() -> None:
    first, second = generate(3, 300), generate(4, 300)
    assert first.jobseekers != second.jobseekers
    assert first.api_password != second.api_password


def test_user_1_is_the_api_user(tenant: TenantData) -> None:
    api_user = tenant.users[0]
    assert api_user["id"] == 1
    assert api_user["email"] == tenant.api_login
    assert api_user["password"] == tenant.api_password
    assert (api_user["role"], api_user["active"], api_user["apiAccess"]) == ("admin", True, True)
    assert re.fullmatch(r"api@[a-z-]+\.example", tenant.api_login)
    assert re.fullmatch(r"recru-[A-Za-z0-9]{12}", tenant.api_password)


def test_staff_is_varied(tenant: TenantData) -> None:
    staff = tenant.users[1:]
    assert {user["role"] for user in staff} == {"admin", "recruiter", "hiring_manager"}
    assert not staff[-1]["active"]
    assert staff[-1]["password"]
    assert any(not user["apiAccess"] and user["active"] and user["password"] for user in staff)
    assert len({user["email"] for user in tenant.users}) == len(tenant.users)


@pytest.mark.parametrize("entity", sorted(SHAPES))
def test_records_have_every_key_of_the_read_shape(tenant: TenantData, entity: str) -> None:
    records = getattr(tenant, entity)
    assert records
    for record in records:
        assert list(record) == SHAPES[entity].split()


def test_nested_records_have_every_key(tenant: TenantData) -> None:
    for jobseeker in tenant.jobseekers:
        assert all(set(email) == NESTED_SHAPES["email"] for email in jobseeker["emails"])
        assert all(set(phone) == NESTED_SHAPES["phone"] for phone in jobseeker["phones"])
        assert jobseeker["address"] is None or set(jobseeker["address"]) == NESTED_SHAPES["address"]
        assert set(jobseeker["gdprConsent"]) == NESTED_SHAPES["consent"]
        assert jobseeker["salaryExpectation"] is None or set(jobseeker["salaryExpectation"]) == NESTED_SHAPES["salary"]
        assert jobseeker["source"] is None or set(jobseeker["source"]) == {"id", "name"}
    for project in tenant.projects:
        assert project["salary"] is None or set(project["salary"]) == NESTED_SHAPES["salary"]
        assert all(set(member) == NESTED_SHAPES["team"] for member in project["hiringTeam"])


def test_codebooks(tenant: TenantData) -> None:
    assert tuple(tenant.codebooks) == CODEBOOK_NAMES
    for name, entries in tenant.codebooks.items():
        expected = {"id", "name"} | ({"active"} if name != "countries" else set())
        expected |= {"city", "postalCode", "countryCode"} if name == "locations" else set()
        assert all(set(entry) == expected for entry in entries)
    countries = [entry["id"] for entry in tenant.codebooks["countries"]]
    assert countries == sorted(countries)
    assert {"CZ", "SK", "DE", "AT", "PL", "HU"} <= set(countries)
    sources = tenant.codebooks["jobseekerSources"]
    assert any(not entry["active"] for entry in sources)
    assert "LinkedIn" in {entry["name"] for entry in sources}


@pytest.mark.parametrize("entity", ["users", "projects", "stages", "tags", "jobseekers", "applications", "attachments"])
def test_ids_run_from_1_in_order(tenant: TenantData, entity: str) -> None:
    records = getattr(tenant, entity)
    assert [record["id"] for record in records] == list(range(1, len(records) + 1))


def test_counts_scale_with_size(tenant: TenantData) -> None:
    assert len(tenant.jobseekers) == 1000
    assert 2700 <= len(tenant.applications) <= 3300
    assert 400 <= len(tenant.attachments) <= 600
    assert (len(tenant.users), len(tenant.projects), len(tenant.tags)) == (8, 20, 5)


@pytest.mark.parametrize("size", [0, 1, 5])
def test_a_tiny_tenant_is_usable(size: int) -> None:
    tiny = generate(1, size)
    assert len(tiny.jobseekers) == size
    assert tiny.users[0]["email"] == tiny.api_login
    assert {project["status"] for project in tiny.projects} == {"draft", "open", "on_hold", "closed", "archived"}
    assert tiny.stages
    assert tiny.tags
    assert all(tiny.codebooks.values())


def test_projects_cover_every_status_and_visibility(tenant: TenantData) -> None:
    statuses = Counter(project["status"] for project in tenant.projects)
    assert set(statuses) == {"draft", "open", "on_hold", "closed", "archived"}
    assert statuses.most_common(1)[0][0] == "open"
    assert {project["visibility"] for project in tenant.projects} == {"public", "internal", "unlisted", "confidential"}


def test_project_lifecycle_and_references(tenant: TenantData) -> None:
    users = by_id(tenant.users)
    close_reasons = by_id(tenant.codebooks["projectCloseReasons"])
    for project in tenant.projects:
        finished = project["status"] in ("closed", "archived")
        assert (project["closedAt"] is not None) == finished
        assert (project["closeReasonId"] in close_reasons) if finished else project["closeReasonId"] is None
        assert (project["openedAt"] is None) == (project["status"] == "draft")
        moments = [project[key] for key in ("createdAt", "openedAt", "closedAt") if project[key]]
        assert moments == sorted(moments)
        assert moments[-1] <= project["updatedAt"]
        team = [member["userId"] for member in project["hiringTeam"]]
        assert 1 <= len(team) <= 4
        assert len(set(team)) == len(team)
        assert set(team) <= set(users) - {1}
        assert {member["role"] for member in project["hiringTeam"]} <= {"recruiter", "hiring_manager", "interviewer"}


def test_pipelines(tenant: TenantData) -> None:
    stages = by_id(tenant.stages)
    first_regular = min(stage["id"] for stage in tenant.stages if stage["kind"] == "regular")
    for project in tenant.projects:
        pipeline = project["stageIds"]
        assert pipeline[0] == first_regular
        assert pipeline == sorted(pipeline, key=lambda stage_id: stages[stage_id]["position"])
        kinds = {stages[stage_id]["kind"] for stage_id in pipeline}
        assert {"hired", "rejected"} <= kinds
    assert len({tuple(project["stageIds"]) for project in tenant.projects}) > 1
    assert [stage["position"] for stage in tenant.stages] == list(range(1, len(tenant.stages) + 1))
    assert any(not stage["active"] for stage in tenant.stages)


def test_emails_are_unique_lowercase_ascii_with_one_primary(tenant: TenantData) -> None:
    addresses = [email["value"] for jobseeker in tenant.jobseekers for email in jobseeker["emails"]]
    assert len(addresses) == len(set(addresses))
    assert all(LOCAL_PART.fullmatch(address.split("@")[0]) for address in addresses)
    for jobseeker in tenant.jobseekers:
        assert 1 <= len(jobseeker["emails"]) <= 3
        assert sum(email["primary"] for email in jobseeker["emails"]) == 1
        assert {email["type"] for email in jobseeker["emails"]} <= {"private", "work"}
        assert len(jobseeker["phones"]) <= 3
        assert sum(phone["primary"] for phone in jobseeker["phones"]) == (1 if jobseeker["phones"] else 0)
        assert all(
            phone["value"].startswith(("+420", "+421", "+49", "+43", "+48", "+36")) for phone in jobseeker["phones"]
        )


def test_jobseekers_look_central_european(tenant: TenantData) -> None:
    names = {jobseeker["lastName"] for jobseeker in tenant.jobseekers}
    assert any(not name.isascii() for name in names)
    assert {jobseeker["salutation"] for jobseeker in tenant.jobseekers} == {"mr", "ms", "diverse", None}
    countries = {jobseeker["address"]["countryCode"] for jobseeker in tenant.jobseekers if jobseeker["address"]}
    assert {"CZ", "SK", "DE", "AT", "PL", "HU"} <= countries


def test_jobseeker_references_exist(tenant: TenantData) -> None:
    users, tags = by_id(tenant.users), by_id(tenant.tags)
    sources = by_id(tenant.codebooks["jobseekerSources"])
    for jobseeker in tenant.jobseekers:
        assert jobseeker["tagIds"] == sorted(set(jobseeker["tagIds"]))
        assert set(jobseeker["tagIds"]) <= set(tags)
        assert len(jobseeker["tagIds"]) <= 4
        assert jobseeker["ownerUserId"] is None or jobseeker["ownerUserId"] in users
        source = jobseeker["source"]
        assert source is None or sources[source["id"]]["name"] == source["name"]


def test_consent(tenant: TenantData) -> None:
    anchor_date = ANCHOR.date().isoformat()
    expiries = []
    for jobseeker in tenant.jobseekers:
        consent = jobseeker["gdprConsent"]
        if consent["given"]:
            assert TIMESTAMP.fullmatch(consent["givenAt"])
            assert DATE.fullmatch(consent["expiresAt"])
            assert jobseeker["createdAt"] <= consent["givenAt"] <= jobseeker["updatedAt"]
            expiries.append(consent["expiresAt"])
        else:
            assert consent["givenAt"] is None
            assert consent["expiresAt"] is None
    assert min(expiries) < anchor_date < max(expiries)


def test_timestamps_are_in_the_three_years_before_the_anchor(tenant: TenantData) -> None:
    for entity in ("users", "projects", "jobseekers", "applications"):
        for record in getattr(tenant, entity):
            assert TIMESTAMP.fullmatch(record["createdAt"])
            assert TIMESTAMP.fullmatch(record["updatedAt"])
            assert OLDEST_TS <= record["createdAt"] <= record["updatedAt"] <= ANCHOR_TS
    for attachment in tenant.attachments:
        assert OLDEST_TS <= attachment["createdAt"] <= ANCHOR_TS


def test_applications(tenant: TenantData) -> None:
    projects, stages = by_id(tenant.projects), by_id(tenant.stages)
    jobseekers = by_id(tenant.jobseekers)
    reasons = by_id(tenant.codebooks["rejectionReasons"])
    pairs = [(application["jobseekerId"], application["projectId"]) for application in tenant.applications]
    assert len(pairs) == len(set(pairs))
    for application in tenant.applications:
        project = projects[application["projectId"]]
        assert project["status"] != "draft"
        assert application["stageId"] in project["stageIds"]
        assert project["openedAt"] <= application["appliedAt"] <= (project["closedAt"] or ANCHOR_TS)
        assert application["appliedAt"] <= application["createdAt"]
        assert jobseekers[application["jobseekerId"]]["createdAt"] <= application["appliedAt"]
        kind = stages[application["stageId"]]["kind"]
        if application["status"] == "hired":
            assert kind == "hired"
        if application["status"] == "rejected":
            assert kind == "rejected"
            assert application["rejectionReasonId"] in reasons
        else:
            assert application["rejectionReasonId"] is None
        if application["status"] == "active":
            assert kind == "regular"
    statuses = Counter(application["status"] for application in tenant.applications)
    assert set(statuses) == {"active", "hired", "rejected", "withdrawn"}


def test_attachments(tenant: TenantData) -> None:
    applications = by_id(tenant.applications)
    jobseekers = by_id(tenant.jobseekers)
    for attachment in tenant.attachments:
        assert attachment["size"] == len(attachment["data"]) > 0
        assert attachment["contentType"] in ACCEPTED_CONTENT_TYPES
        assert attachment["type"] in ("cv", "cover_letter", "certificate", "other")
        assert jobseekers[attachment["jobseekerId"]]["createdAt"] <= attachment["createdAt"]
        assert attachment["createdAt"] <= jobseekers[attachment["jobseekerId"]]["updatedAt"]
        if attachment["applicationId"] is not None:
            assert applications[attachment["applicationId"]]["jobseekerId"] == attachment["jobseekerId"]
    assert Counter(attachment["type"] for attachment in tenant.attachments).most_common(1)[0][0] == "cv"
    assert any(attachment["applicationId"] is None for attachment in tenant.attachments)
    assert any(attachment["applicationId"] is not None for attachment in tenant.attachments)
    assert any(attachment["data"].startswith(b"%PDF-") for attachment in tenant.attachments)
