"""§6, §9: JobseekerService.create, ApplicationService.create, addTag/removeTag — validation, order, atomicity."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import (
    APPLICATIONS,
    FROZEN,
    JOBSEEKER,
    JOBSEEKERS,
    PROJECTS,
    Api,
    MiB,
    attachment,
    conform,
    is_id,
    is_ts,
    jobseeker_input,
    unique_email,
)


def email(value: str, type_: str = "private", primary: bool = True) -> dict[str, Any]:
    return {"value": value, "type": type_, "primary": primary}


def snapshot(api: Api, jid: int | None = None) -> dict[str, Any]:
    """Everything a failed write could have touched."""
    state: dict[str, Any] = {
        "jobseekers": api.total(JOBSEEKERS),
        "applications": api.total(APPLICATIONS),
        "sources": api.codebook("jobseekerSources"),
    }
    if jid is not None:
        state["jobseeker"] = api.get(JOBSEEKERS, jid)
        state["attachments"] = api.items("AttachmentService.list", {"jobseekerId": jid})
    return state


@pytest.fixture
def unchanged(api: Api) -> Iterator[None]:
    """The test's writes must all fail: nothing may be created anywhere."""
    before = snapshot(api)
    yield
    assert snapshot(api) == before


# --- JobseekerService.create -------------------------------------------------------------------------------------


@pytest.mark.parametrize("address", [{}, {"street": "  ", "city": ""}, {"countryCode": None}])
def test_an_address_with_nothing_in_it_is_null(api: Api, address: dict[str, Any]) -> None:
    created = api.call("JobseekerService.create", {"jobseeker": {**jobseeker_input(), "address": address}})
    assert api.get(JOBSEEKERS, created["id"])["address"] is None
    patched = api.patch("jobseekers", created["id"], address={"city": "Brno"})
    assert patched["address"] == {
        "street": None,
        "postalCode": None,
        "city": "Brno",
        "region": None,
        "countryCode": None,
    }
    assert api.patch("jobseekers", created["id"], address=address)["address"] is None


def test_create_minimal_jobseeker(api: Api) -> None:
    data = jobseeker_input()
    total = api.total(JOBSEEKERS)
    result = api.call("JobseekerService.create", {"jobseeker": data})
    assert set(result) == {"id", "createdAt"}
    assert is_id(result["id"])
    assert is_ts(result["createdAt"])
    record = api.get(JOBSEEKERS, result["id"])
    conform(record, JOBSEEKER)
    nulls = ("salutation", "titleBefore", "titleAfter", "address", "currentCompany", "currentPosition")
    nulls += ("dateOfBirth", "availableFrom", "salaryExpectation", "source", "ownerUserId")
    assert record == {
        **dict.fromkeys(nulls),
        **data,
        "id": result["id"],
        "phones": [],
        "tagIds": [],
        "gdprConsent": {"given": False, "givenAt": None, "expiresAt": None},
        "createdAt": result["createdAt"],
        "updatedAt": result["createdAt"],
    }
    assert api.total(JOBSEEKERS) == total + 1
    assert api.walk(JOBSEEKERS)[-1] == record  # the highest id
    assert api.walk(JOBSEEKERS, email=data["emails"][0]["value"]) == [record]


@pytest.mark.parametrize("via", ["JobseekerService.create", "ApplicationService.create"])
def test_an_address_given_twice_in_any_case_is_stored_once(api: Api, via: str) -> None:
    """The first occurrence is kept with its type; it is primary when the repeat was."""
    address, other = unique_email(), unique_email()
    emails = [email(address, "work", False), email(other, "private", False), email(address.upper(), "private", True)]
    params: dict[str, Any] = {"jobseeker": jobseeker_input(emails=emails)}
    if via == "ApplicationService.create":
        params["projectId"] = api.open_project()["id"]
    result = api.call(via, params)
    assert api.get(JOBSEEKERS, result.get("jobseekerId", result["id"]))["emails"] == [
        email(address, "work", True),
        email(other, "private", False),
    ]


def test_create_full_jobseeker_round_trips(api: Api) -> None:
    owner = api.walk(JOBSEEKERS)[0]["ownerUserId"] or api.login()["user"]["id"]
    country = api.codebook("countries")[0]["id"]
    data = {
        "salutation": "ms", "titleBefore": "Ing.", "titleAfter": "MBA", "firstName": "Alžběta",
        "lastName": "Nováková", "emails": [email(unique_email()), email(unique_email(), "work", False)],
        "phones": [{"value": "+420 777 123 456", "type": "mobile", "primary": True},
                   {"value": "+49 30 1234567", "type": "work", "primary": False}],
        "address": {"street": "Vinohradská 12", "postalCode": "120 00", "city": "Praha", "region": "Praha",
                    "countryCode": country},
        "currentCompany": "Škoda Auto a.s.", "currentPosition": "Projektová manažerka", "dateOfBirth": "1990-04-12",
        "availableFrom": "2030-03-01", "salaryExpectation": {"amount": 65000, "currency": "CZK", "period": "month"},
        "ownerUserId": owner,
    }  # fmt: skip
    jid = api.new_jobseeker(jobseeker=data)
    record = api.get(JOBSEEKERS, jid)
    conform(record, JOBSEEKER)
    assert {k: record[k] for k in data} == data


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({}, {"jobseeker": "required"}),
        ({"jobseeker": "Jan Novák"}, {"jobseeker": "invalid_type"}),
        ({"jobseeker": {"lastName": "Novák", "emails": [email("a@example.org")]}}, {"jobseeker.firstName": "required"}),
        ({"jobseeker": {"firstName": "Jan", "emails": [email("a@example.org")]}}, {"jobseeker.lastName": "required"}),
        ({"jobseeker": {"firstName": "Jan", "lastName": "Novák"}}, {"jobseeker.emails": "required"}),
    ],
)
def test_create_jobseeker_required(api: Api, unchanged: None, params: dict[str, Any], fields: dict[str, str]) -> None:
    assert api.fields("JobseekerService.create", params) == fields


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"emails": []}, {"jobseeker.emails": "required"}),
        ({"emails": "jan@example.org"}, {"jobseeker.emails": "invalid_type"}),
        ({"emails": [{"type": "private", "primary": True}]}, {"jobseeker.emails[0].value": "required"}),
        ({"emails": [email("not-an-email")]}, {"jobseeker.emails[0].value": "invalid_email"}),
        ({"emails": [email("ok@example.org"), email("jan.novak@", "work", False)]},
         {"jobseeker.emails[1].value": "invalid_email"}),
        ({"emails": [email("ok@example.org", "home")]}, {"jobseeker.emails[0].type": "invalid_enum"}),
        ({"phones": [{"value": "+49 30 1234", "type": "fax", "primary": True}]},
         {"jobseeker.phones[0].type": "invalid_enum"}),
        ({"firstName": "J" * 5000}, {"jobseeker.firstName": "too_long"}),
        ({"lastName": "N" * 5000}, {"jobseeker.lastName": "too_long"}),
        ({"firstName": 5}, {"jobseeker.firstName": "invalid_type"}),
        ({"salutation": "sir"}, {"jobseeker.salutation": "invalid_enum"}),
        ({"dateOfBirth": "12.04.1990"}, {"jobseeker.dateOfBirth": "invalid_format"}),
        ({"availableFrom": "2030-02-30"}, {"jobseeker.availableFrom": "invalid_format"}),
        ({"dateOfBirth": "1990-W01-1"}, {"jobseeker.dateOfBirth": "invalid_format"}),  # ISO 8601, not YYYY-MM-DD
        ({"availableFrom": "20300201"}, {"jobseeker.availableFrom": "invalid_format"}),
        ({"salaryExpectation": {"amount": 50000, "currency": "EUR", "period": "hour"}},
         {"jobseeker.salaryExpectation.period": "invalid_enum"}),
        ({"salaryExpectation": {"amount": 2**53 + 1, "currency": "EUR", "period": "year"}},
         {"jobseeker.salaryExpectation.amount": "out_of_range"}),  # past what a reader of doubles reads exactly
        ({"salaryExpectation": {"amount": 10**400, "currency": "EUR", "period": "year"}},
         {"jobseeker.salaryExpectation.amount": "out_of_range"}),
        ({"ownerUserId": "me"}, {"jobseeker.ownerUserId": "invalid_type"}),
    ],
)  # fmt: skip
def test_create_jobseeker_invalid(api: Api, unchanged: None, change: dict[str, Any], fields: dict[str, str]) -> None:
    assert api.fields("JobseekerService.create", {"jobseeker": jobseeker_input(**change)}) == fields


def test_create_jobseeker_unknown_owner(api: Api, unchanged: None) -> None:
    error = api.error("JobseekerService.create", {"jobseeker": jobseeker_input(ownerUserId=987_654)}, -32004)
    assert error["data"] == {"entity": "user", "id": 987_654}


def test_duplicate_email_is_a_conflict(api: Api, unchanged: None) -> None:
    target = next(j for j in api.walk(JOBSEEKERS) if len(j["emails"]) >= 2)
    for existing in target["emails"]:
        for variant in (existing["value"], existing["value"].upper(), existing["value"].title()):
            params = {"jobseeker": jobseeker_input(emails=[email(unique_email()), email(variant, "work", False)])}
            assert api.error("JobseekerService.create", params, -32009)["data"] == {"existingId": target["id"]}


def test_duplicate_email_reports_the_lowest_matching_id(api: Api, unchanged: None) -> None:
    low, *_, high = api.walk(JOBSEEKERS)
    emails = [email(high["emails"][0]["value"]), email(low["emails"][-1]["value"].upper(), "work", False)]
    error = api.error("JobseekerService.create", {"jobseeker": jobseeker_input(emails=emails)}, -32009)
    assert error["data"] == {"existingId": low["id"]}


def test_a_created_email_is_taken(api: Api) -> None:
    data = jobseeker_input()
    jid = api.new_jobseeker(jobseeker=data)
    again = jobseeker_input(emails=[email(data["emails"][0]["value"].upper())])
    assert api.error("JobseekerService.create", {"jobseeker": again}, -32009)["data"] == {"existingId": jid}


# --- sources -----------------------------------------------------------------------------------------------------


def test_source_by_id(api: Api) -> None:
    source = next(s for s in api.codebook("jobseekerSources") if s["active"])
    jid = api.new_jobseeker(source={"id": source["id"]})
    assert api.get(JOBSEEKERS, jid)["source"] == {"id": source["id"], "name": source["name"]}


def test_source_unknown_id(api: Api, unchanged: None) -> None:
    error = api.error("JobseekerService.create", {"jobseeker": jobseeker_input(), "source": {"id": 987_654}}, -32004)
    assert error["data"] == {"entity": "source", "id": 987_654}


@pytest.mark.parametrize("variant", [str.upper, str.lower, lambda n: f"  {n} "])
def test_source_by_existing_name(api: Api, variant: Any) -> None:
    sources = api.codebook("jobseekerSources")
    source = sources[0]
    jid = api.new_jobseeker(source={"name": variant(source["name"])})
    assert api.get(JOBSEEKERS, jid)["source"] == {"id": source["id"], "name": source["name"]}
    assert api.codebook("jobseekerSources") == sources


def test_source_by_new_name_creates_an_entry(api: Api) -> None:
    sources = api.codebook("jobseekerSources")
    jid = api.new_jobseeker(source={"name": "  Karriere-Messe Wien  "})
    after = api.codebook("jobseekerSources")
    assert after[: len(sources)] == sources
    assert len(after) == len(sources) + 1
    entry = after[-1]
    assert entry["name"] == "Karriere-Messe Wien"
    assert entry["active"] is True
    assert entry["id"] > max(s["id"] for s in sources)
    assert api.get(JOBSEEKERS, jid)["source"] == {"id": entry["id"], "name": "Karriere-Messe Wien"}
    other = api.new_jobseeker(source={"name": "KARRIERE-MESSE WIEN"})
    assert api.get(JOBSEEKERS, other)["source"]["id"] == entry["id"]
    assert len(api.codebook("jobseekerSources")) == len(after)


def test_source_by_name_matches_inactive_entries(api: Api) -> None:
    source = api.codebook("jobseekerSources")[-1]
    api.delete("sources", source["id"])
    sources = api.codebook("jobseekerSources")
    jid = api.new_jobseeker(source={"name": source["name"].upper()})
    assert api.get(JOBSEEKERS, jid)["source"]["id"] == source["id"]
    assert api.codebook("jobseekerSources") == sources


def test_source_id_and_name_are_not_allowed_together(api: Api, unchanged: None) -> None:
    source = api.codebook("jobseekerSources")[0]
    params = {"jobseeker": jobseeker_input(), "source": {"id": source["id"], "name": "Neu"}}
    fields = api.fields("JobseekerService.create", params)
    assert all(k.startswith("source") for k in fields), fields
    assert set(fields.values()) == {"not_allowed"}, fields


def test_existing_source_is_never_overwritten(api: Api) -> None:
    first, second = api.codebook("jobseekerSources")[:2]
    jid = api.new_jobseeker(source={"id": first["id"]})
    api.freeze(FROZEN)
    before = snapshot(api, jid)
    for source in ({"id": second["id"]}, {"name": "Nie angelegt GmbH"}):
        project = api.open_project()
        api.call("ApplicationService.create", {"projectId": project["id"], "jobseekerId": jid, "source": source})
    after = snapshot(api, jid)
    assert after["jobseeker"] == before["jobseeker"]
    assert after["sources"] == before["sources"]


# --- consent -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("consent", "stored"),
    [
        ({"given": True, "expiresAt": "2030-01-02"}, {"given": True, "givenAt": FROZEN, "expiresAt": "2030-01-02"}),
        ({"given": True, "givenAt": "2029-12-31T23:30:00+01:00", "expiresAt": "2032-12-31"},
         {"given": True, "givenAt": "2029-12-31T22:30:00Z", "expiresAt": "2032-12-31"}),
        ({"given": True, "givenAt": "2029-06-01T08:00:00Z", "expiresAt": "2031-06-01"},
         {"given": True, "givenAt": "2029-06-01T08:00:00Z", "expiresAt": "2031-06-01"}),
    ],
)  # fmt: skip
def test_consent_is_stored(api: Api, consent: dict[str, Any], stored: dict[str, Any]) -> None:
    api.freeze(FROZEN)
    jid = api.new_jobseeker(gdprConsent=consent)
    assert api.get(JOBSEEKERS, jid)["gdprConsent"] == stored


def test_consent_not_given(api: Api) -> None:
    jid = api.new_jobseeker(gdprConsent={"given": False, "expiresAt": None})
    consent = api.get(JOBSEEKERS, jid)["gdprConsent"]
    assert (consent["given"], consent["expiresAt"]) == (False, None)


@pytest.mark.parametrize(
    ("consent", "fields"),
    [
        ({"given": True, "expiresAt": "2030-01-01"}, {"gdprConsent.expiresAt": "must_be_future_date"}),
        ({"given": True, "expiresAt": "2030-01-01T12:00:00Z"}, {"gdprConsent.expiresAt": "invalid_format"}),
        ({"given": True, "expiresAt": "2029-12-31"}, {"gdprConsent.expiresAt": "must_be_future_date"}),
        ({"given": True, "expiresAt": "2020-05-05"}, {"gdprConsent.expiresAt": "must_be_future_date"}),
        ({"given": False, "expiresAt": "2031-01-01"}, {"gdprConsent.expiresAt": "not_allowed"}),
        ({"given": True, "expiresAt": "01/01/2031"}, {"gdprConsent.expiresAt": "invalid_format"}),
        ({"given": True, "expiresAt": "2031-W01-1"}, {"gdprConsent.expiresAt": "invalid_format"}),
        ({"given": True, "givenAt": "20291201T100000Z", "expiresAt": "2031-01-01"},
         {"gdprConsent.givenAt": "invalid_format"}),
        ({"given": True, "givenAt": "2029-12-01T10:00:00", "expiresAt": "2031-01-01"},
         {"gdprConsent.givenAt": "invalid_format"}),
        ({"given": "yes", "expiresAt": "2031-01-01"}, {"gdprConsent.given": "invalid_type"}),
        ({"expiresAt": "2031-01-01"}, {"gdprConsent.given": "required"}),
    ],
)  # fmt: skip
def test_consent_rules(api: Api, consent: dict[str, Any], fields: dict[str, str]) -> None:
    api.freeze(FROZEN)
    before = snapshot(api)
    assert api.fields("JobseekerService.create", {"jobseeker": jobseeker_input(), "gdprConsent": consent}) == fields
    assert snapshot(api) == before


def test_consent_expiry_is_compared_with_the_utc_date(api: Api) -> None:
    api.freeze("2030-01-01T23:30:00-05:00")  # already 2030-01-02 in UTC
    consent = {"given": True, "expiresAt": "2030-01-02"}
    fields = api.fields("JobseekerService.create", {"jobseeker": jobseeker_input(), "gdprConsent": consent})
    assert fields == {"gdprConsent.expiresAt": "must_be_future_date"}
    jid = api.new_jobseeker(gdprConsent={"given": True, "expiresAt": "2030-01-03"})
    assert api.get(JOBSEEKERS, jid)["gdprConsent"]["givenAt"] == "2030-01-02T04:30:00Z"


@pytest.mark.parametrize("consent", [{"given": True}, {"given": True, "expiresAt": None}])
def test_consent_given_needs_an_expiry_after_today(api: Api, unchanged: None, consent: dict[str, Any]) -> None:
    fields = api.fields("JobseekerService.create", {"jobseeker": jobseeker_input(), "gdprConsent": consent})
    assert fields == {"gdprConsent.expiresAt": "must_be_future_date"}


# --- attachments -------------------------------------------------------------------------------------------------


def test_attachment_of_exactly_10_mib_is_accepted(api: Api) -> None:
    jid = api.new_jobseeker(attachments=[attachment(b"\x00" * (10 * MiB))])
    assert [a["size"] for a in api.items("AttachmentService.list", {"jobseekerId": jid})] == [10 * MiB]


@pytest.mark.parametrize(
    ("files", "fields"),
    [
        ([attachment(), attachment(b"\x01" * (10 * MiB + 1))], {"attachments[1].data": "file_too_large"}),
        ([attachment(b"x" * (9 * MiB)) for _ in range(3)], {"attachments": "file_too_large"}),
        ([attachment(b"\x01" * (10 * MiB + 1)), attachment(b"x" * (10 * MiB)), attachment(b"x" * (10 * MiB))],
         {"attachments[0].data": "file_too_large", "attachments": "file_too_large"}),
        ([attachment() for _ in range(11)], {"attachments": "too_many"}),
        ([attachment() for _ in range(10)] + [{**attachment(), "data": "not base64!!"}],
         {"attachments": "too_many", "attachments[10].data": "invalid_base64"}),
        ([{**attachment(), "data": "not base64!!"}], {"attachments[0].data": "invalid_base64"}),
        ([attachment(), {**attachment(), "data": "QUJD="}], {"attachments[1].data": "invalid_base64"}),
        ([attachment(ct="application/zip")], {"attachments[0].contentType": "unsupported_content_type"}),
        ([attachment(ct="application/x-msdownload", name="cv.exe")],
         {"attachments[0].contentType": "unsupported_content_type"}),
        ([attachment(type_="resume")], {"attachments[0].type": "invalid_enum"}),
        ([{k: v for k, v in attachment().items() if k != "fileName"}], {"attachments[0].fileName": "required"}),
        ([{k: v for k, v in attachment().items() if k != "data"}], {"attachments[0].data": "required"}),
        ("cv.pdf", {"attachments": "invalid_type"}),
    ],
    ids=["too-large", "total-too-large", "too-large-in-too-large-total", "too-many", "too-many-and-bad-base64",
         "bad-base64", "bad-padding", "zip", "exe", "type", "no-name", "no-data", "not-a-list"],
)  # fmt: skip
def test_attachment_limits(api: Api, unchanged: None, files: Any, fields: dict[str, str]) -> None:
    params = {"jobseeker": jobseeker_input(), "attachments": files}
    assert api.fields("JobseekerService.create", params) == fields


def test_ten_attachments_are_accepted(api: Api) -> None:
    jid = api.new_jobseeker(attachments=[attachment(name=f"zeugnis-{i}.pdf", type_="certificate") for i in range(10)])
    assert len(api.items("AttachmentService.list", {"jobseekerId": jid})) == 10


# --- atomicity of JobseekerService.create -------------------------------------------------------------------------


def test_failed_create_creates_no_source_and_no_file(api: Api, unchanged: None) -> None:
    taken = api.walk(JOBSEEKERS)[5]["emails"][0]["value"]
    params = {
        "jobseeker": jobseeker_input(emails=[email(taken)]),
        "source": {"name": "Nur bei Erfolg"},
        "gdprConsent": {"given": True, "expiresAt": "2099-01-01"},
        "attachments": [attachment()],
    }
    api.error("JobseekerService.create", params, -32009)
    params["attachments"] = [attachment(), attachment(ct="application/zip")]
    params["jobseeker"] = jobseeker_input()
    api.fields("JobseekerService.create", params)


# --- ApplicationService.create -----------------------------------------------------------------------------------


def test_create_application_for_an_existing_jobseeker(api: Api) -> None:
    project = api.open_project()
    jobseeker = api.walk(JOBSEEKERS)[3]
    total = api.total(APPLICATIONS)
    result = api.call("ApplicationService.create", {"projectId": project["id"], "jobseekerId": jobseeker["id"]})
    assert set(result) == {"id", "jobseekerId", "createdAt"}
    assert result["jobseekerId"] == jobseeker["id"]
    app = api.get(APPLICATIONS, result["id"])
    assert app == {
        "id": result["id"], "jobseekerId": jobseeker["id"], "projectId": project["id"],
        "stageId": project["stageIds"][0], "status": "active", "rejectionReasonId": None,
        "appliedAt": app["appliedAt"], "createdAt": result["createdAt"], "updatedAt": result["createdAt"],
    }  # fmt: skip
    assert api.total(APPLICATIONS) == total + 1
    assert api.walk(APPLICATIONS, projectId=project["id"]) == [app]


def test_create_application_with_an_inline_jobseeker(api: Api) -> None:
    project = api.open_project()
    data = jobseeker_input(firstName="Łukasz", lastName="Wiśniewski")
    totals = api.total(JOBSEEKERS), api.total(APPLICATIONS)
    result = api.call("ApplicationService.create", {"projectId": project["id"], "jobseeker": data})
    jobseeker = api.get(JOBSEEKERS, result["jobseekerId"])
    assert (jobseeker["firstName"], jobseeker["lastName"], jobseeker["emails"]) == (
        "Łukasz",
        "Wiśniewski",
        data["emails"],
    )
    assert api.get(APPLICATIONS, result["id"])["jobseekerId"] == jobseeker["id"]
    assert (api.total(JOBSEEKERS), api.total(APPLICATIONS)) == (totals[0] + 1, totals[1] + 1)


def test_create_application_with_stage_and_applied_at(api: Api) -> None:
    project = api.open_project()
    stage = project["stageIds"][-1]
    params = {"projectId": project["id"], "jobseeker": jobseeker_input(), "stageId": stage,
              "appliedAt": "2029-11-30T18:15:00-05:00"}  # fmt: skip
    app = api.get(APPLICATIONS, api.call("ApplicationService.create", params)["id"])
    assert (app["stageId"], app["appliedAt"], app["status"]) == (stage, "2029-11-30T23:15:00Z", "active")


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({}, {"projectId": "required", "jobseeker": "required"}),
        ({"projectId": "P-1", "jobseekerId": 1}, {"projectId": "invalid_type"}),
        ({"jobseekerId": 1}, {"projectId": "required"}),
        ({"jobseekerId": 1, "projectId": 1, "appliedAt": "2029-11-30T18:15:00"}, {"appliedAt": "invalid_format"}),
        ({"jobseekerId": 1, "projectId": 1, "stageId": "first"}, {"stageId": "invalid_type"}),
        ({"projectId": 1, "jobseeker": {"firstName": "Jan"}},
         {"jobseeker.lastName": "required", "jobseeker.emails": "required"}),
    ],
)  # fmt: skip
def test_create_application_bad_params(
    api: Api, unchanged: None, params: dict[str, Any], fields: dict[str, str]
) -> None:
    assert api.fields("ApplicationService.create", params) == fields


def test_create_application_needs_exactly_one_jobseeker(api: Api, unchanged: None) -> None:
    project = api.open_project()
    before = snapshot(api)
    assert api.fields("ApplicationService.create", {"projectId": project["id"]}) == {"jobseeker": "required"}
    params = {"projectId": project["id"], "jobseekerId": api.walk(JOBSEEKERS)[0]["id"], "jobseeker": jobseeker_input()}
    fields = api.fields("ApplicationService.create", params)
    assert fields
    assert set(fields) <= {"jobseeker", "jobseekerId"}
    assert set(fields.values()) == {"not_allowed"}
    assert snapshot(api) == before


def test_create_application_unknown_records(api: Api) -> None:
    project = api.open_project()
    before = snapshot(api)
    error = api.error("ApplicationService.create", {"projectId": 987_654, "jobseeker": jobseeker_input()}, -32004)
    assert error["data"] == {"entity": "project", "id": 987_654}
    error = api.error("ApplicationService.create", {"projectId": project["id"], "jobseekerId": 987_654}, -32004)
    assert error["data"] == {"entity": "jobseeker", "id": 987_654}
    params = {"projectId": project["id"], "jobseeker": jobseeker_input(), "source": {"id": 987_654}}
    assert api.error("ApplicationService.create", params, -32004)["data"] == {"entity": "source", "id": 987_654}
    assert snapshot(api) == before


@pytest.mark.parametrize("status", ["draft", "on_hold", "closed", "archived"])
def test_create_application_needs_an_open_project(api: Api, status: str) -> None:
    project = api.open_project()
    api.patch("projects", project["id"], status=status)
    before = snapshot(api)
    error = api.error("ApplicationService.create", {"projectId": project["id"], "jobseeker": jobseeker_input()}, -32010)
    assert error["data"] == {"projectId": project["id"], "status": status}
    assert snapshot(api) == before


def test_create_application_stage_must_be_in_the_pipeline(api: Api) -> None:
    project = api.open_project()
    outside = next(s["id"] for s in api.items("StageService.list") if s["id"] not in project["stageIds"])
    jid = api.walk(JOBSEEKERS)[0]["id"]
    before = snapshot(api, jid)
    for stage in (outside, 987_654, 0):
        params = {"projectId": project["id"], "jobseekerId": jid, "stageId": stage}
        assert api.fields("ApplicationService.create", params) == {"stageId": "not_allowed"}
    assert snapshot(api, jid) == before


def test_create_application_without_a_pipeline_has_no_stage_to_take(api: Api) -> None:
    """No stageId and an empty pipeline: the default stage is outside the pipeline too (§9), checked after the
    project's existence and state and before the conflicts."""
    project = api.create("projects", status="open", stageIds=[])
    closed = api.create("projects", status="closed", stageIds=[])
    jid = api.walk(JOBSEEKERS)[0]["id"]
    api.create(
        "applications", jobseekerId=jid, projectId=project["id"], stageId=api.items("StageService.list")[0]["id"]
    )
    taken = api.walk(JOBSEEKERS)[1]["emails"][0]["value"]
    before = snapshot(api, jid)
    for params in (
        {"projectId": project["id"], "jobseeker": jobseeker_input()},
        {"projectId": project["id"], "jobseekerId": api.walk(JOBSEEKERS)[2]["id"]},
        {"projectId": project["id"], "jobseekerId": jid},
        {"projectId": project["id"], "jobseeker": jobseeker_input(emails=[email(taken)])},
    ):
        assert api.fields("ApplicationService.create", params) == {"stageId": "not_allowed"}
    assert api.error("ApplicationService.create", {"projectId": project["id"], "jobseekerId": 987_654}, -32004)
    assert api.error("ApplicationService.create", {"projectId": closed["id"], "jobseekerId": jid}, -32010)
    assert snapshot(api, jid) == before


def test_create_application_existing_pair(api: Api) -> None:
    existing = api.walk(APPLICATIONS)[0]
    project = api.get(PROJECTS, existing["projectId"])
    if project["status"] != "open":
        api.patch("projects", project["id"], status="open")
    before = snapshot(api, existing["jobseekerId"])
    params = {"projectId": existing["projectId"], "jobseekerId": existing["jobseekerId"]}
    assert api.error("ApplicationService.create", params, -32009)["data"] == {"existingId": existing["id"]}
    assert snapshot(api, existing["jobseekerId"]) == before


def test_create_application_inline_duplicate_email(api: Api) -> None:
    project = api.open_project()
    target = api.walk(JOBSEEKERS)[10]
    data = jobseeker_input(emails=[email(target["emails"][-1]["value"].upper())])
    before = snapshot(api)
    error = api.error("ApplicationService.create", {"projectId": project["id"], "jobseeker": data}, -32009)
    assert error["data"] == {"existingId": target["id"]}
    assert snapshot(api) == before


def test_application_attachments_carry_the_application_id(api: Api) -> None:
    project = api.open_project()
    files = [attachment(name="cv.pdf"), attachment(b"Hallo", name="brief.txt", ct="text/plain", type_="cover_letter")]
    result = api.call("ApplicationService.create", {"projectId": project["id"], "jobseeker": jobseeker_input(),
                                                    "attachments": files})  # fmt: skip
    items = api.items("AttachmentService.list", {"jobseekerId": result["jobseekerId"]})
    assert sorted(i["fileName"] for i in items) == ["brief.txt", "cv.pdf"]
    assert {i["applicationId"] for i in items} == {result["id"]}
    data = {i["fileName"]: api.call("AttachmentService.download", {"id": i["id"]})["data"] for i in items}
    assert base64.b64decode(data["brief.txt"]) == b"Hallo"


# --- order of checks (§9) ---------------------------------------------------------------------------------------


class Setup:
    """A closed project with an application, an open project with an application, and an unused stage."""

    def __init__(self, api: Api) -> None:
        self.open = api.open_project()
        self.closed = api.open_project()
        self.jid = api.walk(JOBSEEKERS)[0]["id"]
        self.taken = api.walk(JOBSEEKERS)[1]["emails"][0]["value"]
        for project in (self.open, self.closed):
            api.call("ApplicationService.create", {"projectId": project["id"], "jobseekerId": self.jid})
        api.patch("projects", self.closed["id"], status="closed")
        self.outside = next(s["id"] for s in api.items("StageService.list") if s["id"] not in self.open["stageIds"])


@pytest.mark.parametrize(
    ("case", "code", "expected"),
    [
        ("unknown project + bad stage", -32004, "project"),
        ("unknown project + duplicate email", -32004, "project"),
        ("unknown jobseeker + closed project", -32004, "jobseeker"),
        ("unknown source + closed project", -32004, "source"),
        ("closed project + duplicate pair", -32010, None),
        ("closed project + bad stage", -32010, None),
        ("closed project + duplicate email", -32010, None),
        ("bad stage + duplicate pair", -32602, "not_allowed"),
        ("bad stage + duplicate email", -32602, "not_allowed"),
        ("bad email + unknown project", -32602, "invalid_email"),
        ("bad type + closed project", -32602, "invalid_type"),
    ],
)
def test_check_order(api: Api, case: str, code: int, expected: str | None) -> None:
    s = Setup(api)
    dup, fresh = jobseeker_input(emails=[email(s.taken)]), jobseeker_input()
    bad = jobseeker_input(emails=[email("x@")])
    opened, closed, unknown = s.open["id"], s.closed["id"], 987_654
    params: dict[str, Any] = {
        "unknown project + bad stage": {"projectId": unknown, "jobseekerId": s.jid, "stageId": unknown},
        "unknown project + duplicate email": {"projectId": unknown, "jobseeker": dup},
        "unknown jobseeker + closed project": {"projectId": closed, "jobseekerId": unknown},
        "unknown source + closed project": {"projectId": closed, "jobseekerId": s.jid, "source": {"id": unknown}},
        "closed project + duplicate pair": {"projectId": closed, "jobseekerId": s.jid},
        "closed project + bad stage": {"projectId": closed, "jobseeker": fresh, "stageId": s.outside},
        "closed project + duplicate email": {"projectId": closed, "jobseeker": dup},
        "bad stage + duplicate pair": {"projectId": opened, "jobseekerId": s.jid, "stageId": s.outside},
        "bad stage + duplicate email": {"projectId": opened, "jobseeker": dup, "stageId": unknown},
        "bad email + unknown project": {"projectId": unknown, "jobseeker": bad},
        "bad type + closed project": {"projectId": closed, "jobseekerId": s.jid, "stageId": "first"},
    }[case]
    before = snapshot(api)
    error = api.error("ApplicationService.create", params, code)
    if code == -32004:
        assert error["data"]["entity"] == expected
    elif code == -32010:
        assert error["data"] == {"projectId": s.closed["id"], "status": "closed"}
    else:
        assert list(error["data"]["fields"].values()) == [expected]
    assert snapshot(api) == before


# --- atomicity of ApplicationService.create -----------------------------------------------------------------------


@pytest.mark.parametrize("failure", ["duplicate pair", "bad stage", "bad attachment"])
def test_failed_application_changes_nothing_on_the_jobseeker(api: Api, failure: str) -> None:
    project = api.open_project()
    jid = api.new_jobseeker()
    if failure == "duplicate pair":
        api.call("ApplicationService.create", {"projectId": project["id"], "jobseekerId": jid})
    before = snapshot(api, jid)
    params = {
        "projectId": project["id"],
        "jobseekerId": jid,
        "source": {"name": "Atomar Recruiting"},
        "gdprConsent": {"given": True, "expiresAt": "2099-12-31"},
        "attachments": [attachment()] + ([{**attachment(), "data": "%%%"}] if failure == "bad attachment" else []),
    }
    if failure == "bad stage":
        params["stageId"] = 987_654
    api.error("ApplicationService.create", params, -32009 if failure == "duplicate pair" else -32602)
    assert snapshot(api, jid) == before


def test_failed_application_with_inline_jobseeker_creates_nothing(api: Api, unchanged: None) -> None:
    project = api.open_project()
    api.patch("projects", project["id"], status="closed")
    taken = api.walk(JOBSEEKERS)[7]["emails"][0]["value"]
    base = {"source": {"name": "Atomar Recruiting"}, "attachments": [attachment()]}
    api.error("ApplicationService.create", {"projectId": project["id"], "jobseeker": jobseeker_input(), **base}, -32010)
    project = api.open_project()
    data = jobseeker_input(emails=[email(unique_email()), email(taken, "work", False)])
    api.error("ApplicationService.create", {"projectId": project["id"], "jobseeker": data, **base}, -32009)


# --- tags --------------------------------------------------------------------------------------------------------


def test_add_and_remove_tag_are_idempotent(api: Api) -> None:
    jid = api.new_jobseeker()
    tags = [t["id"] for t in api.items("TagService.list")][:2]
    for tag in tags:
        for _ in range(2):
            result = api.call("JobseekerService.addTag", {"jobseekerId": jid, "tagId": tag})
    assert result["jobseekerId"] == jid
    assert sorted(result["tagIds"]) == sorted(tags)
    assert sorted(api.get(JOBSEEKERS, jid)["tagIds"]) == sorted(tags)
    for _ in range(2):
        result = api.call("JobseekerService.removeTag", {"jobseekerId": jid, "tagId": tags[0]})
        assert result == {"jobseekerId": jid, "tagIds": [tags[1]]}
    assert api.get(JOBSEEKERS, jid)["tagIds"] == [tags[1]]


@pytest.mark.parametrize("method", ["addTag", "removeTag"])
def test_tag_unknown_records(api: Api, method: str) -> None:
    jid = api.walk(JOBSEEKERS)[0]["id"]
    tag = api.items("TagService.list")[0]["id"]
    error = api.error(f"JobseekerService.{method}", {"jobseekerId": jid, "tagId": 987_654}, -32004)
    assert error["data"] == {"entity": "tag", "id": 987_654}
    error = api.error(f"JobseekerService.{method}", {"jobseekerId": 987_654, "tagId": tag}, -32004)
    assert error["data"] == {"entity": "jobseeker", "id": 987_654}
