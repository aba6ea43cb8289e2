"""§8 with §1, §4: what the record controls take is served in RECRU's read shapes (complete, optional fields
present as null), and a body that would break them is refused with 422."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import APPLICATIONS, JOBSEEKERS, PROJECTS, USERS, Api, Entity, conform

MISSING_ID = 987_654
MANAGED = ("id", "createdAt", "updatedAt")

by_verb = pytest.mark.parametrize("verb", ["POST", "PATCH"])


def send(api: Api, verb: str, entity: Entity, body: dict[str, Any], expect: int) -> httpx.Response:
    """POST a new record with ``body``, or PATCH the second seeded record with it (the first user is the API's)."""
    if verb == "POST":
        return api.ctl("POST", f"/records/{entity.control}", body, expect)
    seeded = api.page(entity, perPage=2)["items"][1]["id"]
    return api.ctl("PATCH", f"/records/{entity.control}/{seeded}", body, expect)


def stored(api: Api, verb: str, entity: Entity, body: dict[str, Any]) -> dict[str, Any]:
    """The record written with ``body``, checked to be what the API serves, in its read shape."""
    record = send(api, verb, entity, body, 201 if verb == "POST" else 200).json()
    conform(record, entity.schema)
    assert api.get(entity, record["id"]) == record
    return record


def kept(api: Api, verb: str, entity: Entity, body: dict[str, Any]) -> dict[str, Any]:
    """The record written with ``body``, as the API serves it (not checked against the seeded data's shapes)."""
    record = send(api, verb, entity, body, 201 if verb == "POST" else 200).json()
    assert api.get(entity, record["id"]) == record
    return record


def refused(api: Api, verb: str, entity: Entity, body: dict[str, Any]) -> dict[str, str]:
    """The 422's ``fields`` for ``body``; nothing was created or changed."""
    before = api.walk(entity)
    fields = send(api, verb, entity, body, 422).json()["fields"]
    assert api.walk(entity) == before
    return fields


# --- jobseekers ---------------------------------------------------------------------------------------------------

ADDRESS = {"street": None, "postalCode": None, "city": None, "region": None, "countryCode": None}


@by_verb
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"emails": [{"value": "x@y.cz"}]}, {"emails": [{"value": "x@y.cz", "type": "private", "primary": True}]}),
        (
            {"emails": [{"value": " eva@firma.cz ", "type": "work"}, {"value": "eva@seznam.cz", "primary": True}]},
            {"emails": [{"value": "eva@firma.cz", "type": "work", "primary": False},
                        {"value": "eva@seznam.cz", "type": "private", "primary": True}]},
        ),
        ({"emails": [{"value": "q6@b.cz", "type": "work"}, {"value": "Q6@B.cz", "primary": True}]},
         {"emails": [{"value": "q6@b.cz", "type": "work", "primary": True}]}),
        ({"phones": [{"value": "+420 601 123 456"}]},
         {"phones": [{"value": "+420 601 123 456", "type": "mobile", "primary": True}]}),
        ({"address": {"city": "Brno"}}, {"address": {**ADDRESS, "city": "Brno"}}),
        ({"address": {"street": " Lidická 12 ", "countryCode": "cz"}},
         {"address": {**ADDRESS, "street": "Lidická 12", "countryCode": "CZ"}}),
        ({"firstName": "  Jana ", "currentCompany": ""}, {"firstName": "Jana", "currentCompany": None}),
        ({"salaryExpectation": {"amount": 45_000, "currency": "czk", "period": "month"}},
         {"salaryExpectation": {"amount": 45_000, "currency": "CZK", "period": "month"}}),
        ({"gdprConsent": {"given": True, "givenAt": "2024-03-01T08:00:00+01:00", "expiresAt": "2026-03-01"}},
         {"gdprConsent": {"given": True, "givenAt": "2024-03-01T07:00:00Z", "expiresAt": "2026-03-01"}}),
        ({"gdprConsent": {"given": False}}, {"gdprConsent": {"given": False, "givenAt": None, "expiresAt": None}}),
    ],
)  # fmt: skip
def test_jobseeker_fields_are_stored_as_the_api_writes_them(
    api: Api, verb: str, body: dict[str, Any], expected: dict[str, Any]
) -> None:
    record = stored(api, verb, JOBSEEKERS, body)
    assert {key: record[key] for key in expected} == expected


@by_verb
@pytest.mark.parametrize("given_name", [None, "Whatever the body says"])
def test_jobseeker_source_is_the_codebook_entry(api: Api, verb: str, given_name: str | None) -> None:
    entry = api.codebook("jobseekerSources")[-1]
    source = {"id": entry["id"]} if given_name is None else {"id": entry["id"], "name": given_name}
    record = stored(api, verb, JOBSEEKERS, {"source": source})
    assert record["source"] == {"id": entry["id"], "name": entry["name"]}
    assert stored(api, "PATCH", JOBSEEKERS, {"source": None})["source"] is None


@by_verb
@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"address": {"town": "Brno"}}, {"address.town": "unknown_field"}),
        ({"emails": [{"value": "x@y.cz", "label": "home"}]}, {"emails[0].label": "unknown_field"}),
        ({"salaryExpectation": {"amount": 1, "currency": "EUR", "period": "year", "net": True}},
         {"salaryExpectation.net": "unknown_field"}),
        ({"gdprConsent": {"given": True, "givenAt": "2024-03-01T08:00:00", "expiresAt": "2026-03-01"}},
         {"gdprConsent.givenAt": "invalid_format"}),
        ({"gdprConsent": {"given": True, "givenAt": "yesterday", "expiresAt": "2026-03-01"}},
         {"gdprConsent.givenAt": "invalid_format"}),
        ({"gdprConsent": {"given": True, "expiresAt": "1.3.2026"}}, {"gdprConsent.expiresAt": "invalid_format"}),
        ({"gdprConsent": {"given": True, "expiresAt": "2026-03-01", "note": "by phone"}},
         {"gdprConsent.note": "unknown_field"}),
        ({"source": {"id": MISSING_ID, "name": "Ghost board"}}, {"source.id": "not_found"}),
        ({"source": {"id": 1, "name": "Board", "url": "https://board.example"}}, {"source.url": "unknown_field"}),
    ],
)  # fmt: skip
def test_bad_jobseeker_bodies_are_422(api: Api, verb: str, body: dict[str, Any], fields: dict[str, str]) -> None:
    assert refused(api, verb, JOBSEEKERS, body) == fields


# --- projects, users, applications --------------------------------------------------------------------------------

SALARY = {"amount": 4_000, "currency": "EUR", "period": "month"}


@by_verb
@pytest.mark.parametrize(
    "body",
    [
        {"visibility": "Secret"},
        {"employmentType": "gig work"},
        {"experienceLevel": "GURU"},
        {"remote": "on-the-moon"},
        {"salary": {**SALARY, "period": "Week"}},
        {"salary": {**SALARY, "amount": "4000"}},
        {"salary": {**SALARY, "currency": "EURO"}},
        {"salary": {**SALARY, "currency": "eur"}},
        {"salary": {"amount": 4_000, "period": "month"}},
        {"salary": {**SALARY, "bonus": 500}},
        {"hiringTeam": [{"userId": 2, "role": "recruiter", "since": "2024-01-01"}]},
        {"hiringTeam": [{"userId": 2, "role": "Recruiter"}]},
    ],
)
def test_project_fields_must_have_the_read_shape(api: Api, verb: str, body: dict[str, Any]) -> None:
    assert refused(api, verb, PROJECTS, body) == dict.fromkeys(body, "invalid")


@by_verb
def test_enum_values_recru_may_add_are_taken_as_given(api: Api, verb: str) -> None:
    """Any lowercase snake_case value (recru-api §1): what a client does with a value it does not know can be tried."""
    body = {
        "status": "paused", "visibility": "partners_only", "employmentType": "seasonal_work",
        "experienceLevel": "principal", "remote": "flexible", "salary": {**SALARY, "period": "week"},
        "hiringTeam": [{"userId": api.walk(USERS)[0]["id"], "role": "sourcer"}],
    }  # fmt: skip
    record = send(api, verb, PROJECTS, body, 201 if verb == "POST" else 200).json()
    assert api.get(PROJECTS, record["id"]) == record
    assert {key: record[key] for key in body} == body


@by_verb
def test_project_codebook_references_must_exist(api: Api, verb: str) -> None:
    department, reason = api.codebook("departments")[-1]["id"], api.codebook("projectCloseReasons")[-1]["id"]
    locations = [entry["id"] for entry in api.codebook("locations")[:2]]
    body = {
        "departmentId": department, "closeReasonId": reason, "locationIds": locations, "remote": None,
        "employmentType": "working_student", "experienceLevel": None, "visibility": "confidential",
        "salary": {"amount": 14.5, "currency": None, "period": "hour"},
    }  # fmt: skip
    record = stored(api, verb, PROJECTS, body)
    assert {key: record[key] for key in body} == body
    for key, dangling in (("departmentId", MISSING_ID), ("closeReasonId", MISSING_ID), ("locationIds", [MISSING_ID])):
        assert refused(api, verb, PROJECTS, {key: dangling}) == {key: "not_found"}


@by_verb
@pytest.mark.parametrize(
    "email", ["not-an-email", "jana @example.cz", "jana@example"], ids=["no-at", "space", "no-dot"]
)
def test_a_user_email_that_is_no_address_is_stored_as_a_recruiter_may(api: Api, verb: str, email: str) -> None:
    """RECRU holds such addresses (recru-mapping: "email (null if invalid)"); only the API's writes check them."""
    assert kept(api, verb, USERS, {"email": email})["email"] == email


@by_verb
@pytest.mark.parametrize("email", [" jana@example.cz", ""], ids=["padded", "empty"])
def test_a_user_email_must_be_trimmed_text(api: Api, verb: str, email: str) -> None:
    assert refused(api, verb, USERS, {"email": email}) == {"email": "invalid"}


@by_verb
def test_a_jobseeker_email_that_is_no_address_is_stored_as_a_recruiter_may(api: Api, verb: str) -> None:
    emails = [{"value": "eva@firma.cz", "type": "work", "primary": True}, {"value": "eva at home", "type": "private"}]
    record = kept(api, verb, JOBSEEKERS, {"firstName": "Eva", "lastName": "Nová", "emails": emails})
    assert [e["value"] for e in record["emails"]] == ["eva@firma.cz", "eva at home"]
    refused_by_the_api = api.fields(
        "JobseekerService.create",
        {"jobseeker": {"firstName": "E", "lastName": "N", "emails": [{"value": "eva at home"}]}},
    )
    assert refused_by_the_api == {"jobseeker.emails[0].value": "invalid_email"}


@by_verb
def test_application_rejection_reason_must_exist(api: Api, verb: str) -> None:
    project = api.open_project()
    pair = {"jobseekerId": api.new_jobseeker(), "projectId": project["id"]} if verb == "POST" else {}
    fields = refused(api, verb, APPLICATIONS, {**pair, "status": "rejected", "rejectionReasonId": MISSING_ID})
    assert fields == {"rejectionReasonId": "not_found"}
    reason = api.codebook("rejectionReasons")[-1]["id"]
    record = stored(api, verb, APPLICATIONS, {**pair, "status": "rejected", "rejectionReasonId": reason})
    assert (record["status"], record["rejectionReasonId"]) == ("rejected", reason)


def test_an_application_reference_left_out_is_required_and_one_to_no_record_not_found(api: Api) -> None:
    assert refused(api, "POST", APPLICATIONS, {}) == {"jobseekerId": "required", "projectId": "required"}
    body = {"jobseekerId": MISSING_ID, "projectId": MISSING_ID}
    assert refused(api, "POST", APPLICATIONS, body) == {"jobseekerId": "not_found", "projectId": "not_found"}
    jobseeker = api.new_jobseeker()
    assert refused(api, "POST", APPLICATIONS, {"jobseekerId": jobseeker}) == {"projectId": "required"}
    empty_pipeline = api.create("projects", stageIds=[])["id"]
    body = {"jobseekerId": jobseeker, "projectId": empty_pipeline}
    assert refused(api, "POST", APPLICATIONS, body) == {"stageId": "required"}  # no first stage to default to
    stage = api.items("StageService.list")[0]["id"]
    assert stored(api, "POST", APPLICATIONS, {**body, "stageId": stage})["stageId"] == stage


# --- seeded records -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "change"), [(JOBSEEKERS, {"currentPosition": "Prüfer"}), (PROJECTS, {"code": "X-1"})], ids=["js", "pr"]
)
def test_patching_seeded_records_changes_only_what_is_patched(api: Api, entity: Entity, change: dict[str, Any]) -> None:
    """Every seeded record passes the control's checks as it is: a PATCH with all of its own fields changes
    nothing (not even ``updatedAt``), and one field patched leaves the others alone."""
    patched = []
    for record in api.walk(entity):
        own = {key: value for key, value in record.items() if key not in MANAGED}
        assert api.patch(entity.control, record["id"], **own) == record
        patched.append(api.patch(entity.control, record["id"], **change))
        assert patched[-1] == {**record, **change, "updatedAt": patched[-1]["updatedAt"]}
    assert api.walk(entity) == patched
