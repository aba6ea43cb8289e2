"""The passthrough (unified-api §1, §7): a caller's JSON-RPC call reaches RECRU with the integration's login and
RECRU's answer comes back as it is; what cannot be forwarded is refused with PLATFORM codes only."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from integration.api.conftest import World
from integration.api.test_errors import assert_error

PATH = "/passthrough/recruhr/json-rpc"


def rpc(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 7, "method": method, "params": params or {}}


def test_a_call_reaches_recru_through_the_sdk(world: World) -> None:
    answer = world.sdk().general.send_passthrough_request(
        tool="recruhr", api="json-rpc", method="POST", path="/", data=rpc("TagService.list")
    )
    assert answer.warnings == []
    assert answer.data.status == 200
    assert answer.data.url.endswith("/api/json-rpc")
    assert answer.data.data["id"] == 7
    assert answer.data.data["result"]["items"] == world.recru.call("TagService.list")["items"]


def test_recru_errors_come_back_as_its_answer(world: World) -> None:
    response = world.request(
        "POST", PATH, json={"method": "POST", "path": "/", "data": rpc("JobseekerService.get", {"id": 987_654})}
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["status"] == 200
    assert data["data"]["error"]["code"] == -32004
    assert data["headers"]["content-type"].startswith("application/json")


def test_recrus_answer_comes_back_byte_for_byte_with_numbers_no_double_holds(scratch: World) -> None:
    """JSON sets numbers no limit: one beyond 64 bits (or a double's range) was a 500 (orjson could not write it)."""
    huge = 10**400
    project = scratch.recru.create("projects", name="Huge hours", weeklyHours=huge, code="X-2")
    call = {"method": "POST", "path": "/", "data": rpc("ProjectService.get", {"id": project["id"]})}
    response = scratch.request("POST", PATH, json=call)
    assert response.status_code == 200, response.text
    assert json.loads(response.text)["data"]["data"]["result"]["weeklyHours"] == huge  # as RECRU sent it
    assert json.loads(response.text)["data"]["data"]["result"]["code"] == "X-2"


def test_the_answer_as_base64(world: World) -> None:
    body = {"method": "POST", "path": "/", "data": rpc("SystemService.ping"), "response_as_base64": True}
    data = world.request("POST", PATH, json=body).json()["data"]
    assert json.loads(base64.b64decode(data["data"]))["result"]["pong"] is True


def test_an_expired_token_is_renewed(scratch: World) -> None:
    body = {"method": "POST", "path": "/", "data": rpc("SystemService.ping")}
    assert scratch.request("POST", PATH, json=body).json()["data"]["status"] == 200
    scratch.recru.control("POST", "/tokens/expire")
    data = scratch.request("POST", PATH, json=body).json()["data"]
    assert (data["status"], data["data"]["result"]["pong"]) == (200, True)


@pytest.mark.parametrize(
    ("path", "body", "named"),
    [
        ("/passthrough/personio/v1", {"method": "POST", "path": "/", "data": rpc("SystemService.ping")}, "tool"),
        ("/passthrough/recruhr/v2", {"method": "POST", "path": "/", "data": rpc("SystemService.ping")}, "json-rpc"),
        (PATH, {"method": "GET", "path": "/", "data": rpc("SystemService.ping")}, "POST"),
        (PATH, {"method": "POST", "path": "/users", "data": rpc("SystemService.ping")}, "path"),
        (PATH, {"method": "POST", "path": "/", "data": "SystemService.ping"}, "data"),
        (PATH, {"method": "POST", "path": "/", "data": rpc("SystemService.ping"), "params": {"a": "b"}}, "query"),
        (PATH, {"method": "POST", "path": "/", "data": rpc("SystemService.ping"), "headers": {"X": "y"}}, "Headers"),
        (PATH, {"method": "TRACE", "path": "/", "data": rpc("SystemService.ping")}, "method"),
        (PATH, {"path": "/"}, "method"),
    ],
)
def test_what_cannot_be_forwarded_is_400(world: World, path: str, body: dict[str, Any], named: str) -> None:
    calls = world.recru.control("GET", "/counters")["calls"]
    error = assert_error(world.request("POST", path, json=body), 400, "PLATFORM.INPUT_INVALID")
    assert named in error["message"]
    assert world.recru.control("GET", "/counters")["calls"] == calls


def test_the_integration_header_is_required(world: World) -> None:
    headers = {"Authorization": f"Bearer {world.api_key}"}
    body = {"method": "POST", "path": "/", "data": rpc("SystemService.ping")}
    assert_error(world.request("POST", PATH, headers=headers, json=body), 400, "PLATFORM.INPUT_INVALID")


def test_data_that_is_not_unicode_is_400(world: World) -> None:
    calls = world.recru.control("GET", "/counters")["calls"]
    data = json.dumps(rpc("SystemService.ping", {"a": "\ud800"}))  # ASCII: the surrogate as JSON's \ud800 escape
    lone_surrogate = '{"method":"POST","path":"/","data":' + data + "}"
    answer = httpx.post(
        f"{world.server.v1}{PATH}",
        content=lone_surrogate,
        headers={**world.headers(), "Content-Type": "application/json"},
    )
    error = assert_error(answer, 400, "PLATFORM.INPUT_INVALID")
    assert "Unicode" in error["message"]
    assert world.recru.control("GET", "/counters")["calls"] == calls


def test_credentials_refused_then_accepted_move_the_integrations_status(scratch: World) -> None:
    body = {"method": "POST", "path": "/", "data": rpc("SystemService.ping")}
    details = f"/integrations/{scratch.integration_id}"
    password = scratch.recru.process.password
    scratch.recru.patch("users", 1, password="changed-by-the-customer")
    scratch.recru.control("POST", "/tokens/expire")
    try:
        refused = scratch.request("POST", PATH, json=body)
        assert refused.status_code == 424
        assert scratch.request("GET", details).json()["data"]["status"] == "INVALID"
    finally:
        scratch.recru.patch("users", 1, password=password)
    assert scratch.request("POST", PATH, json=body).json()["data"]["status"] == 200
    assert scratch.request("GET", details).json()["data"]["status"] == "ACTIVE"  # as after an action or a sync


def test_a_call_whose_answer_was_cut_off_is_502_saying_its_effect_is_unknown(world: World) -> None:
    world.recru.control("POST", "/faults", {"kind": "drop", "method": "TagService.list"})
    response = world.request("POST", PATH, json={"method": "POST", "path": "/", "data": rpc("TagService.list")})
    error = assert_error(response, 502, None)
    assert "whether it took effect is unknown" in error["message"]
    assert "bytes" not in error["message"]  # not the HTTP client's internals


@pytest.mark.parametrize(
    ("fault", "status", "said", "wait"),
    [
        ({"kind": "error_500"}, 502, "RECRU failed internally", None),
        ({"kind": "rate_limit", "retryAfter": 20}, 503, "rate limit", "20"),
        ({"kind": "unavailable_503", "retryAfter": 7}, 503, "not reachable right now", "7"),
    ],
    ids=["internal error", "rate limited", "maintenance"],
)
def test_a_login_that_keeps_failing_says_what_recru_answered_without_the_clients_internals(
    scratch: World, fault: dict[str, Any], status: int, said: str, wait: str | None
) -> None:
    scratch.recru.control("POST", "/tokens/expire")
    scratch.recru.control("POST", "/faults", {**fault, "method": "AuthService.login", "count": 20})
    try:
        response = scratch.request("POST", PATH, json={"method": "POST", "path": "/", "data": rpc("TagService.list")})
    finally:
        scratch.recru.control("DELETE", "/faults")
    error = assert_error(response, status, None)
    assert error["message"].startswith("Logging in to RECRU failed, so the call was not sent:"), error["message"]
    assert said in error["message"]
    assert response.headers.get("Retry-After") == wait
    assert "Error(" not in error["message"] and "AuthService" not in error["message"]


def test_a_login_that_never_reaches_recru_is_502_as_a_call_that_does_not(scratch: World) -> None:
    scratch.recru.control("POST", "/tokens/expire")
    scratch.recru.control("POST", "/faults", {"kind": "drop", "method": "AuthService.login", "count": 20})
    try:
        response = scratch.request("POST", PATH, json={"method": "POST", "path": "/", "data": rpc("TagService.list")})
    finally:
        scratch.recru.control("DELETE", "/faults")
    error = assert_error(response, 502, None)
    assert error["message"] == "RECRU could not be reached: the connection closed before the answer was complete"


def test_a_call_refused_for_want_of_api_access_makes_the_integration_invalid(scratch: World) -> None:
    body = {"method": "POST", "path": "/", "data": rpc("SystemService.ping")}
    details = f"/integrations/{scratch.integration_id}"
    assert scratch.request("POST", PATH, json=body).json()["data"]["status"] == 200  # a token is held now
    scratch.recru.patch("users", 1, apiAccess=False)
    try:
        answered = scratch.request("POST", PATH, json=body)
        assert (answered.status_code, answered.json()["data"]["status"]) == (200, 403)  # RECRU's answer, as it is
        assert scratch.request("GET", details).json()["data"]["status"] == "INVALID"
    finally:
        scratch.recru.patch("users", 1, apiAccess=True)
