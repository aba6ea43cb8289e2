"""Properties: no body, however wrong, makes an action answer 5xx or leave anything outside the error envelope, and
an action that does not succeed writes nothing — neither in RECRU (jobseekers, applications) nor in the store."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from integration.actions.conftest import ActionWorld, Files, candidate
from support.json_values import json_values

PROPERTY = settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
ERROR_KEYS = {"code", "title", "message", "log_url"}

awkward_texts = st.sampled_from(
    ["", " ", "\x00", "a\x00b", "\ud800", "ü" * 300, "Nováková", "DE", "<b>x</b>", "1" * 25]
)
texts = st.text(max_size=30) | awkward_texts
emails = (
    st.emails()
    | st.builds(lambda: candidate()["email_address"])
    | st.sampled_from(["x@", "@y.de", "not-an-email", "a\x00@b.cz", "jan novák@example.cz", "x" * 250 + "@b.cz"])
)
dates = st.sampled_from(["2031-01-01T00:00:00Z", "2000-01-01", "2031-02-30", "yesterday", "9999-12-31T23:59:59Z"])


def maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, sometimes any JSON."""
    return st.one_of(valid, valid, valid, json_values)


def objects(required: dict[str, Any] | None = None, **optional: Any) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {k: maybe(v) for k, v in (required or {}).items()}, optional={k: maybe(v) for k, v in optional.items()}
    )


contacts = st.sampled_from(["PERSONAL", "WORK", "OTHER", "FAX", "work"])
candidates = objects(
    {"first_name": texts, "last_name": texts, "email_address": emails},
    additional_email_addresses=st.lists(objects({"email_address": emails}, type=contacts), max_size=3),
    company=texts,
    title=texts,
    phone_number=texts,
    additional_phone_numbers=st.lists(objects({"phone_number": texts}, type=contacts), max_size=2),
    location=objects(
        {"country": st.sampled_from(["CZ", "cz", "C1", "ÄÖ", "XXX", "", "XX", "UK"])}, city=texts, zip_code=texts
    ),
    gender=st.sampled_from(["MALE", "FEMALE", "OTHER", "X"]),
    availability_date=dates,
    salary_expectations=objects({"amount": st.floats() | st.integers(), "period": st.sampled_from(["YEAR", "HOUR"])}),
    social_links=st.lists(objects({"url": texts}), max_size=2),
)
base64s = st.binary(max_size=48).map(lambda b: base64.b64encode(b).decode()) | texts
data_urls = st.sampled_from(  # none needs DNS
    [
        "http://10.0.0.1/cv.pdf",
        "http://127.0.0.1:1/cv.pdf",
        "ftp://127.0.0.1/cv.pdf",
        "not a url",
        "file:///etc/hosts",
        "http://127.0.0.1:99999/",
        "http://[::1/",
        "http://169.254.169.254/",
        "https://127.0.0.1:1/",
    ]
)
attachments = objects(
    {"name": texts, "type": st.sampled_from(["CV", "COVER_LETTER", "OTHER", "RESUME"])},
    content_type=st.sampled_from(["application/pdf", "text/plain", "application/zip", "", "TEXT/PLAIN; charset=x"]),
    data=base64s,
    data_url=data_urls,
)
extras: dict[str, Any] = {
    "attachments": st.lists(attachments, max_size=3),
    "source": objects(name=texts, unified_key=texts, id=texts | st.integers(-1, 10**20).map(str)),
    "gdpr_consent": objects(given=st.booleans(), expires_at=dates),
    "sourced_by": objects({"user_id": texts}),
    "screening_question_answers": st.lists(json_values, max_size=2),
    "remote_fields": json_values,
}


# A valid body with one field replaced: structurally plausible, wrong in one value.
CANDIDATE_FIELDS = ["first_name", "email_address", "company", "title", "phone_number", "location", "availability_date",
                    "salary_expectations", "additional_email_addresses"]  # fmt: skip
one_bad_candidate_field = st.sampled_from(CANDIDATE_FIELDS).flatmap(
    lambda name: (awkward_texts | texts | emails | json_values).map(
        lambda value: {"candidate": candidate(**{name: value})}
    )
)
one_bad_extra = st.sampled_from(sorted(extras)).flatmap(
    lambda name: extras[name].map(lambda value: {"candidate": candidate(), name: value})
)


def outcome(world: ActionWorld, method: str, path: str, body: Any) -> None:
    """Send the request; check the envelope, and that nothing was written unless it succeeded."""
    before = (world.recru_totals(), world.store_counts())
    answer = world.send(method, path, body)
    assert answer.status_code < 500, answer.text
    payload = answer.json()
    if answer.status_code == 200:
        assert payload["status"] == "success" and isinstance(payload["warnings"], list)
        return
    assert payload["status"] == "error" and set(payload["error"]) == ERROR_KEYS, payload
    assert isinstance(payload["error"]["message"], str)
    assert (world.recru_totals(), world.store_counts()) == before, (answer.status_code, payload)


@pytest.fixture
def job_path(world: ActionWorld) -> str:
    return f"/ats/jobs/remote:{world.open_job()['id']}/applications"


@PROPERTY
@example(body={"candidate": candidate(first_name="Nul\x00")})  # RECRU keeps it, PostgreSQL cannot
@example(body={"candidate": candidate(company="\ud800")})  # not encodable as UTF-8: no store takes it
@example(body={"candidate": candidate(salary_expectations={"period": "YEAR", "amount": float("inf")})})  # no JSON
@given(
    body=json_values
    | one_bad_candidate_field
    | one_bad_extra
    | objects({"candidate": candidates}, stage_id=texts, **extras)
)
def test_create_application_with_any_body(world: ActionWorld, files: Files, job_path: str, body: Any) -> None:
    outcome(world, "POST", job_path, body)


@PROPERTY
@given(job=st.text(min_size=1, max_size=12) | st.integers(-5, 10**12).map(lambda n: f"remote:{n}"), stage=texts)
def test_create_application_for_any_job_and_stage(world: ActionWorld, job: str, stage: str) -> None:
    outcome(
        world, "POST", f"/ats/jobs/{quote(job, safe='')}/applications", {"candidate": candidate(), "stage_id": stage}
    )


@PROPERTY
@given(
    body=json_values
    | objects({"candidate": candidates, "application": objects({"job_id": texts}, stage_id=texts)}, **extras)
)
def test_create_candidate_with_any_body(world: ActionWorld, body: Any) -> None:
    if isinstance(body, dict) and isinstance(body.get("application"), dict) and body["application"].get("job_id") == "":
        body["application"]["job_id"] = f"remote:{world.open_job()['id']}"  # now and then a real job
    outcome(world, "POST", "/ats/candidates", body)


@pytest.fixture
def tag_path(world: ActionWorld) -> str:
    person = world.kombo().ats.create_application(job_id=f"remote:{world.open_job()['id']}", candidate=candidate())
    return f"/ats/candidates/{person.data.candidate.id}/tags"


@PROPERTY
@given(
    method=st.sampled_from(["POST", "DELETE"]),
    body=json_values | objects({"tag": objects({"name": texts | st.sampled_from(["VIP", " vip ", "\x00"])})}),
    candidate_ref=st.none() | st.text(min_size=1, max_size=10),
)
def test_tag_actions_with_any_body(
    world: ActionWorld, tag_path: str, method: str, body: Any, candidate_ref: str | None
) -> None:
    path = tag_path if candidate_ref is None else f"/ats/candidates/{quote(candidate_ref, safe='')}/tags"
    outcome(world, method, path, body)
