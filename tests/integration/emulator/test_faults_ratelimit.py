"""§8 faults and §3 rate limit."""

from __future__ import annotations

import asyncio
import gc
import json
import socket
import time
import tracemalloc

import httpx
import pytest

from recru_emulator.app import create_app
from recru_emulator.emulator import Emulator
from recru_emulator.ratelimit import RateLimiter
from support.emulator_process import EmulatorProcess

from .conftest import RPC, Api, check_error


def ok(api: Api, method: str = "SystemService.ping", **kw: object) -> bool:
    """True when the call succeeds, False for an injected error_500."""
    resp = api.rpc(method, **kw)  # type: ignore[arg-type]
    if resp.status_code == 500:
        check_error(resp, -32603)
        return False
    assert resp.status_code == 200, resp.text
    assert "result" in resp.json(), resp.text
    return True


# --- faults ------------------------------------------------------------------------------------------------------


def test_rate_limit_fault(api: Api) -> None:
    api.fault("rate_limit", retryAfter=7)
    resp = api.rpc("SystemService.ping")
    error = check_error(resp, -32029)
    assert resp.headers["Retry-After"] == "7"
    assert error["data"] == {"retryAfter": 7}
    assert ok(api)


def test_rate_limit_fault_has_a_default_retry_after(api: Api) -> None:
    api.fault("rate_limit")
    check_error(api.rpc("SystemService.ping"), -32029)


def test_error_500_fault(api: Api) -> None:
    api.fault("error_500")
    resp = api.rpc("JobseekerService.list", {}, id=9)
    check_error(resp, -32603, 9)
    assert ok(api, "JobseekerService.list")


def test_unavailable_503_fault(api: Api) -> None:
    api.fault("unavailable_503", retryAfter=30)
    resp = api.rpc("SystemService.ping")
    error = check_error(resp, -32050)
    assert resp.headers["Retry-After"] == "30"
    assert error["data"] == {"retryAfter": 30}
    api.fault("unavailable_503")
    resp = api.rpc("SystemService.ping")
    check_error(resp, -32050)
    assert int(resp.headers["Retry-After"]) >= 1


def test_a_maintenance_may_last_longer_than_a_rate_limits_minute(api: Api) -> None:
    api.fault("unavailable_503", retryAfter=7200)
    resp = api.rpc("SystemService.ping")
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "7200"
    assert check_error(resp, -32050)["data"] == {"retryAfter": 7200}
    api.ctl("POST", "/faults", {"kind": "rate_limit", "retryAfter": 61}, expect=422)
    api.ctl("POST", "/faults", {"kind": "unavailable_503", "retryAfter": 86_401}, expect=422)


@pytest.mark.parametrize("delay", [None, 1])
def test_slow_fault(api: Api, delay: int | None) -> None:
    api.fault("slow", **({} if delay is None else {"delaySeconds": delay}))
    start = time.monotonic()
    assert ok(api)
    elapsed = time.monotonic() - start
    assert elapsed >= (delay or 2) - 0.05
    start = time.monotonic()
    assert ok(api)
    assert time.monotonic() - start < 0.9


def test_drop_fault_closes_the_connection_before_any_byte_of_an_answer(api: Api, emulator: EmulatorProcess) -> None:
    api.fault("drop")
    url = httpx.URL(emulator.url)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "SystemService.ping"}).encode()
    request = (
        f"POST /api/json-rpc HTTP/1.1\r\nHost: {url.host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    with socket.create_connection((url.host, url.port), timeout=10) as connection:
        connection.sendall(request)
        try:
            received = connection.recv(65536)
        except ConnectionResetError:
            received = b""
    assert received == b""
    api.fault("drop")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        api.rpc("SystemService.ping")
    assert ok(api)


@pytest.mark.parametrize("kind", ["truncate", "garbage"])
def test_broken_body_faults(api: Api, kind: str) -> None:
    api.fault(kind)
    try:
        resp = api.rpc("JobseekerService.list", {"perPage": 20})
    except (httpx.RemoteProtocolError, httpx.ReadError):  # a cut body may also be a cut connection
        assert kind == "truncate"
    else:
        with pytest.raises(ValueError, match=r"."):
            json.loads(resp.content)
        if kind == "truncate":
            assert resp.content
            assert len(resp.content) < len(api.rpc("JobseekerService.list", {"perPage": 20}).content)
    assert ok(api)


def test_a_truncated_answer_keeps_its_status_and_headers(api: Api) -> None:
    api.ctl("PUT", "/rate-limit", {"perMinute": 100})
    api.fault("truncate", count=2)
    refused = api.rpc("SystemService.ping", {}, token="not-a-token")
    answered = api.rpc("SystemService.ping", {})
    assert refused.status_code == 401 and refused.content.startswith(b'{"jsonrpc"')
    assert answered.status_code == 200 and "X-RateLimit-Remaining" in answered.headers
    assert int(answered.headers["content-length"]) == len(answered.content)


def test_count_applies_to_the_next_n_calls(api: Api) -> None:
    api.fault("error_500", count=3)
    assert [ok(api) for _ in range(5)] == [False, False, False, True, True]


def test_default_is_the_next_call_only(api: Api) -> None:
    api.fault("error_500")
    assert [ok(api) for _ in range(3)] == [False, True, True]


def test_method_restricts_the_fault(api: Api) -> None:
    api.fault("error_500", method="JobseekerService.list", count=2)
    assert ok(api, "SystemService.ping")
    assert ok(api, "TagService.list")
    assert not ok(api, "JobseekerService.list")
    assert ok(api, "SystemService.ping")
    assert not ok(api, "JobseekerService.list")
    assert ok(api, "JobseekerService.list")


def test_a_fault_limited_to_a_method_leaves_a_malformed_request_naming_it(api: Api) -> None:
    """A request refused as malformed (-32600: no ``id``) never calls the method it names: the fault waits."""
    api.fault("error_500", method="TagService.list", count=1)
    no_id = {"jsonrpc": "2.0", "method": "TagService.list", "params": {}}
    check_error(api.client.post(RPC, json=no_id, headers={"Authorization": f"Bearer {api.token}"}), -32600)
    assert not ok(api, "TagService.list")
    assert ok(api, "TagService.list")


def test_share_one_hits_every_call_until_cleared(api: Api) -> None:
    api.fault("error_500", share=1.0)
    assert not any(ok(api) for _ in range(8))
    api.ctl("DELETE", "/faults", None, 204)
    assert all(ok(api) for _ in range(3))


def test_share_zero_hits_nothing(api: Api) -> None:
    api.fault("error_500", share=0.0)
    assert all(ok(api) for _ in range(8))


def test_share_half_hits_some(api: Api) -> None:
    api.fault("error_500", share=0.5)
    results = [ok(api) for _ in range(60)]
    assert 5 < results.count(False) < 55


def test_faults_act_before_authentication(api: Api) -> None:
    api.fault("error_500")
    check_error(api.rpc("SystemService.ping", token=None), -32603)
    api.fault("rate_limit", retryAfter=5)
    check_error(api.rpc("JobseekerService.list", token="bogus"), -32029)
    api.fault("unavailable_503")
    check_error(api.rpc("AuthService.login", {"login": "x@example.org", "password": "y"}, token=None), -32050)


def test_faults_are_counted(api: Api) -> None:
    api.fault("error_500", count=2)
    api.fault("rate_limit", method="TagService.list")
    for method in ("SystemService.ping", "SystemService.ping", "TagService.list", "TagService.list"):
        api.rpc(method)
    assert api.counters()["faults"] == {"error_500": 2, "rate_limit": 1}


def test_controls_are_never_faulted(api: Api) -> None:
    api.fault("drop", share=1.0)
    for _ in range(3):
        assert api.counters()
    api.ctl("DELETE", "/faults", None, 204)
    assert ok(api)


# --- rate limit --------------------------------------------------------------------------------------------------


def limited_user(api: Api, per_minute: int) -> tuple[str, str, str]:
    """Set the limit and log a fresh user in (its own bucket); returns (login, password, token)."""
    api.ctl("PUT", "/rate-limit", {"perMinute": per_minute})
    user, password = api.new_user()
    resp = api.rpc("AuthService.login", {"login": user["email"], "password": password}, token=None)
    assert resp.status_code == 200, resp.text
    assert resp.headers["X-RateLimit-Limit"] == str(per_minute)
    assert resp.headers["X-RateLimit-Remaining"] == str(per_minute - 1)  # login counts
    return user["email"], password, resp.json()["result"]["token"]


def test_rate_limit(api: Api) -> None:
    _, _, token = limited_user(api, 5)
    for remaining in (3, 2, 1, 0):
        resp = api.rpc("SystemService.ping", token=token)
        assert resp.status_code == 200
        assert resp.headers["X-RateLimit-Limit"] == "5"
        assert resp.headers["X-RateLimit-Remaining"] == str(remaining)
    resp = api.rpc("SystemService.ping", token=token)
    error = check_error(resp, -32029)
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    assert 1 <= error["data"]["retryAfter"] <= 60
    check_error(api.rpc("JobseekerService.list", {}, token=token), -32029)


def test_rate_limit_is_per_user(api: Api) -> None:
    _, _, token = limited_user(api, 3)
    for _ in range(2):
        api.call("SystemService.ping", token=token)
    check_error(api.rpc("SystemService.ping", token=token), -32029)
    _, _, other = limited_user(api, 3)
    api.call("SystemService.ping", token=other)


def test_rate_limit_counts_logins(api: Api) -> None:
    login, password, _ = limited_user(api, 3)
    api.login(login, password)
    api.login(login, password)
    check_error(api.rpc("AuthService.login", {"login": login, "password": password}, token=None), -32029)


def test_failed_logins_are_limited_by_login_name(api: Api) -> None:
    api.ctl("PUT", "/rate-limit", {"perMinute": 2})
    params = {"login": "brute.force@example.org", "password": "guess"}
    for _ in range(2):
        api.error("AuthService.login", params, -32001, token=None)
    check_error(api.rpc("AuthService.login", params, token=None), -32029)
    user, password = api.new_user()
    assert api.login(user["email"], password)["token"]


def test_wrong_passwords_for_a_real_login_do_not_use_up_its_users_calls(api: Api) -> None:
    login, password, token = limited_user(api, 3)
    wrong = {"login": login, "password": password + "-wrong"}
    for _ in range(3):
        api.error("AuthService.login", wrong, -32001, token=None)
    check_error(api.rpc("AuthService.login", wrong, token=None), -32029)
    api.call("SystemService.ping", token=token)


def test_rate_limit_switched_off(api: Api) -> None:
    _, _, token = limited_user(api, 2)
    api.call("SystemService.ping", token=token)
    check_error(api.rpc("SystemService.ping", token=token), -32029)
    api.ctl("PUT", "/rate-limit", {"perMinute": None})
    for _ in range(5):
        api.call("SystemService.ping", token=token)


def test_calls_made_while_the_limit_was_off_count_once_it_is_on(api: Api) -> None:
    _, _, token = limited_user(api, 5)
    api.ctl("PUT", "/rate-limit", {"perMinute": None})
    for _ in range(3):
        api.call("SystemService.ping", token=token)
    api.ctl("PUT", "/rate-limit", {"perMinute": 5})
    resp = api.rpc("SystemService.ping", token=token)  # the login, three calls while off, and this one
    assert resp.headers["X-RateLimit-Remaining"] == "0"
    check_error(api.rpc("SystemService.ping", token=token), -32029)


def test_rate_limit_runs_on_real_time_not_the_tenant_clock(api: Api) -> None:
    _, _, token = limited_user(api, 2)
    api.call("SystemService.ping", token=token)
    api.advance(120)
    check_error(api.rpc("SystemService.ping", token=token), -32029)


def test_controls_are_never_limited(api: Api) -> None:
    _, _, token = limited_user(api, 2)
    api.call("SystemService.ping", token=token)
    check_error(api.rpc("SystemService.ping", token=token), -32029)
    for _ in range(10):
        api.counters()
    api.create("tags", name="Nicht limitiert")


def test_retry_after_of_a_lowered_limit_waits_for_enough_calls_to_leave_the_window(api: Api) -> None:
    """Ten calls in the window (two, then eight a few seconds later) and the limit lowered to two: a call is
    admitted once nine of them have left, so the wait runs from the later calls, not from the first."""
    _, _, token = limited_user(api, 10)
    api.call("SystemService.ping", token=token)
    time.sleep(3)
    for _ in range(8):
        api.call("SystemService.ping", token=token)
    api.ctl("PUT", "/rate-limit", {"perMinute": 2})
    resp = api.rpc("SystemService.ping", token=token)
    check_error(resp, -32029)
    assert int(resp.headers["Retry-After"]) >= 59


def test_the_limiter_forgets_login_names_once_their_window_is_over() -> None:
    """Failed logins are counted by any login name a client tries; once their minute is over the names take no
    memory. (In process, on the limiter's clock moved on: the window is a minute of real time.)"""
    moment = [0.0]
    emulator = Emulator(1, 0)
    emulator.limiter = RateLimiter(5, now=lambda: moment[0])
    tried = 3_000

    async def fail_to_log_in(client: httpx.AsyncClient, login: str) -> None:
        body = {"jsonrpc": "2.0", "id": 1, "method": "AuthService.login", "params": {"login": login, "password": "x"}}
        answer = await client.post("/api/json-rpc", json=body)
        assert answer.json()["error"]["code"] == -32001, answer.text

    async def retained() -> int:
        transport = httpx.ASGITransport(app=create_app(emulator))
        async with httpx.AsyncClient(transport=transport, base_url="http://recru.test") as client:
            await fail_to_log_in(client, "first@example.org")
            gc.collect()
            before = tracemalloc.get_traced_memory()[0]
            for index in range(tried):
                await fail_to_log_in(client, f"guess.{index}@example.org")
            moment[0] += 61
            await fail_to_log_in(client, "after.a.minute@example.org")
            gc.collect()
            return tracemalloc.get_traced_memory()[0] - before

    tracemalloc.start()
    try:
        assert asyncio.run(retained()) < 250 * tried  # each name remembered would take some 900 bytes
    finally:
        tracemalloc.stop()


def test_rate_limit_applies_to_the_api_user_too(api: Api) -> None:
    api.ctl("PUT", "/rate-limit", {"perMinute": 1000})
    resp = api.rpc("SystemService.ping")
    assert resp.headers["X-RateLimit-Limit"] == "1000"
    assert 0 <= int(resp.headers["X-RateLimit-Remaining"]) < 1000
    api.ctl("PUT", "/rate-limit", {"perMinute": 1})
    check_error(api.rpc("SystemService.ping"), -32029)
