"""Every failure a client can cause answers with the envelope of unified-api §1 and the right status and code; and one
environment's API key never reaches another environment's integration."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from kombo import Kombo, errors
from sqlalchemy import delete

from atsbridge.api.app import install_error_handlers
from atsbridge.api.body_limit import MAX_BODY_BYTES, MAX_FILES_BODY_BYTES
from atsbridge.api.signed_links import LinkTarget, sign
from atsbridge.store import tables
from atsbridge.store.api_keys import create_api_key
from atsbridge.store.credentials import RecruCredentials
from atsbridge.store.integrations import create_integration, ensure_environment, set_integration_fields
from atsbridge.unified.ids import ModelName, model_id
from integration.api.conftest import World, run_sync
from integration.sync.conftest import KEY
from support.api_server import serve

UNKNOWN_INTEGRATION = "recruhr:1111111111111111111111111"


def assert_error(response: httpx.Response, status: int, code: str | None) -> dict[str, Any]:
    """The response is the error envelope with ``status`` and ``code``; returns its ``error`` object."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"status", "error"}
    assert body["status"] == "error"
    assert set(body["error"]) == {"code", "title", "message", "log_url"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    assert "Traceback" not in response.text
    return dict(body["error"])


def headers(api_key: str | None, integration_id: str | None) -> dict[str, str]:
    found = {"Authorization": f"Bearer {api_key}"} if api_key is not None else {}
    return found | ({"X-Integration-Id": integration_id} if integration_id is not None else {})


def add_integration(world: World, environment_id: str | None = None, **fields: Any) -> str:
    """A new integration (not synced) of the world's RECRU tenant in ``environment_id`` (default: the world's)."""
    with world.engine.begin() as conn:
        integration_id = create_integration(
            conn,
            KEY,
            environment_id=environment_id or world.integration.environment_id,
            tenant_url=world.integration.tenant_url,
            credentials=RecruCredentials(world.recru.process.login, world.recru.process.password),
            sync_only_created_applications=False,
        )
        if fields:
            set_integration_fields(conn, integration_id, **fields)
    return integration_id


@pytest.mark.parametrize(
    ("auth", "path"),
    [
        (None, "/ats/candidates"),
        ("Bearer atsb_not_a_key", "/ats/candidates"),
        ("Bearer", "/ats/jobs"),
        ("Basic dXNlcjpwYXNz", "/ats/users"),
        (None, "/check-api-key"),
        ("Bearer atsb_not_a_key", "/check-api-key"),
    ],
)
def test_missing_or_invalid_api_key(world: World, auth: str | None, path: str) -> None:
    sent = {"X-Integration-Id": world.integration_id} | ({"Authorization": auth} if auth is not None else {})
    refused = world.get(path, headers=sent)
    assert_error(refused, 401, "PLATFORM.AUTHENTICATION_INVALID")
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_sdk_sees_typed_errors(world: World) -> None:
    with Kombo(api_key="atsb_wrong", integration_id=world.integration_id, server_url=world.server.v1) as sdk:
        with pytest.raises(errors.KomboGeneralError) as general:
            sdk.general.check_api_key()
        assert general.value.data.error.code == "PLATFORM.AUTHENTICATION_INVALID"
    with world.sdk(integration_id=UNKNOWN_INTEGRATION) as sdk:
        with pytest.raises(errors.KomboAtsError) as ats:
            sdk.ats.get_jobs()
        assert ats.value.data.error.code == "PLATFORM.INTEGRATION_NOT_FOUND"
        assert ats.value.raw_response.status_code == 404
    with world.sdk() as sdk:
        with pytest.raises(errors.KomboAtsError) as ats:
            sdk.ats.get_candidates(cursor="not-a-cursor")
        assert ats.value.data.error.code == "PLATFORM.INPUT_INVALID"


def test_integration_header_missing_or_unknown(world: World) -> None:
    assert_error(world.get("/ats/jobs", headers=headers(world.api_key, None)), 400, "PLATFORM.INPUT_INVALID")
    unknown = headers(world.api_key, UNKNOWN_INTEGRATION)
    assert_error(world.get("/ats/jobs", headers=unknown), 404, "PLATFORM.INTEGRATION_NOT_FOUND")
    assert_error(world.get("/ats/candidates/x/attachments", headers=unknown), 404, "PLATFORM.INTEGRATION_NOT_FOUND")
    overlong = headers(world.api_key, "recruhr:" + "x" * 20_000)
    error = assert_error(world.get("/ats/jobs", headers=overlong), 404, "PLATFORM.INTEGRATION_NOT_FOUND")
    assert len(error["message"]) < 300


@pytest.mark.parametrize("repeated", ["Authorization", "X-Integration-Id", "Idempotency-Key"])
def test_a_header_that_names_who_or_what_given_twice_is_400(world: World, repeated: str) -> None:
    """Which of two would count is a guess (the integration acted on, say): neither does, whatever their order."""
    given = {**world.headers(), "Idempotency-Key": "k-1"}
    others = [(name, value) for name, value in given.items() if name != repeated]
    for values in ([given[repeated], given[repeated]], [given[repeated], "another"], ["another", given[repeated]]):
        for path in ("/ats/tags", "/check-api-key"):
            answer = httpx.get(f"{world.server.v1}{path}", headers=[*others, *((repeated, v) for v in values)])
            assert repeated in assert_error(answer, 400, "PLATFORM.INPUT_INVALID")["message"]


@pytest.mark.parametrize(
    "params",
    [
        {"updated_after": "yesterday"},
        {"updated_after": ""},
        {"updated_after": "2026-13-01"},
        {"updated_after": "2026-01-31T25:00:00Z"},
        {"updated_after": "2026-01-31T12:00:00+0100"},  # ISO 8601's basic offset: not RFC 3339
        {"updated_after": "2026-W05-6"},
        {"page_size": 0},
        {"page_size": 251},
        {"page_size": -1},
        {"page_size": "x"},
        {"include_deleted": "maybe"},
        {"include_deleted": "yes"},
        {"include_deleted": "1"},
        {"ignore_unsupported_filters": "2"},
        {"ignore_unsupported_filters": "on"},
        {"cursor": "%%%"},
        {"cursor": base64.urlsafe_b64encode(b"[" * 5000).decode()},
        {"cursor": base64.urlsafe_b64encode(b'{"a":' * 5000).decode()},
    ],
)
def test_bad_list_parameters(world: World, params: dict[str, Any]) -> None:
    assert_error(world.get("/ats/candidates", **params), 400, "PLATFORM.INPUT_INVALID")


def test_flags_are_true_or_false_in_any_case(world: World) -> None:
    every = world.walk("/ats/candidates", page_size=250, include_deleted="false")
    assert world.walk("/ats/candidates", page_size=250, include_deleted="False") == every
    assert world.get("/ats/candidates", include_deleted="TRUE", ignore_unsupported_filters="true").status_code == 200
    error = assert_error(world.get("/ats/candidates", include_deleted="yes"), 400, "PLATFORM.INPUT_INVALID")
    assert "include_deleted" in error["message"] and "true or false" in error["message"]


def test_an_offset_sent_with_an_unescaped_plus_is_explained(world: World) -> None:
    answer = world._http.get(  # as a hand-written URL sends it: the query reads its "+" as a space
        "/ats/candidates?updated_after=2026-01-31T12:00:00+02:00", headers=world.headers()
    )
    error = assert_error(answer, 400, "PLATFORM.INPUT_INVALID")
    assert "%2B" in error["message"]


def test_bad_model_filter_values(world: World) -> None:
    for path in ("/ats/jobs", "/ats/applications"):
        assert_error(world.get(path, remote_created_after="soon"), 400, "PLATFORM.INPUT_INVALID")
    error = assert_error(world.get("/ats/applications", outcomes="HIRED,NOPE"), 400, "PLATFORM.INPUT_INVALID")
    assert "NOPE" in error["message"] and "PENDING" in error["message"]


def test_enum_filters_match_whatever_the_case(world: World) -> None:
    for path, name, value in (("/ats/jobs", "statuses", "OPEN"), ("/ats/applications", "outcomes", "HIRED")):
        expected = world.walk(path, page_size=250, **{name: value})
        assert expected
        assert world.walk(path, page_size=250, **{name: value.lower()}) == expected


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/nothing-here", 404),
        ("GET", "/ats/nothing-here", 404),
        ("GET", "/ats/candidates/some-id", 404),
        ("PATCH", "/ats/users", 405),
        ("DELETE", "/check-api-key", 405),
        ("PUT", "/ats/tags", 405),
        ("GET", "/ats/jobs/", 404),
        ("POST", "/ats/candidates/", 404),
    ],
)
def test_unknown_paths_and_wrong_methods(world: World, method: str, path: str, status: int) -> None:
    assert_error(world.request(method, path), status, None)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/ats/candidates/remote:1/tags", "DELETE, POST"),
        ("PATCH", "/ats/users", "GET"),
        ("PUT", "/integrations/recruhr:x", "DELETE, GET"),
    ],
)
def test_a_wrong_method_is_told_every_method_the_path_takes(world: World, method: str, path: str, allowed: str) -> None:
    answer = world.request(method, path)
    assert_error(answer, 405, None)
    assert answer.headers["Allow"] == allowed


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /v1/check-api-key HTTP/1.1\r\nHost: x\r\nNot a header line\r\n\r\n",
        b"GET /v1/check-api-key HTTP/1.1\r\nHost: x\r\nX-Bad: \x00\r\n\r\n",
    ],
    ids=["malformed header", "NUL in a header"],
)
def test_a_request_that_is_not_valid_http_gets_the_envelope_too(world: World, request_bytes: bytes) -> None:
    address = urlsplit(world.server.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(request_bytes)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), head
    assert b"content-type: application/json" in head.lower()
    error = json.loads(body)["error"]
    assert set(error) == {"code", "title", "message", "log_url"}
    assert error["code"] == "PLATFORM.INPUT_INVALID" and "not valid HTTP" in error["message"]


def test_an_unknown_paths_message_does_not_echo_it_whole(world: World) -> None:
    answer = world.request("GET", "/" + "a" * 30_000)
    assert_error(answer, 404, None)
    assert len(answer.json()["error"]["message"]) < 300


def test_outside_v1_too(world: World) -> None:
    assert_error(httpx.get(f"{world.server.url}/anything"), 404, None)


def test_an_unexpected_error_is_the_500_envelope_and_the_connection_stays_usable() -> None:
    app = FastAPI()
    install_error_handlers(app, stopping=lambda: False)

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    @app.get("/fine")
    async def fine() -> dict[str, bool]:
        return {"fine": True}

    with serve(app) as server, httpx.Client(base_url=server.url) as client:
        for _ in range(3):
            assert_error(client.get("/broken"), 500, "PLATFORM.UNKNOWN_ERROR")
        connection = http.client.HTTPConnection(urlsplit(server.url).netloc, timeout=10)
        statuses = []
        for path in ("/broken", "/fine", "/broken", "/fine"):
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            statuses.append((response.status, connection.sock))
        connection.close()
        assert [status for status, _ in statuses] == [500, 200, 500, 200]
        assert len({id(sock) for _, sock in statuses}) == 1  # one keep-alive connection throughout


def test_integration_whose_first_sync_is_pending(world: World) -> None:
    pending = add_integration(world)
    sent = headers(world.api_key, pending)
    for path in ("/ats/candidates", "/ats/tags", "/ats/jobs"):
        assert_error(world.get(path, headers=sent), 409, "INTEGRATION.SETUP_SYNC_PENDING")


def test_disabled_integration(world: World) -> None:
    disabled = add_integration(world, enabled=False, setup_status="COMPLETED")
    sent = headers(world.api_key, disabled)
    assert_error(world.get("/ats/applications", headers=sent), 403, "INTEGRATION.INACTIVE")
    candidate = model_id(disabled, ModelName.CANDIDATES, world.recru.all("jobseekers")[0]["id"])
    assert_error(world.get(f"/ats/candidates/{candidate}/attachments", headers=sent), 403, "INTEGRATION.INACTIVE")


def test_unknown_record_attachments(world: World) -> None:
    unknown = model_id(world.integration_id, ModelName.CANDIDATES, "999999")
    assert_error(world.get(f"/ats/candidates/{unknown}/attachments"), 404, "PLATFORM.INPUT_INVALID")
    assert_error(world.get("/ats/applications/remote:999999/attachments"), 404, "PLATFORM.INPUT_INVALID")


def test_attachments_of_an_application_recru_made_since_the_sync_are_read_live_by_remote_id(scratch: World) -> None:
    """As a candidate's (``remote:`` ids RECRU knows but the store not yet): the application is read from RECRU."""
    jobseekers = scratch.recru.all("jobseekers")
    linked = next(
        item
        for jobseeker in jobseekers
        for item in scratch.recru.call("AttachmentService.list", {"jobseekerId": jobseeker["id"]})["items"]
        if item["applicationId"] is not None
    )
    with scratch.engine.begin() as conn:  # as if RECRU had made it since the last sync
        conn.execute(
            delete(tables.applications).where(
                tables.applications.c.integration_id == scratch.integration_id,
                tables.applications.c.remote_id == str(linked["applicationId"]),
            )
        )
    answer = scratch.get(f"/ats/applications/remote:{linked['applicationId']}/attachments")
    assert answer.status_code == 200, answer.text
    assert str(linked["id"]) in {a["remote_id"] for a in answer.json()["data"]["results"]}


def test_download_links_that_are_forged_tampered_or_expired(world: World) -> None:
    jobseeker = world.recru.all("jobseekers")[0]["id"]
    attachment = world.recru.call("AttachmentService.list", {"jobseekerId": jobseeker})["items"][0]["id"]
    target = LinkTarget(world.integration_id, int(attachment), jobseeker)

    def download(token: str) -> httpx.Response:
        return httpx.get(f"{world.server.v1}/attachment-downloads/{token}")

    assert download(sign(KEY, target)).status_code == 200
    expired = sign(KEY, target, now=time.time() - 3600)
    assert_error(download(expired), 401, "PLATFORM.AUTHENTICATION_INVALID")
    forged = sign(bytes(32), target)
    assert_error(download(forged), 401, "PLATFORM.AUTHENTICATION_INVALID")
    signature = sign(KEY, target).partition(".")[2]
    other = sign(KEY, LinkTarget(world.integration_id, int(attachment) + 1, jobseeker)).partition(".")[0]
    assert_error(download(f"{other}.{signature}"), 401, "PLATFORM.AUTHENTICATION_INVALID")
    assert_error(download("garbage"), 401, "PLATFORM.AUTHENTICATION_INVALID")
    assert_error(download(f"{other}.ünïcødé"), 401, "PLATFORM.AUTHENTICATION_INVALID")


def test_download_links_of_a_disabled_integration_are_refused_until_it_is_enabled(scratch: World) -> None:
    jobseeker = scratch.recru.all("jobseekers")[0]["id"]
    attachment = scratch.recru.call("AttachmentService.list", {"jobseekerId": jobseeker})["items"][0]["id"]
    target = LinkTarget(scratch.integration_id, int(attachment), jobseeker)
    link = f"{scratch.server.v1}/attachment-downloads/{sign(KEY, target)}"
    enabled = f"/integrations/{scratch.integration_id}/enabled"
    assert scratch.request("PUT", enabled, json={"value": False}).status_code == 200
    assert_error(httpx.get(link), 403, "INTEGRATION.INACTIVE")
    assert scratch.request("PUT", enabled, json={"value": True}).status_code == 200
    assert httpx.get(link).status_code == 200


def test_a_download_link_of_a_candidate_hidden_since_is_refused(scratch: World) -> None:
    """Switched to "sync only created applications", a candidate no application created through us is hidden at
    once: a link handed out before still served the file for the rest of its 15 minutes."""
    jobseeker = scratch.recru.all("jobseekers")[0]["id"]
    candidate = model_id(scratch.integration_id, ModelName.CANDIDATES, jobseeker)
    listed = scratch.get(f"/ats/candidates/{candidate}/attachments").json()["data"]["results"]
    link = listed[0]["data_url"]
    assert httpx.get(link).status_code == 200
    settings = f"/integrations/{scratch.integration_id}/settings"
    assert scratch.request("PATCH", settings, json={"sync_only_created_applications": True}).status_code == 200
    assert_error(httpx.get(link), 404, "PLATFORM.INPUT_INVALID")
    assert scratch.request("PATCH", settings, json={"sync_only_created_applications": False}).status_code == 200
    assert httpx.get(link).status_code == 200


# --- tenant isolation -----------------------------------------------------------------------------------------


@pytest.fixture
def other_tenant(scratch: World) -> tuple[str, str]:
    """(API key, synced integration id) of a second environment on the same store and RECRU tenant."""
    with scratch.engine.begin() as conn:
        environment_id = ensure_environment(conn, "other")
        key = create_api_key(conn, environment_id)
    integration_id = add_integration(scratch, environment_id)
    run_sync(scratch.engine, integration_id, "FULL")
    return key, integration_id


def test_an_api_key_reaches_only_its_own_environment(scratch: World, other_tenant: tuple[str, str]) -> None:
    other_key, other_integration = other_tenant
    foreign = headers(scratch.api_key, other_integration)
    nonexistent = headers(scratch.api_key, UNKNOWN_INTEGRATION)
    for path in ("/ats/candidates", "/ats/jobs", "/ats/tags"):
        answer = assert_error(scratch.get(path, headers=foreign), 404, "PLATFORM.INTEGRATION_NOT_FOUND")
        same = assert_error(scratch.get(path, headers=nonexistent), 404, "PLATFORM.INTEGRATION_NOT_FOUND")
        assert answer | {"message": ""} == same | {"message": ""}
        assert answer["message"].replace(other_integration, UNKNOWN_INTEGRATION) == same["message"]
    other_candidates = scratch.walk("/ats/candidates", headers=headers(other_key, other_integration), page_size=250)
    foreign_attachments = f"/ats/candidates/{other_candidates[0]['id']}/attachments"
    assert_error(scratch.get(foreign_attachments, headers=foreign), 404, "PLATFORM.INTEGRATION_NOT_FOUND")
    assert_error(scratch.get(foreign_attachments), 404, "PLATFORM.INPUT_INVALID")  # own integration: no such id

    own = scratch.walk("/ats/candidates", page_size=250)
    assert {c["remote_id"] for c in own} == {c["remote_id"] for c in other_candidates}  # the same RECRU tenant
    assert not {c["id"] for c in own} & {c["id"] for c in other_candidates}  # but ids unique per integration
    assert scratch.walk("/ats/candidates", ids=",".join(c["id"] for c in other_candidates[:5])) == []
    with scratch.sdk(api_key=other_key, integration_id=other_integration) as sdk:
        assert sdk.general.check_api_key().data.environment_id != scratch.integration.environment_id


@pytest.mark.parametrize("path", ["/ats/interviews", "/ats/offers", "/ats/rejection-reasons", "/ats/scorecards"])
def test_models_recru_does_not_have_are_model_not_available(world: World, path: str) -> None:
    assert_error(world.get(path), 403, "INTEGRATION.MODEL_NOT_AVAILABLE")
    assert_error(world.get(path, headers={}), 401, "PLATFORM.AUTHENTICATION_INVALID")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/ats/applications/x/reject"),
        ("PUT", "/ats/applications/x/stage"),
        ("POST", "/ats/applications/x/notes"),
    ],
)
def test_actions_recru_does_not_have_are_action_not_available(world: World, method: str, path: str) -> None:
    assert_error(world.request(method, path, json={}), 403, "INTEGRATION.ACTION_NOT_AVAILABLE")


def test_the_sdk_sees_model_not_available(world: World) -> None:
    with pytest.raises(errors.KomboAtsError) as raised:
        world.sdk().ats.get_interviews()
    assert raised.value.data.error.code == "INTEGRATION.MODEL_NOT_AVAILABLE"


@pytest.mark.parametrize(
    "body",
    ["{not json", '{"end_user_email": ' + "[" * 5000 + "]" * 5000 + "}"],
    ids=["malformed", "nested too deeply to parse"],
)
def test_a_body_that_cannot_be_read_is_platform_input_invalid(world: World, body: str) -> None:
    answer = httpx.post(
        f"{world.server.v1}/connect/create-link",
        content=body,
        headers={"Authorization": f"Bearer {world.api_key}", "Content-Type": "application/json"},
    )
    assert_error(answer, 400, "PLATFORM.INPUT_INVALID")


@pytest.mark.parametrize("auth", [None, "Bearer atsb_not_a_key"], ids=["no key", "a wrong key"])
@pytest.mark.parametrize(
    "body",
    ["{not json", '{"end_user_email": ' + "[" * 5000 + "]" * 5000 + "}"],
    ids=["malformed", "nested too deeply to parse"],
)
@pytest.mark.parametrize("path", ["/connect/create-link", "/force-sync", "/ats/candidates"])
def test_a_caller_without_a_valid_key_is_told_so_whatever_its_body(
    world: World, auth: str | None, body: str, path: str
) -> None:
    """FastAPI reads a JSON body before it runs the route's checks: the key is judged first all the same, so a caller
    without one learns nothing of how its body is read."""
    headers = {"X-Integration-Id": world.integration_id, "Content-Type": "application/json"}
    answer = httpx.post(
        f"{world.server.v1}{path}", content=body, headers=headers | ({"Authorization": auth} if auth else {})
    )
    assert_error(answer, 401, "PLATFORM.AUTHENTICATION_INVALID")
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("body", "told"),
    [
        ('{"type": "FULL",\n "a":', "not valid JSON: Expecting value (line 2, column 6)"),
        ('{"type": "FULL"} xx', "not valid JSON: Extra data (line 1, column 18)"),
        ('{"type": "FULL", "a": NaN}', "not valid JSON: NaN is not a JSON value (line 1, column 23)"),
        ('{"type": "FULL", "a": [-Infinity]}', "not valid JSON: -Infinity is not a JSON value (line 1, column 24)"),
        (b'{"type": "FULL", "a": "\xff"}', "not valid JSON: byte 24 is not UTF-8 text."),
        ('{"a":' * 50_000, "not valid JSON: it is nested too deeply to be read."),
        ('{"note": "x NaN y",\n\n "x": NaN}', "NaN is not a JSON value (line 3, column 7)"),  # not the quoted one
        ('{"type": "BOGUS", "type": "DELTA"}', 'not valid JSON: the key "type" is given twice in one object.'),
        ('{"type": "FULL", "a": [{"b": 1, "b": 1}]}', 'the key "b" is given twice in one object.'),
        (f'{{"{"k" * 5000}": 1, "{"k" * 5000}": 2}}', f'the key "{"k" * 200}…" is given twice in one object.'),
    ],
    ids=[
        "cut short",
        "more after it",
        "NaN",
        "-Infinity",
        "not UTF-8",
        "nested too deeply",
        "NaN in a string before",
        "a key twice",
        "a nested key twice",
        "a long key twice",
    ],
)
def test_a_body_that_is_not_json_is_refused_saying_where(world: World, body: str | bytes, told: str) -> None:
    """Python's parser takes NaN and Infinity, which JSON has not: a body holding one is refused like any other."""
    syncs = f"/integrations/{world.integration_id}/syncs"
    before = world.get(syncs).json()["data"]["results"]
    answer = httpx.post(
        f"{world.server.v1}/force-sync", content=body, headers={**world.headers(), "Content-Type": "application/json"}
    )
    assert told in assert_error(answer, 400, "PLATFORM.INPUT_INVALID")["message"]
    assert world.get(syncs).json()["data"]["results"] == before  # nothing queued


@pytest.mark.parametrize(
    ("content_type", "told"),
    [
        ("application/x-www-form-urlencoded", "it came as application/x-www-form-urlencoded"),
        ("text/plain", "text/plain"),
    ],
)
def test_a_json_body_sent_as_another_type_is_told_to_be_json(world: World, content_type: str, told: str) -> None:
    body, headers = '{"tag": {"name": "Java"}}', {**world.headers(), "Content-Type": content_type}
    candidate = world.get("/ats/candidates", page_size=1).json()["data"]["results"][0]["id"]
    for method, path in (("POST", "/force-sync"), ("POST", f"/ats/candidates/{candidate}/tags")):
        answer = httpx.request(method, f"{world.server.v1}{path}", content=body, headers=headers)
        message = assert_error(answer, 400, "PLATFORM.INPUT_INVALID")["message"]
        assert "must be JSON, sent with Content-Type: application/json" in message and told in message


def test_force_sync_with_a_key_it_does_not_take_queues_nothing(world: World) -> None:
    syncs = f"/integrations/{world.integration_id}/syncs"
    before = world.get(syncs).json()["data"]["results"]
    error = assert_error(world.request("POST", "/force-sync", json={"typo": "DELTA"}), 400, "PLATFORM.INPUT_INVALID")
    assert "typo" in error["message"]
    assert world.get(syncs).json()["data"]["results"] == before


@pytest.mark.parametrize("sent", ["declared", "chunked"])
@pytest.mark.parametrize(
    ("method", "path", "limit"),
    [("POST", "/v1/ats/candidates", MAX_FILES_BODY_BYTES), ("PUT", "/v1/webhook", MAX_BODY_BYTES)],
    ids=["a create, with files", "any other"],
)
def test_a_body_larger_than_its_endpoint_takes_is_413(
    world: World, sent: str, method: str, path: str, limit: int
) -> None:
    """Refused before it is read whole (declared too large) or once it has grown too large (chunked): one request
    cannot take the process's memory."""
    connection = http.client.HTTPConnection(urlsplit(world.server.url).netloc, timeout=60)
    connection.putrequest(method, path)
    for name, value in world.headers().items():
        connection.putheader(name, value)
    connection.putheader("Content-Type", "application/json")
    if sent == "declared":
        connection.putheader("Content-Length", str(limit + 1))
        connection.endheaders()
    else:
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        chunk = b" " * (256 * 1024)
        try:
            for _ in range(limit // len(chunk) + 2):
                connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:  # the server answered and closed before taking it all
            pass
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    assert response.status == 413, body
    assert (body["status"], body["error"]["code"]) == ("error", "PLATFORM.INPUT_INVALID")
    assert body["error"]["title"] == "Request body too large"  # was the bare "Error" no other status had
    assert f"{limit // (1024 * 1024)} MiB" in body["error"]["message"]


def test_a_create_may_send_more_than_other_endpoints(world: World) -> None:
    padding = " " * (2 * MAX_BODY_BYTES)  # JSON allows it; over any other endpoint's limit
    response = world._http.post("/ats/candidates", content=f"{{{padding}}}", headers=world.headers())
    assert response.status_code == 400  # read and refused for what it holds, not for its size


def test_an_error_never_echoes_kilobytes_of_the_request(world: World) -> None:
    long_ref = "x" * 5000
    for path, headers in (
        (f"/ats/candidates/{long_ref}/attachments", None),
        (f"/ats/applications/remote:{'9' * 5000}/attachments", None),
        ("/ats/candidates", {"Authorization": f"Bearer {world.api_key}", "X-Integration-Id": f"recruhr:{long_ref}"}),
    ):
        message = world.get(path, headers=headers).json()["error"]["message"]
        assert len(message) < 300 and "…" in message, message
