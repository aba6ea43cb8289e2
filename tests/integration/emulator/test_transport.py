"""§1, §7, §9: the JSON-RPC envelope, HTTP statuses and the order of checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from .conftest import RPC, Api, check_error


def post_raw(api: Api, body: bytes | str, token: str | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return api.client.post(RPC, content=body, headers=headers)


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe", b'{"jsonrpc": "2.0", "id": 1, "method": "Sys'])
def test_non_json_body_is_a_parse_error(api: Api, body: bytes) -> None:
    resp = post_raw(api, body, api.token)
    check_error(resp, -32700)
    assert resp.json()["id"] is None


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_nan_and_infinity_are_not_json_and_create_nothing(api: Api, constant: str) -> None:
    jobseeker = '{"firstName":"I","lastName":"Nf","emails":[{"value":"nan@example.com"}],'
    salary = f'"salaryExpectation":{{"amount":{constant},"currency":"EUR","period":"year"}}}}'
    body = (
        '{"jsonrpc":"2.0","id":1,"method":"JobseekerService.create","params":{"jobseeker":' + jobseeker + salary + "}}"
    )
    check_error(post_raw(api, body, api.token), -32700)
    assert api.call("JobseekerService.list", {"email": "nan@example.com"})["items"] == []


ping = {"jsonrpc": "2.0", "id": 1, "method": "SystemService.ping", "params": {}}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param([ping], id="batch"),
        pytest.param([], id="empty-batch"),
        pytest.param({k: v for k, v in ping.items() if k != "id"}, id="notification"),
        pytest.param({**ping, "id": None}, id="id-null"),
        pytest.param({**ping, "id": {"a": 1}}, id="id-object"),
        pytest.param({**ping, "id": True}, id="id-bool"),
        pytest.param({k: v for k, v in ping.items() if k != "method"}, id="no-method"),
        pytest.param({**ping, "method": 5}, id="method-not-string"),
        pytest.param({**ping, "params": [1, 2]}, id="params-array"),
        pytest.param({**ping, "params": "x"}, id="params-string"),
        pytest.param({**ping, "params": 3}, id="params-number"),
        pytest.param({**ping, "params": None}, id="params-null"),
        pytest.param({**ping, "jsonrpc": "1.0"}, id="wrong-version"),
        pytest.param("SystemService.ping", id="string"),
        pytest.param(42, id="number"),
    ],
)
def test_invalid_request(api: Api, body: Any) -> None:
    check_error(post_raw(api, json.dumps(body), api.token), -32600, body.get("id") if isinstance(body, dict) else None)


def test_batch_and_notification_answer_with_null_id(api: Api) -> None:
    for body in ([ping, {**ping, "id": 2}], {k: v for k, v in ping.items() if k != "id"}, {**ping, "id": None}):
        resp = post_raw(api, json.dumps(body), api.token)
        check_error(resp, -32600)
        assert resp.json()["id"] is None


@pytest.mark.parametrize("rid", [17, "req-ü-1", 0, -3])
def test_success_and_error_echo_the_id(api: Api, rid: int | str) -> None:
    resp = api.rpc("SystemService.ping", {}, id=rid)
    assert resp.status_code == 200
    assert resp.json() == {"jsonrpc": "2.0", "id": rid, "result": resp.json()["result"]}
    assert api.error("JobseekerService.get", {"id": 999_999}, -32004, id=rid)["data"]["id"] == 999_999


def test_params_missing_means_empty_object(api: Api) -> None:
    assert api.call("SystemService.ping")["pong"] is True
    result = api.call("JobseekerService.list")
    assert (result["page"], result["perPage"]) == (1, 50)


@pytest.mark.parametrize("method", ["NoSuchService.list", "JobseekerService.delete", "ping", "TagService.create"])
def test_unknown_method(api: Api, method: str) -> None:
    assert api.error(method, {}, -32601)["data"] == {"method": method}


@pytest.mark.parametrize("verb", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_http_methods_are_405(api: Api, verb: str) -> None:
    assert api.client.request(verb, RPC).status_code == 405


def test_another_path_is_404_not_a_redirect(api: Api) -> None:
    answer = api.client.post(f"{RPC}/", json={"jsonrpc": "2.0", "id": 1, "method": "SystemService.ping"})
    assert answer.status_code == 404
    assert "error" in answer.json()


# --- order of checks (§9) ------------------------------------------------------------------------------------


def test_shape_before_method(api: Api) -> None:
    check_error(post_raw(api, json.dumps([{**ping, "method": "Nope.nope"}])), -32600)
    check_error(post_raw(api, json.dumps({**ping, "method": "Nope.nope", "params": [1]})), -32600)


def test_unknown_method_before_authentication(api: Api) -> None:
    assert api.error("Nope.nope", {}, -32601, token=None)["data"] == {"method": "Nope.nope"}
    assert api.error("Nope.nope", {}, -32601, token="not-a-token")["data"] == {"method": "Nope.nope"}


@pytest.mark.parametrize(("token", "reason"), [(None, "missing"), ("not-a-token", "invalid"), ("x" * 64, "invalid")])
def test_token_reasons(api: Api, token: str | None, reason: str) -> None:
    assert api.error("SystemService.ping", {}, -32002, token=token)["data"] == {"reason": reason}


def test_authorization_header_without_bearer_is_not_accepted(api: Api) -> None:
    body = {**ping, "id": 5}
    for value in (api.token, f"Basic {api.token}", "Bearer"):
        resp = api.client.post(RPC, json=body, headers={"Authorization": value})
        assert check_error(resp, -32002, 5)["data"]["reason"] in ("missing", "invalid")


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("JobseekerService.list", {"page": "x", "perPage": 500}),
        ("JobseekerService.get", {"id": "abc"}),
        ("JobseekerService.create", {"jobseeker": 5}),
        ("ApplicationService.create", {}),
        ("CodebookService.get", {"name": "nope"}),
    ],
)
def test_authentication_before_params(api: Api, method: str, params: dict[str, Any]) -> None:
    assert api.error(method, params, -32002, token=None)["data"] == {"reason": "missing"}
    assert api.error(method, params, -32002, token="bogus")["data"] == {"reason": "invalid"}


def test_authentication_before_not_found(api: Api) -> None:
    assert api.error("JobseekerService.get", {"id": 999_999}, -32002, token=None)["data"]["reason"] == "missing"


def test_success_shape(rpc: Callable[..., httpx.Response], token: str) -> None:
    assert rpc("SystemService.ping", token=None).status_code == 401
    resp = rpc("SystemService.ping", id=3, token=token)
    assert resp.status_code == 200
    assert set(resp.json()) == {"jsonrpc", "id", "result"}
    assert "error" not in resp.json()


def test_json_nested_too_deeply_to_parse_is_a_parse_error(api: Api) -> None:
    deep = "[" * 5000 + "]" * 5000
    body = '{"jsonrpc":"2.0","id":1,"method":"JobseekerService.list","params":{"x":' + deep + "}}"
    check_error(post_raw(api, body, api.token), -32700)
    check_error(post_raw(api, deep, api.token), -32700)
    control = api.client.post("/__emulator__/records/tags", content='{"name":' + deep + "}")
    assert control.status_code == 422 and "error" in control.json()


@pytest.mark.parametrize(
    "body",
    [
        '{"jsonrpc":"2.0","id":1,"method":"JobseekerService.create",'
        '"params":{"jobseeker":{"firstName":"A\\ud800","lastName":"B","emails":[{"value":"sur@example.com"}]}}}',
        '{"jsonrpc":"2.0","id":"\\udc00","method":"SystemService.ping","params":{}}',
        '{"jsonrpc":"2.0","id":1,"method":"Foo.\\udc00","params":{}}',
        '{"jsonrpc":"2.0","id":1,"method":"JobseekerService.list","params":{"\\udfff":1}}',
    ],
)
def test_lone_surrogate_is_not_utf8_text_and_a_parse_error(api: Api, body: str) -> None:
    check_error(post_raw(api, body, api.token), -32700)
    assert api.call("JobseekerService.list", {"email": "sur@example.com"})["items"] == []
    assert api.client.get("/__emulator__/counters").status_code == 200


def test_surrogate_pair_is_one_character(api: Api) -> None:
    body = (
        '{"jsonrpc":"2.0","id":1,"method":"JobseekerService.create",'
        '"params":{"jobseeker":{"firstName":"A\\ud83d\\ude00","lastName":"B","emails":[{"value":"pair@example.com"}]}}}'
    )
    created = post_raw(api, body, api.token).json()["result"]
    assert api.call("JobseekerService.get", {"id": created["id"]})["firstName"] == "A\U0001f600"


def test_control_body_with_lone_surrogate_is_refused(api: Api) -> None:
    before = api.call("TagService.list")["items"]
    control = api.client.post("/__emulator__/records/tags", content='{"name":"\\udc00"}')
    assert control.status_code == 422 and "error" in control.json()
    assert api.call("TagService.list")["items"] == before
