"""Creating applications (and, the legacy way, candidates) through Kombo's SDK: what RECRU stores, what the answer
holds, which job and stage references work, and the refusals (unknown or closed job, foreign stage, duplicate)."""

from __future__ import annotations

import unicodedata
import uuid
from typing import Any

import pytest

from atsbridge.unified.ids import ModelName
from integration.actions.conftest import SOURCE_IS_DEPRECATED, ActionWorld, candidate, refusal, unique_email


def test_a_new_candidate_reaches_recru_with_every_mapped_field(world: ActionWorld) -> None:
    job = world.open_job()
    primary, work, other = unique_email(), unique_email("work"), unique_email("other")
    given = candidate(
        email_address=primary,
        additional_email_addresses=[
            {"type": "WORK", "email_address": work},
            {"type": "PERSONAL", "email_address": primary.upper()},  # the primary again: not repeated
            {"type": "OTHER", "email_address": other},
        ],
        company="Acme s.r.o.",
        title="Vedoucí skladu",
        phone_number="+420 601 111 222",
        additional_phone_numbers=[
            {"type": "WORK", "phone_number": "+420 222 333 444"},
            {"type": "PERSONAL", "phone_number": "+420 777 000 111"},
            {"type": "OTHER", "phone_number": "+49 30 1234"},
        ],
        location={
            "country": "cz",
            "city": "Brno",
            "state": "Jihomoravský kraj",
            "street_1": "Husova 5",
            "zip_code": "602 00",
        },
        availability_date="2031-03-01T00:00:00Z",
        salary_expectations={"amount": 720000, "period": "YEAR"},
    )

    answer = world.kombo().ats.create_application(job_id=f"remote:{job['id']}", candidate=given)

    data = answer.data
    jobseeker = world.recru.call("JobseekerService.get", {"id": int(data.candidate.remote_id)})
    assert {key: jobseeker[key] for key in ("firstName", "lastName", "currentCompany", "currentPosition")} == {
        "firstName": given["first_name"],
        "lastName": given["last_name"],
        "currentCompany": "Acme s.r.o.",
        "currentPosition": "Vedoucí skladu",
    }
    assert jobseeker["emails"] == [
        {"value": primary, "type": "private", "primary": True},
        {"value": work, "type": "work", "primary": False},
        {"value": other, "type": "private", "primary": False},
    ]
    assert jobseeker["phones"] == [
        {"value": "+420 601 111 222", "type": "mobile", "primary": True},
        {"value": "+420 222 333 444", "type": "work", "primary": False},
        {"value": "+420 777 000 111", "type": "private", "primary": False},
        {"value": "+49 30 1234", "type": "mobile", "primary": False},
    ]
    assert jobseeker["address"] == {
        "street": "Husova 5",
        "postalCode": "602 00",
        "city": "Brno",
        "region": "Jihomoravský kraj",
        "countryCode": "CZ",
    }
    assert jobseeker["availableFrom"] == "2031-03-01"
    assert jobseeker["salaryExpectation"] == {"amount": 720000, "currency": None, "period": "year"}
    application = world.recru.call("ApplicationService.get", {"id": int(data.remote_id)})
    assert (application["projectId"], application["jobseekerId"]) == (job["id"], jobseeker["id"])
    assert (application["stageId"], application["status"]) == (job["stageIds"][0], "active")

    # The answer: our ids, the job and stage nested, and the *full* candidate (the SDK validated the shape).
    assert data.id == world.id_of(ModelName.APPLICATIONS, application["id"])
    assert data.job_id == world.id_of(ModelName.JOBS, job["id"])
    assert data.candidate_id == data.candidate.id == world.id_of(ModelName.CANDIDATES, jobseeker["id"])
    assert data.current_stage_id == world.id_of(ModelName.APPLICATION_STAGES, job["stageIds"][0])
    assert (data.job.name, data.job.remote_id) == (job["name"], str(job["id"]))
    assert (data.current_stage.remote_id, data.current_stage.index) == (str(job["stageIds"][0]), 0)
    assert data.outcome == "PENDING"
    assert (data.candidate.company, data.candidate.title, data.candidate.tags) == ("Acme s.r.o.", "Vedoucí skladu", [])
    assert [(e.email_address, e.type) for e in data.candidate.email_addresses] == [
        (primary, "PRIVATE"),
        (work, "WORK"),
        (other, "PRIVATE"),
    ]
    assert data.candidate.phone_numbers[0].phone_number == "+420 601 111 222"
    assert (data.candidate.location.city, data.candidate.location.country) == ("Brno", "CZ")
    assert data.candidate.changed_at is not None and data.candidate.remote_created_at is not None
    assert answer.warnings == []


def test_a_contact_type_given_null_is_the_default_as_when_left_out(world: ActionWorld) -> None:
    job, other = world.open_job(), unique_email("null-type")
    body = {
        "candidate": candidate(
            additional_email_addresses=[{"type": None, "email_address": other}],
            additional_phone_numbers=[{"type": None, "phone_number": "+420 777 123 456"}],
        )
    }
    answer = world.send("POST", f"/ats/jobs/remote:{job['id']}/applications", body)
    assert answer.status_code == 200, answer.text
    jobseeker = world.recru.call("JobseekerService.get", {"id": int(answer.json()["data"]["candidate"]["remote_id"])})
    assert {"value": other, "type": "private", "primary": False} in jobseeker["emails"]
    assert [p["type"] for p in jobseeker["phones"] if p["value"] == "+420 777 123 456"] == ["private"]


def test_blank_phone_numbers_are_not_written_and_each_is_named_in_a_warning(world: ActionWorld) -> None:
    given = candidate(
        phone_number=" ",
        additional_phone_numbers=[
            {"type": "WORK", "phone_number": ""},
            {"type": "WORK", "phone_number": "+420 602 111 222"},
            {"type": "PERSONAL", "phone_number": "  "},
            {"type": "OTHER", "phone_number": "\u200b"},  # a zero-width space: nothing visible
        ],
    )
    answer = world.send("POST", f"/ats/jobs/remote:{world.open_job()['id']}/applications", {"candidate": given})
    assert answer.status_code == 200, answer.text
    jobseeker = world.recru.call("JobseekerService.get", {"id": int(answer.json()["data"]["candidate"]["remote_id"])})
    assert jobseeker["phones"] == [{"value": "+420 602 111 222", "type": "work", "primary": True}]
    assert sorted(w["message"] for w in answer.json()["warnings"]) == [
        "candidate.additional_phone_numbers[0].phone_number was not written: it is blank.",
        "candidate.additional_phone_numbers[2].phone_number was not written: it is blank.",
        "candidate.additional_phone_numbers[3].phone_number was not written: it is blank.",
        "candidate.phone_number was not written: it is blank.",
    ]


def test_the_job_can_be_named_by_our_id_or_its_remote_id(world: ActionWorld) -> None:
    job = world.open_job()
    ours = world.id_of(ModelName.JOBS, job["id"])
    by_ours = world.kombo().ats.create_application(job_id=ours, candidate=candidate()).data
    by_remote = world.kombo().ats.create_application(job_id=f"remote:{job['id']}", candidate=candidate()).data
    assert by_ours.job_id == by_remote.job_id == ours
    for created in (by_ours, by_remote):
        assert world.recru.call("ApplicationService.get", {"id": int(created.remote_id)})["projectId"] == job["id"]


def test_a_job_recru_has_but_the_store_not_yet_is_stored_with_the_application(world: ActionWorld) -> None:
    project = world.new_project(name="Skladník – noční směna")
    data = world.kombo().ats.create_application(job_id=f"remote:{project['id']}", candidate=candidate()).data
    assert data.job_id == world.id_of(ModelName.JOBS, project["id"])
    assert (data.job.name, data.current_stage.index) == ("Skladník – noční směna", 0)
    job = world.read("jobs", data.job_id)
    assert job is not None
    assert [s["remote_id"] for s in job["stages"]] == [str(s) for s in project["stageIds"]]


def test_a_stored_job_recru_changed_since_is_stored_as_recru_accepted_the_application(world: ActionWorld) -> None:
    project = world.new_project(name="Technik údržby")
    job_id = world.kombo().ats.create_application(job_id=f"remote:{project['id']}", candidate=candidate()).data.job_id
    world.recru.patch("projects", project["id"], status="closed")
    refusal(lambda: world.kombo().ats.create_application(job_id=job_id, candidate=candidate()))  # stored CLOSED
    added = next(s["id"] for s in world.recru.all("stages") if s["id"] not in project["stageIds"])
    pipeline = [*project["stageIds"], added]
    world.recru.patch("projects", project["id"], status="open", stageIds=pipeline)
    sdk = world.kombo()
    data = sdk.ats.create_application(job_id=job_id, candidate=candidate(), stage_id=f"remote:{added}").data
    assert (data.current_stage.remote_id, data.current_stage.index) == (str(added), len(pipeline) - 1)
    job = world.read("jobs", job_id)
    assert job is not None
    assert job["status"] == "OPEN"
    assert [s["remote_id"] for s in job["stages"]] == [str(s) for s in pipeline]


def test_a_stored_open_job_whose_pipeline_recru_extended_is_stored_with_the_application(world: ActionWorld) -> None:
    project = world.new_project(name="Mzdová účetní")
    job_id = world.kombo().ats.create_application(job_id=f"remote:{project['id']}", candidate=candidate()).data.job_id
    added = next(s["id"] for s in world.recru.all("stages") if s["id"] not in project["stageIds"])
    pipeline = [*project["stageIds"], added]
    world.recru.patch("projects", project["id"], stageIds=pipeline)  # still open: only the pipeline is new
    sdk = world.kombo()
    data = sdk.ats.create_application(job_id=job_id, candidate=candidate(), stage_id=f"remote:{added}").data
    assert (data.current_stage.remote_id, data.current_stage.index) == (str(added), len(pipeline) - 1)
    job = world.read("jobs", job_id)
    assert job is not None
    assert [s["remote_id"] for s in job["stages"]] == [str(s) for s in pipeline]


@pytest.mark.parametrize(
    "job_ref", ["ours", "remote:987654", "remote:0", "remote:01", "remote:abc", "remote:²", "no-such-job"]
)
def test_an_unknown_job_is_404_input_invalid(world: ActionWorld, job_ref: str) -> None:
    if job_ref == "ours":
        job_ref = world.id_of(ModelName.JOBS, 987654)
    before = world.recru_totals()
    status, code, _ = refusal(lambda: world.kombo().ats.create_application(job_id=job_ref, candidate=candidate()))
    assert (status, code) == (404, "PLATFORM.INPUT_INVALID")
    assert world.recru_totals() == before


@pytest.mark.parametrize("status", ["closed", "draft", "on_hold", "archived"])
def test_a_job_that_is_not_open_is_409_job_closed(world: ActionWorld, status: str) -> None:
    project = world.new_project(status=status)
    before = world.recru_totals()
    answer = refusal(
        lambda: world.kombo().ats.create_application(job_id=f"remote:{project['id']}", candidate=candidate())
    )
    assert answer[:2] == (409, "ATS.JOB_CLOSED")
    assert world.recru_totals() == before


def test_a_synced_job_closed_in_recru_since_is_409_job_closed(world: ActionWorld) -> None:
    job = world.open_job()
    world.recru.patch("projects", job["id"], status="closed")
    try:
        job_id = world.id_of(ModelName.JOBS, job["id"])
        assert refusal(lambda: world.kombo().ats.create_application(job_id=job_id, candidate=candidate()))[:2] == (
            409,
            "ATS.JOB_CLOSED",
        )
        (stored,) = world.kombo().ats.get_jobs(ids=[job_id]).result.data.results
        assert stored.status == "CLOSED"  # the refusal told the job's state: reads agree before the next sync
    finally:
        world.recru.patch("projects", job["id"], status="open")


def test_the_application_starts_in_the_stage_given_by_our_id_or_remote_id(world: ActionWorld) -> None:
    job = world.open_job(min_stages=3)
    second, third = job["stageIds"][1], job["stageIds"][2]
    job_id = world.id_of(ModelName.JOBS, job["id"])
    by_ours = (
        world.kombo()
        .ats.create_application(
            job_id=job_id, candidate=candidate(), stage_id=world.id_of(ModelName.APPLICATION_STAGES, second)
        )
        .data
    )
    by_remote = (
        world.kombo().ats.create_application(job_id=job_id, candidate=candidate(), stage_id=f"remote:{third}").data
    )
    for created, stage, index in ((by_ours, second, 1), (by_remote, third, 2)):
        assert world.recru.call("ApplicationService.get", {"id": int(created.remote_id)})["stageId"] == stage
        assert (created.current_stage.remote_id, created.current_stage.index) == (str(stage), index)


def test_a_stage_outside_the_jobs_pipeline_is_400_and_creates_nothing(world: ActionWorld) -> None:
    job = world.open_job()
    foreign = next(s["id"] for s in world.recru.all("stages") if s["id"] not in job["stageIds"])
    job_id = world.id_of(ModelName.JOBS, job["id"])
    before = world.recru_totals()
    for stage_ref in (world.id_of(ModelName.APPLICATION_STAGES, foreign), f"remote:{foreign}", "remote:0", "no-stage"):
        status, code, message = refusal(
            lambda ref=stage_ref: world.kombo().ats.create_application(
                job_id=job_id, candidate=candidate(), stage_id=ref
            )
        )
        assert (status, code) == (400, "PLATFORM.INPUT_INVALID"), message
        assert "stage" in message
    assert world.recru_totals() == before


def test_a_job_whose_pipeline_recru_emptied_is_400_saying_so_and_is_read_again(world: ActionWorld) -> None:
    job = world.open_job()
    job_id = world.id_of(ModelName.JOBS, job["id"])
    world.recru.patch("projects", job["id"], stageIds=[])
    try:
        status, code, message = refusal(
            lambda: world.kombo().ats.create_application(job_id=job_id, candidate=candidate())
        )
        assert (status, code) == (400, "PLATFORM.INPUT_INVALID")
        assert "no stages in its pipeline" in message  # no stage_id was sent: not "the stage is not in the pipeline"
        (stored,) = world.kombo().ats.get_jobs(ids=[job_id]).result.data.results
        assert stored.stages == []  # the refusal told the job's pipeline: reads agree before the next sync
    finally:
        world.recru.patch("projects", job["id"], stageIds=job["stageIds"])


@SOURCE_IS_DEPRECATED
def test_an_existing_candidate_gets_the_application_and_the_consent_and_keeps_the_rest(world: ActionWorld) -> None:
    source = next(iter(world.recru.codebook("jobseekerSources").values()))
    existing = world.existing_jobseeker(
        currentCompany="Stará firma", source={"id": source["id"], "name": source["name"]}
    )
    email = existing["emails"][0]["value"]
    before = world.recru.call("JobseekerService.get", {"id": existing["id"]})
    sources_before = world.recru.codebook("jobseekerSources")
    job = world.open_job()

    answer = world.kombo().ats.create_application(
        job_id=f"remote:{job['id']}",
        candidate=candidate(
            email_address=email.upper(), first_name="Jiná", company="Nová firma", phone_number="+1 555"
        ),
        source={"name": "Zdroj, který nevznikne"},
        gdpr_consent={"given": True, "expires_at": "2031-01-01T00:00:00Z"},
    )

    assert answer.data.candidate.id == world.id_of(ModelName.CANDIDATES, existing["id"])
    assert [js["id"] for js in world.jobseekers_with(email)] == [existing["id"]]
    after = world.recru.call("JobseekerService.get", {"id": existing["id"]})
    unchanged = set(before) - {"gdprConsent", "updatedAt"}
    assert {key: after[key] for key in unchanged} == {key: before[key] for key in unchanged}
    assert after["gdprConsent"]["given"] is True
    assert after["gdprConsent"]["expiresAt"].startswith("2031-01-01")
    assert world.recru.codebook("jobseekerSources") == sources_before
    assert [a["projectId"] for a in world.applications_of(existing["id"])] == [job["id"]]
    assert (answer.data.candidate.first_name, answer.data.candidate.company) == ("Jana", "Stará firma")
    assert answer.data.candidate.source == source["name"]
    warned = " ".join(w.message for w in answer.warnings)
    assert "source" in warned and "gdpr_consent" not in warned
    (kept,) = [w.message for w in answer.warnings if "keeps what RECRU holds" in w.message]
    assert kept.startswith(
        "candidate.first_name, candidate.last_name, candidate.company, candidate.phone_number were not written: "
        f"the candidate already existed in RECRU (RECRU id {existing['id']})"
    )


def test_an_existing_candidate_given_as_recru_holds_it_warns_of_nothing_and_of_each_field_held_otherwise(
    world: ActionWorld,
) -> None:
    given = candidate(
        company="Firma",
        phone_number="+420 601 000 000",
        location={"country": "cz", "city": "Brno"},
        salary_expectations={"period": "MONTH", "amount": 50000},
        additional_email_addresses=[{"email_address": unique_email("work"), "type": "WORK"}],
    )
    first = world.kombo().ats.create_application(job_id=f"remote:{world.open_job()['id']}", candidate=given)
    assert first.warnings == []

    again = world.kombo().ats.create_application(
        job_id=f"remote:{world.new_project()['id']}",
        candidate={**given, "phone_number": "+420601000000", "location": {"country": "CZ"}},
    )
    assert again.data.candidate.id == first.data.candidate.id
    assert again.warnings == []  # the same number without spaces, a part of the location held

    changed = {
        **given,
        "title": "Ředitelka",
        "location": {"country": "CZ", "city": "Ostrava"},
        "salary_expectations": {"period": "YEAR", "amount": 50000},
        "additional_email_addresses": [{"email_address": unique_email("other"), "type": "WORK"}],
        "additional_phone_numbers": [{"phone_number": "+420 602 000 000", "type": "WORK"}],
    }
    third = world.kombo().ats.create_application(job_id=f"remote:{world.new_project()['id']}", candidate=changed)
    (kept,) = [w.message for w in third.warnings]
    assert kept.startswith(
        "candidate.title, candidate.location, candidate.salary_expectations, candidate.additional_email_addresses, "
        "candidate.additional_phone_numbers were not written: the candidate already existed in RECRU"
    )
    assert (third.data.candidate.title, third.data.candidate.location.city) == (None, "Brno")


def test_a_candidate_matched_by_an_additional_address_gets_the_application_with_a_warning(world: ActionWorld) -> None:
    existing = world.existing_jobseeker()
    other = existing["emails"][0]["value"]
    job = world.open_job()
    given = candidate(additional_email_addresses=[{"email_address": other, "type": "WORK"}])

    answer = world.kombo().ats.create_application(job_id=f"remote:{job['id']}", candidate=given)

    assert answer.data.candidate.remote_id == str(existing["id"])  # RECRU holds each address once
    assert world.jobseekers_with(given["email_address"]) == []
    assert [a["projectId"] for a in world.applications_of(existing["id"])] == [job["id"]]
    (warning,) = [w.message for w in answer.warnings if "additional_email_addresses" in w.message]
    assert f"RECRU id {existing['id']}" in warning and "not written" in warning


def test_an_address_written_decomposed_is_the_same_candidate_and_invisible_characters_are_refused(
    world: ActionWorld,
) -> None:
    local = f"jürgen.{uuid.uuid4().hex[:8]}"
    composed = unicodedata.normalize("NFC", f"{local}@müller.example")
    first_job, second_job = world.open_job(), world.new_project()
    first = world.kombo().ats.create_application(
        job_id=f"remote:{first_job['id']}", candidate=candidate(email_address=composed)
    )
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    second = world.kombo().ats.create_application(
        job_id=f"remote:{second_job['id']}", candidate=candidate(email_address=decomposed)
    )
    assert second.data.candidate.remote_id == first.data.candidate.remote_id  # reused, not a second candidate
    before = world.recru_totals()
    for invisible in (f"{local}\u200b@example.com", f"{local}@exam\u202eple.com", f"{local}\u3164@example.com"):
        status, code, message = refusal(
            lambda address=invisible: world.kombo().ats.create_application(
                job_id=f"remote:{first_job['id']}", candidate=candidate(email_address=address)
            )
        )
        assert (status, code) == (400, "PLATFORM.INPUT_INVALID") and "invisible" in message
    assert world.recru_totals() == before


def test_a_candidate_recru_holds_with_its_address_decomposed_is_reused(world: ActionWorld) -> None:
    decomposed = unicodedata.normalize("NFD", f"mörike.{uuid.uuid4().hex[:8]}@example.com")
    existing = world.recru.create("jobseekers", emails=[{"value": decomposed}])  # stored by another way in
    for given in (decomposed, unicodedata.normalize("NFC", decomposed)):
        answer = world.kombo().ats.create_application(
            job_id=f"remote:{world.new_project()['id']}", candidate=candidate(email_address=given)
        )
        assert answer.data.candidate.remote_id == str(existing["id"])


def test_additional_addresses_differing_only_in_case_are_written_once(world: ActionWorld) -> None:
    extra = unique_email("extra")
    given = candidate(
        additional_email_addresses=[
            {"email_address": extra, "type": "WORK"},
            {"email_address": extra.upper(), "type": "PERSONAL"},
        ]
    )
    answer = world.kombo().ats.create_application(job_id=f"remote:{world.open_job()['id']}", candidate=given)
    stored = world.recru.call("JobseekerService.get", {"id": int(answer.data.candidate.remote_id)})
    assert [e["value"] for e in stored["emails"]] == [given["email_address"], extra]


def test_the_same_candidate_and_job_again_is_409_application_already_exists(world: ActionWorld) -> None:
    job_id = world.id_of(ModelName.JOBS, world.open_job()["id"])
    given = candidate()
    world.kombo().ats.create_application(job_id=job_id, candidate=given)
    before = world.recru_totals()
    again: dict[str, Any] = {**given, "email_address": given["email_address"].upper(), "first_name": "Jiné"}
    status, code, _ = refusal(lambda: world.kombo().ats.create_application(job_id=job_id, candidate=again))
    assert (status, code) == (409, "ATS.APPLICATION_ALREADY_EXISTS")
    assert world.recru_totals() == before


def test_fields_recru_cannot_store_are_dropped_with_a_warning_naming_each(world: ActionWorld) -> None:
    user = world.recru.all("users")[0]
    answer = world.kombo().ats.create_application(
        job_id=f"remote:{world.open_job()['id']}",
        candidate=candidate(gender="FEMALE", social_links=[{"url": "https://www.linkedin.com/in/someone"}]),
        sourced_by={"user_id": f"remote:{user['id']}"},
        screening_question_answers=[{"question_id": "q1", "answer": "yes"}],
    )
    warned = [w.message for w in answer.warnings]
    for name in ("candidate.gender", "candidate.social_links", "sourced_by", "screening_question_answers"):
        assert sum(message.startswith(name + " ") for message in warned) == 1, warned
    assert answer.data.remote_id is not None


def test_create_candidate_answers_the_full_candidate_with_its_application(world: ActionWorld) -> None:
    job = world.open_job(min_stages=2)
    stage = job["stageIds"][1]
    data = (
        world.kombo()
        .ats.create_candidate(
            candidate=candidate(company="Kovo a.s."),
            application={"job_id": f"remote:{job['id']}", "stage_id": f"remote:{stage}"},
        )
        .data
    )
    jobseeker = world.jobseekers_with(data.email_addresses[0].email_address)
    assert [js["id"] for js in jobseeker] == [int(data.remote_id)]
    (application,) = data.applications
    assert application.job.remote_id == str(job["id"])
    assert (application.current_stage.remote_id, application.current_stage.index) == (str(stage), 1)
    assert [a["id"] for a in world.applications_of(int(data.remote_id))] == [int(application.remote_id)]
    assert (data.company, data.tags) == ("Kovo a.s.", [])
