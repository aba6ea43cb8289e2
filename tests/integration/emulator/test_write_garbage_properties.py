"""Properties: no input, however wrong, makes the emulator fail (HTTP 500 / -32603) or write half a record."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from support.json_values import json_values

from .conftest import APPLICATIONS, JOBSEEKERS, RPC, Api

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


def maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, sometimes any JSON."""
    return st.one_of(valid, valid, json_values)


def objects(required: dict[str, Any] | None = None, **optional: Any) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {k: maybe(v) for k, v in (required or {}).items()}, optional={k: maybe(v) for k, v in optional.items()}
    )


ids = st.integers(-2, 400) | st.just(2**63) | st.just(2**70)
dates = st.dates().map(str)
timestamps = st.datetimes().map(lambda d: d.isoformat() + "Z") | dates
emails = st.emails() | st.sampled_from(["jan.novak@example.cz", "JAN.NOVAK@EXAMPLE.CZ", "x@", "@y.de"])
email_items = objects({"value": emails}, type=st.sampled_from(["private", "work"]), primary=st.booleans())
jobseekers = objects(
    {"firstName": st.text(max_size=300), "lastName": st.text(max_size=30), "emails": st.lists(email_items, max_size=3)},
    salutation=st.sampled_from(["mr", "ms", "diverse", "sir"]),
    titleBefore=st.text(max_size=10),
    phones=st.lists(
        objects({"value": st.text(max_size=20)}, type=st.sampled_from(["mobile", "work", "fax"])), max_size=2
    ),
    address=objects(street=st.text(max_size=20), countryCode=st.sampled_from(["DE", "CZ", "XX", "de"])),
    dateOfBirth=dates,
    availableFrom=dates,
    salaryExpectation=objects({"amount": st.integers()}, currency=st.text(max_size=4), period=st.text(max_size=5)),
    ownerUserId=ids,
)
files = objects(
    {"type": st.sampled_from(["cv", "other", "resume"]), "fileName": st.text(max_size=20),
     "contentType": st.sampled_from(["application/pdf", "text/plain", "application/zip"]),
     "data": st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()) | st.text(max_size=12)},
)  # fmt: skip
extras = {
    "source": objects(id=ids, name=st.text(max_size=20)),
    "gdprConsent": objects({"given": st.booleans()}, givenAt=timestamps, expiresAt=dates | st.none()),
    "attachments": st.lists(files, max_size=3),
}
jobseeker_params = objects(jobseeker=jobseekers, **extras) | json_values
application_params = (
    objects({"projectId": ids}, jobseekerId=ids, jobseeker=jobseekers, stageId=ids, appliedAt=timestamps, **extras)
    | json_values
)


def totals(api: Api) -> tuple[int, int, int]:
    return api.total(JOBSEEKERS), api.total(APPLICATIONS), len(api.codebook("jobseekerSources"))


def assert_no_server_error(resp: Any) -> dict[str, Any]:
    assert resp.status_code < 500, resp.text[:500]
    body = resp.json()
    assert body.get("error", {}).get("code") != -32603, body
    return body


@pytest.mark.parametrize(
    ("method", "strategy"),
    [("JobseekerService.create", jobseeker_params), ("ApplicationService.create", application_params)],
    ids=["jobseeker", "application"],
)
@PROPERTY
@given(data=st.data())
def test_garbage_writes_never_fail_and_never_half_write(
    api: Api, method: str, strategy: st.SearchStrategy[Any], data: st.DataObject
) -> None:
    params = data.draw(strategy, label="params")
    before = totals(api)
    body = assert_no_server_error(api.rpc(method, params))
    event(f"error {body['error']['code']}" if "error" in body else "created")
    if "error" in body:
        assert totals(api) == before, body
        assert body["error"]["code"] in (-32600, -32602, -32004, -32009, -32010), body
    else:
        result = body["result"]
        jobseekers, apps, _ = totals(api)
        assert jobseekers in (before[0], before[0] + 1)
        assert apps == before[1] + (method == "ApplicationService.create")
        assert api.get(JOBSEEKERS, result.get("jobseekerId", result["id"]))


READS = [
    "UserService.list", "UserService.get", "ProjectService.list", "ProjectService.get", "StageService.list",
    "TagService.list", "CodebookService.get", "JobseekerService.list", "JobseekerService.get",
    "ApplicationService.list", "ApplicationService.get", "AttachmentService.list", "AttachmentService.download",
    "JobseekerService.addTag", "JobseekerService.removeTag", "SystemService.ping", "AuthService.logout",
]  # fmt: skip
read_params = objects(
    page=st.integers(), perPage=st.integers(-5, 300), updatedSince=timestamps, id=ids, email=emails,
    status=st.sampled_from(["open", "active", "x"]), active=st.booleans(), projectId=ids, jobseekerId=ids,
    applicationId=ids, tagId=ids, name=st.sampled_from(["countries", "locations", "tags"]),
)  # fmt: skip


@PROPERTY
@given(method=st.sampled_from(READS), params=read_params | json_values)
def test_garbage_reads_never_fail(api: Api, method: str, params: Any) -> None:
    body = assert_no_server_error(api.rpc(method, params))
    if method == "AuthService.logout" and "result" in body:
        api.relogin()


@PROPERTY
@given(doc=json_values | st.text(max_size=30) | st.binary(max_size=30))
def test_garbage_bodies_are_request_errors(api: Api, doc: Any) -> None:
    content = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    resp = api.client.post(RPC, content=content, headers={"Authorization": f"Bearer {api.token}"})
    body = assert_no_server_error(resp)
    assert resp.status_code == 200, body
    assert body["error"]["code"] in (-32700, -32600), body
