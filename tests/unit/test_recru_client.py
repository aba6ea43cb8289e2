"""The RECRU JSON-RPC transport against a scriptable fake RECRU served through `httpx.MockTransport`."""

from __future__ import annotations

import asyncio
import json
import random
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from atsbridge.connectors.recru.client import MAX_EXPIRIES_PER_CALL, RecruClient, RetryPolicy
from atsbridge.connectors.recru.errors import (
    RecruAccessDenied,
    RecruConflict,
    RecruError,
    RecruInvalidParams,
    RecruLoginFailed,
    RecruNotFound,
    RecruOutcomeUnknown,
    RecruProjectNotOpen,
    RecruRateLimited,
    RecruRpcError,
    RecruTokenRejected,
    RecruUnavailable,
)

LOGIN = "api@customer.example"
PASSWORD = "s3cret"
BASE_URL = "http://recru.test"
ENDPOINT = "http://recru.test/api/json-rpc"
CREATE = "JobseekerService.create"

Scripted = httpx.Response | Exception


def rpc_error(
    code: int,
    data: dict[str, Any] | None = None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    error = {"code": code, "message": f"error {code}", "data": data}
    return httpx.Response(status, json={"jsonrpc": "2.0", "id": 1, "error": error}, headers=headers)


def rpc_result(result: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json={"jsonrpc": "2.0", "id": 1, "result": result})


class FakeRecru:
    """A tiny RECRU tenant: login, tokens, ping, a create, a paginated list; `script` answers first.

    `script[method]` holds responses or exceptions handed out (in order) before anything else, the way the
    emulator's faults act before authentication. `requests` records every request that reached the server.
    """

    def __init__(self) -> None:
        self.script: defaultdict[str, list[Scripted]] = defaultdict(list)
        self.requests: list[dict[str, Any]] = []
        self.valid_tokens: set[str] = set()
        self.tokens_issued = 0
        self.honour_tokens = True
        self.jobseekers = [{"id": i} for i in range(1, 6)]
        self.created = 0
        self.hold_rejections = 0
        self.rejection_reason = "expired"
        self._held = 0
        self._release = asyncio.Event()

    def methods(self) -> list[str]:
        return [request["method"] for request in self.requests]

    def expire_tokens(self) -> None:
        self.valid_tokens.clear()

    async def handle(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert str(request.url) == ENDPOINT
        await asyncio.sleep(0)  # a real server answers later: let concurrent calls interleave
        body = json.loads(request.content)
        self.requests.append({**body, "authorization": request.headers.get("Authorization")})
        if self.script[body["method"]]:
            scripted = self.script[body["method"]].pop(0)
            if isinstance(scripted, Exception):
                raise scripted
            return scripted
        return await self._serve(body["method"], body["params"], request.headers.get("Authorization"))

    async def _serve(self, method: str, params: dict[str, Any], authorization: str | None) -> httpx.Response:
        if method == "AuthService.login":
            return self._login(params)
        if authorization is None or authorization.removeprefix("Bearer ") not in self.valid_tokens:
            await self._hold_rejection()
            return rpc_error(-32002, {"reason": self.rejection_reason}, status=401)
        if method == "AuthService.logout":
            self.valid_tokens.discard(authorization.removeprefix("Bearer "))
            return rpc_result({"ok": True})
        if method == "SystemService.ping":
            return rpc_result({"pong": True, "serverTime": "2026-03-01T12:00:05Z"})
        if method == CREATE:
            self.created += 1
            return rpc_result({"id": 100 + self.created, "createdAt": "2026-03-01T12:00:05Z"})
        if method == "TagService.list":
            return rpc_result({"items": [{"id": 1, "name": "Java", "color": "#f00"}]})
        if method == "JobseekerService.list":
            return self._page(params)
        return rpc_error(-32601, {"method": method})

    def _login(self, params: dict[str, Any]) -> httpx.Response:
        if params != {"login": LOGIN, "password": PASSWORD}:
            return rpc_error(-32001, status=401)
        self.tokens_issued += 1
        token = f"tok-{self.tokens_issued}"
        if self.honour_tokens:
            self.valid_tokens.add(token)
        user = {"id": 7, "firstName": "Jana", "lastName": "Nováková", "email": LOGIN}
        return rpc_result({"token": token, "expiresAt": "2026-03-01T13:00:05Z", "user": user})

    async def _hold_rejection(self) -> None:
        """Keep the first `hold_rejections` rejected requests waiting until all of them have arrived."""
        if self.hold_rejections == 0:
            return
        self._held += 1
        if self._held >= self.hold_rejections:
            self._release.set()
        await self._release.wait()

    def _page(self, params: dict[str, Any]) -> httpx.Response:
        page, per_page = params["page"], params["perPage"]
        items = self.jobseekers[(page - 1) * per_page : page * per_page]
        has_more = page * per_page < len(self.jobseekers)
        return rpc_result(
            {
                "items": items,
                "page": page,
                "perPage": per_page,
                "total": len(self.jobseekers),
                "hasMore": has_more,
            }
        )


@pytest.fixture
def fake() -> FakeRecru:
    return FakeRecru()


@pytest.fixture
def sleeps() -> list[float]:
    return []


def make_client(
    fake: FakeRecru, sleeps: list[float], *, base_url: str = BASE_URL, retry: RetryPolicy = RetryPolicy()
) -> RecruClient:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    transport = httpx.MockTransport(fake.handle)
    return RecruClient(base_url, LOGIN, PASSWORD, retry=retry, sleep=sleep, transport=transport)


@pytest.fixture
async def recru(fake: FakeRecru, sleeps: list[float]) -> AsyncIterator[RecruClient]:
    async with make_client(fake, sleeps) as client:
        yield client


def request_error(kind: type[httpx.TransportError]) -> httpx.TransportError:
    return kind("boom", request=httpx.Request("POST", ENDPOINT))


# --- login and tokens ---


@pytest.mark.parametrize("base_url", ["http://recru.test", "http://recru.test/"])
async def test_logs_in_then_sends_bearer_token(fake: FakeRecru, sleeps: list[float], base_url: str) -> None:
    async with make_client(fake, sleeps, base_url=base_url) as recru:
        await recru.call("SystemService.ping")
        await recru.call("SystemService.ping")

    login, ping, ping_again = fake.requests
    assert login["method"] == "AuthService.login"
    assert login["params"] == {"login": LOGIN, "password": PASSWORD}
    assert login["authorization"] is None
    assert ping == {
        "jsonrpc": "2.0",
        "id": ping["id"],
        "method": "SystemService.ping",
        "params": {},
        "authorization": "Bearer tok-1",
    }
    assert ping_again["authorization"] == "Bearer tok-1"
    assert len({login["id"], ping["id"], ping_again["id"]}) == 3
    assert recru.stats.calls == 3


def test_rejects_a_base_url_that_is_not_http() -> None:
    with pytest.raises(ValueError, match="http"):
        RecruClient("recru.test", LOGIN, PASSWORD)


async def test_relogs_in_once_when_the_token_expired(fake: FakeRecru, recru: RecruClient) -> None:
    await recru.call("SystemService.ping")
    fake.expire_tokens()

    await recru.call("SystemService.ping")

    rejected_then_relogin = ["SystemService.ping", "AuthService.login", "SystemService.ping"]
    assert fake.methods() == ["AuthService.login", "SystemService.ping", *rejected_then_relogin]
    assert fake.requests[2]["authorization"] == "Bearer tok-1"
    assert fake.requests[-1]["authorization"] == "Bearer tok-2"
    assert recru.stats.relogins == 1


async def test_concurrent_calls_with_an_expired_token_share_one_relogin(fake: FakeRecru, recru: RecruClient) -> None:
    await recru.call("SystemService.ping")
    fake.expire_tokens()
    fake.hold_rejections = 20

    results = await asyncio.wait_for(asyncio.gather(*(recru.call("SystemService.ping") for _ in range(20))), timeout=5)

    assert len(results) == 20
    assert fake.methods().count("AuthService.login") == 2
    assert fake.tokens_issued == 2
    assert recru.stats.relogins == 1


async def test_concurrent_first_calls_share_one_login(fake: FakeRecru, recru: RecruClient) -> None:
    await asyncio.gather(*(recru.call("SystemService.ping") for _ in range(20)))

    assert fake.methods().count("AuthService.login") == 1
    assert recru.stats.relogins == 0


async def test_a_fresh_token_called_invalid_is_an_error_after_one_relogin(fake: FakeRecru, recru: RecruClient) -> None:
    fake.honour_tokens, fake.rejection_reason = False, "invalid"

    with pytest.raises(RecruTokenRejected) as raised:
        await recru.call("SystemService.ping")

    assert raised.value.reason == "invalid"
    assert fake.methods() == ["AuthService.login", "SystemService.ping"] * 2


async def test_a_token_that_expired_again_while_the_call_was_repeated_is_renewed_a_bounded_number_of_times(
    fake: FakeRecru, recru: RecruClient
) -> None:
    await recru.call("SystemService.ping")
    fake.expire_tokens()
    fake.script["SystemService.ping"] = [rpc_error(-32002, {"reason": "expired"}, status=401)] * 2  # twice over
    assert (await recru.call("SystemService.ping"))["pong"] is True
    assert recru.stats.relogins == 2

    fake.expire_tokens()
    fake.honour_tokens = False  # RECRU calls every token expired: a bounded number of logins, then the error
    before = len(fake.requests)
    with pytest.raises(RecruTokenRejected):
        await recru.call("SystemService.ping")
    sent = fake.methods()[before:]
    assert sent == ["SystemService.ping", "AuthService.login"] * MAX_EXPIRIES_PER_CALL + ["SystemService.ping"]


async def test_a_write_is_resent_after_relogin(fake: FakeRecru, recru: RecruClient) -> None:
    await recru.call("SystemService.ping")
    fake.expire_tokens()

    result = await recru.call(CREATE, {"jobseeker": {}}, idempotent=False)

    assert result["id"] == 101
    assert fake.methods().count(CREATE) == 2
    assert fake.created == 1


async def test_explicit_login_returns_the_api_user(fake: FakeRecru, recru: RecruClient) -> None:
    user = await recru.login()

    assert user["email"] == LOGIN
    await recru.call("SystemService.ping")
    assert fake.methods() == ["AuthService.login", "SystemService.ping"]


async def test_wrong_password_is_login_failed(fake: FakeRecru, sleeps: list[float]) -> None:
    transport = httpx.MockTransport(fake.handle)
    async with RecruClient(BASE_URL, LOGIN, "wrong", transport=transport) as recru:
        with pytest.raises(RecruLoginFailed) as raised:
            await recru.login()

    assert raised.value.code == -32001
    assert fake.methods() == ["AuthService.login"]


async def test_access_denied_is_not_retried(fake: FakeRecru, recru: RecruClient, sleeps: list[float]) -> None:
    fake.script["AuthService.login"].append(rpc_error(-32003, status=403))

    with pytest.raises(RecruAccessDenied):
        await recru.call("SystemService.ping")

    assert fake.methods() == ["AuthService.login"]
    assert sleeps == []


async def test_logout_ends_the_session(fake: FakeRecru, recru: RecruClient) -> None:
    await recru.call("SystemService.ping")

    await recru.logout()
    await recru.call("SystemService.ping")

    session = ["AuthService.login", "SystemService.ping"]
    assert fake.methods() == [*session, "AuthService.logout", *session]
    assert fake.requests[2]["authorization"] == "Bearer tok-1"
    assert fake.valid_tokens == {"tok-2"}
    assert recru.stats.relogins == 0


async def test_logout_tolerates_a_token_recru_already_dropped(fake: FakeRecru, recru: RecruClient) -> None:
    await recru.call("SystemService.ping")
    fake.expire_tokens()

    await recru.logout()

    assert fake.methods()[-1] == "AuthService.logout"
    assert fake.tokens_issued == 1


async def test_logout_without_a_session_sends_nothing(fake: FakeRecru, recru: RecruClient) -> None:
    await recru.logout()

    assert fake.requests == []


# --- retries ---


@pytest.mark.parametrize(
    ("response", "expected_sleep"),
    [
        pytest.param(rpc_error(-32029, {"retryAfter": 3}, status=429, headers={"Retry-After": "7"}), 7.0, id="429"),
        pytest.param(rpc_error(-32050, {"retryAfter": 3}, status=503, headers={"Retry-After": "5"}), 5.0, id="503"),
        pytest.param(rpc_error(-32029, {"retryAfter": 3}, status=429), 3.0, id="429-data-fallback"),
        pytest.param(rpc_error(-32029, {"retryAfter": 3}, status=429, headers={"Retry-After": "0"}), 0.0, id="zero"),
        pytest.param(httpx.Response(429, text="slow down", headers={"Retry-After": "2"}), 2.0, id="429-no-json"),
    ],
)
async def test_retry_after_is_honoured(
    fake: FakeRecru, recru: RecruClient, sleeps: list[float], response: httpx.Response, expected_sleep: float
) -> None:
    await recru.login()
    fake.script["SystemService.ping"].append(response)

    await recru.ping()

    assert sleeps == [expected_sleep]
    assert recru.stats.retries == 1


async def test_a_retry_after_beyond_the_policy_ends_the_call_at_once_and_is_handed_on(
    fake: FakeRecru, sleeps: list[float]
) -> None:
    async with make_client(fake, sleeps, retry=RetryPolicy(max_retry_after=2.0)) as recru:
        await recru.login()
        fake.script["SystemService.ping"].append(rpc_error(-32029, None, status=429, headers={"Retry-After": "30"}))
        with pytest.raises(RecruRateLimited) as raised:
            await recru.ping()
    assert sleeps == []  # RECRU would refuse any retry for 30 s: not waited for
    assert raised.value.retry_after == 30.0


async def test_rate_limit_without_any_retry_after_backs_off(
    fake: FakeRecru, recru: RecruClient, sleeps: list[float]
) -> None:
    await recru.login()
    fake.script["SystemService.ping"].append(rpc_error(-32029, {"retryAfter": "soon"}, status=429))

    await recru.ping()

    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= 0.25


TRANSIENT_FAILURES = [
    pytest.param(rpc_error(-32603, status=500), id="500"),
    pytest.param(rpc_error(-32050, status=503), id="503-without-retry-after"),
    pytest.param(httpx.Response(502, text="<html>Bad gateway</html>"), id="502-html"),
    pytest.param(httpx.Response(200, text="<html>oops</html>"), id="garbage"),
    pytest.param(httpx.Response(200, content=b'{"jsonrpc":"2.0","id":1,"resu'), id="truncated"),
    pytest.param(httpx.Response(200, content=b"\xff\xfe\xfa"), id="not-utf8"),
    pytest.param(httpx.Response(200, json={"status": "ok"}), id="json-but-not-json-rpc"),
    pytest.param(httpx.Response(200, json={"jsonrpc": "2.0", "id": 1}), id="neither-result-nor-error"),
    pytest.param(request_error(httpx.ReadError), id="read-error"),
    pytest.param(request_error(httpx.RemoteProtocolError), id="dropped"),
    pytest.param(request_error(httpx.ReadTimeout), id="read-timeout"),
    pytest.param(request_error(httpx.ConnectError), id="connect-error"),
]


@pytest.mark.parametrize("failure", TRANSIENT_FAILURES)
async def test_transient_failures_are_retried(
    fake: FakeRecru, recru: RecruClient, sleeps: list[float], failure: Scripted
) -> None:
    await recru.login()
    fake.script["SystemService.ping"] += [failure, failure]

    assert await recru.ping() == datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)

    assert fake.methods().count("SystemService.ping") == 3
    assert recru.stats.retries == 2
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.25
    assert 0 <= sleeps[1] <= 0.5


async def test_a_policy_for_someone_waiting_gives_a_timed_out_call_up_at_once(
    fake: FakeRecru, sleeps: list[float]
) -> None:
    retry = RetryPolicy(max_attempts=3, retry_timeouts=False)
    async with make_client(fake, sleeps, retry=retry) as recru:
        await recru.login()
        fake.script["SystemService.ping"] += [request_error(httpx.ReadTimeout)]
        with pytest.raises(RecruUnavailable, match="RECRU did not answer in time"):
            await recru.ping()
        assert fake.methods().count("SystemService.ping") == 1
        fake.script["SystemService.ping"] += [rpc_error(-32603, status=500)]
        await recru.ping()  # other failures are still retried
    assert fake.methods().count("SystemService.ping") == 3


async def test_backoff_doubles_up_to_its_cap(
    fake: FakeRecru, sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(random, "uniform", lambda low, high: high)
    retry = RetryPolicy(max_attempts=6, backoff_base=1.0, backoff_cap=4.0)
    fake.script["AuthService.login"] += [rpc_error(-32603, status=500)] * 5
    async with make_client(fake, sleeps, retry=retry) as recru:
        await recru.login()

    assert sleeps == [1.0, 2.0, 4.0, 4.0, 4.0]


@pytest.mark.parametrize(
    ("failure", "error", "cause"),
    [
        pytest.param(rpc_error(-32603, status=500), RecruUnavailable, RecruRpcError, id="500"),
        pytest.param(request_error(httpx.ReadError), RecruUnavailable, httpx.ReadError, id="read-error"),
        pytest.param(httpx.Response(200, text="nope"), RecruUnavailable, RecruError, id="garbage"),
    ],
)
async def test_gives_up_after_max_attempts(
    fake: FakeRecru,
    recru: RecruClient,
    sleeps: list[float],
    failure: Scripted,
    error: type[RecruUnavailable],
    cause: type[BaseException],
) -> None:
    await recru.login()
    fake.script["SystemService.ping"] += [failure] * 12

    with pytest.raises(error) as raised:
        await recru.ping()

    assert type(raised.value) is error
    assert isinstance(raised.value.cause, cause)
    assert raised.value.__cause__ is raised.value.cause
    assert raised.value.attempts == 12
    assert raised.value.method == "SystemService.ping"
    assert fake.methods().count("SystemService.ping") == 12
    assert len(sleeps) == 11


async def test_a_sync_rides_out_eleven_failures_of_a_call_waiting_at_most_32_s(
    fake: FakeRecru, recru: RecruClient, sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One call given up fails a whole sync: RECRU failing a call eleven times in a row (faults on half its calls
    do so once in 2,000 calls) still lets it through, after waits of 0.25 s doubling up to 4 s."""
    monkeypatch.setattr(random, "uniform", lambda low, high: high)
    await recru.login()
    fake.script["SystemService.ping"] += [rpc_error(-32603, status=500), request_error(httpx.ReadError)] * 5
    fake.script["SystemService.ping"] += [httpx.Response(200, text="truncated {")]

    await recru.ping()

    assert sleeps == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0]


async def test_rate_limit_answers_have_their_own_budget(fake: FakeRecru, sleeps: list[float]) -> None:
    fake.script["AuthService.login"] += [rpc_error(-32029, status=429)] * 3
    async with make_client(fake, sleeps, retry=RetryPolicy(max_attempts=2, max_rate_limited=4)) as recru:
        await recru.login()  # three 429s are more than max_attempts but within max_rate_limited
    assert fake.methods().count("AuthService.login") == 4

    fake.script["AuthService.login"] += [rpc_error(-32029, status=429)] * 4
    async with make_client(fake, sleeps, retry=RetryPolicy(max_attempts=2, max_rate_limited=4)) as recru:
        with pytest.raises(RecruRateLimited) as raised:
            await recru.login()
    assert raised.value.attempts == 4
    assert isinstance(raised.value.cause, RecruRpcError)


async def test_max_attempts_is_configurable(fake: FakeRecru, sleeps: list[float]) -> None:
    fake.script["AuthService.login"] += [rpc_error(-32603, status=500)] * 2
    async with make_client(fake, sleeps, retry=RetryPolicy(max_attempts=2)) as recru:
        with pytest.raises(RecruUnavailable):
            await recru.login()

    assert fake.methods() == ["AuthService.login"] * 2


# --- writes are never repeated blindly ---


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(rpc_error(-32603, status=500), id="500"),
        pytest.param(request_error(httpx.ReadError), id="read-error"),
        pytest.param(request_error(httpx.RemoteProtocolError), id="dropped"),
        pytest.param(request_error(httpx.ReadTimeout), id="read-timeout"),
        pytest.param(httpx.Response(200, content=b'{"jsonrpc":"2.0","id":1,"result":{"id":1'), id="truncated"),
    ],
)
async def test_a_write_that_may_have_reached_recru_is_not_resent(
    fake: FakeRecru, recru: RecruClient, sleeps: list[float], failure: Scripted
) -> None:
    await recru.login()
    fake.script[CREATE].append(failure)

    with pytest.raises(RecruOutcomeUnknown) as raised:
        await recru.call(CREATE, {"jobseeker": {}}, idempotent=False)

    assert raised.value.attempts == 1
    assert fake.methods().count(CREATE) == 1
    assert sleeps == []


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(rpc_error(-32029, {"retryAfter": 1}, status=429, headers={"Retry-After": "1"}), id="429"),
        pytest.param(rpc_error(-32050, {"retryAfter": 1}, status=503, headers={"Retry-After": "1"}), id="503"),
        pytest.param(httpx.Response(503, text="down for maintenance"), id="503-no-json"),
        pytest.param(request_error(httpx.ConnectError), id="connect-error"),
        pytest.param(request_error(httpx.ConnectTimeout), id="connect-timeout"),
    ],
)
async def test_a_write_that_cannot_have_reached_recru_is_resent(
    fake: FakeRecru, recru: RecruClient, failure: Scripted
) -> None:
    await recru.login()
    fake.script[CREATE].append(failure)

    result = await recru.call(CREATE, {"jobseeker": {}}, idempotent=False)

    assert result["id"] == 101
    assert fake.methods().count(CREATE) == 2
    assert fake.created == 1


async def test_a_write_rate_limited_then_failing_is_outcome_unknown(fake: FakeRecru, recru: RecruClient) -> None:
    await recru.login()
    fake.script[CREATE] += [rpc_error(-32029, status=429), rpc_error(-32603, status=500)]

    with pytest.raises(RecruOutcomeUnknown) as raised:
        await recru.call(CREATE, {"jobseeker": {}}, idempotent=False)

    assert raised.value.attempts == 2
    assert fake.methods().count(CREATE) == 2


# --- RECRU's own errors ---


@pytest.mark.parametrize(
    ("code", "data", "error", "check"),
    [
        pytest.param(
            -32602,
            {"fields": {"jobseeker.emails[0].value": "invalid_email"}},
            RecruInvalidParams,
            lambda e: e.fields == {"jobseeker.emails[0].value": "invalid_email"},
            id="invalid-params",
        ),
        pytest.param(
            -32004,
            {"entity": "project", "id": 42},
            RecruNotFound,
            lambda e: (e.entity, e.id) == ("project", 42),
            id="not-found",
        ),
        pytest.param(-32009, {"existingId": 17}, RecruConflict, lambda e: e.existing_id == 17, id="conflict"),
        pytest.param(
            -32010,
            {"projectId": 3, "status": "closed"},
            RecruProjectNotOpen,
            lambda e: (e.project_id, e.status) == (3, "closed"),
            id="project-not-open",
        ),
        pytest.param(
            -32601,
            {"method": "TagService.create"},
            RecruRpcError,
            lambda e: e.data["method"] == "TagService.create",
            id="unknown-method",
        ),
        pytest.param(-32600, None, RecruRpcError, lambda e: e.data == {}, id="invalid-request"),
        pytest.param(-32700, None, RecruRpcError, lambda e: e.data == {}, id="parse-error"),
    ],
)
async def test_recru_errors_are_raised_at_once_with_their_data(
    fake: FakeRecru,
    recru: RecruClient,
    sleeps: list[float],
    code: int,
    data: dict[str, Any] | None,
    error: type[RecruRpcError],
    check: Callable[[Any], bool],
) -> None:
    await recru.login()
    fake.script[CREATE].append(rpc_error(code, data))

    with pytest.raises(error) as raised:
        await recru.call(CREATE, {"jobseeker": {}}, idempotent=False)

    assert type(raised.value) is error
    assert raised.value.code == code
    assert raised.value.message == f"error {code}"
    assert raised.value.data == (data or {})
    assert check(raised.value)
    assert fake.methods().count(CREATE) == 1
    assert sleeps == []


async def test_typed_fields_ignore_data_of_the_wrong_type() -> None:
    error = RecruConflict(-32009, "conflict", {"existingId": "17"})

    assert error.existing_id is None


# --- helpers ---


async def test_iter_pages_follows_has_more(fake: FakeRecru, recru: RecruClient) -> None:
    pages = [page async for page in recru.iter_pages("JobseekerService.list", {"updatedSince": "x"}, per_page=2)]

    assert pages == [[{"id": 1}, {"id": 2}], [{"id": 3}, {"id": 4}], [{"id": 5}]]
    lists = [request["params"] for request in fake.requests if request["method"] == "JobseekerService.list"]
    assert lists == [{"updatedSince": "x", "page": page, "perPage": 2} for page in (1, 2, 3)]


async def test_iter_pages_stops_on_an_empty_page(fake: FakeRecru, recru: RecruClient) -> None:
    never_ending = {"items": [], "page": 1, "perPage": 200, "total": 9, "hasMore": True}
    fake.script["JobseekerService.list"].append(rpc_result(never_ending))

    pages = [page async for page in recru.iter_pages("JobseekerService.list")]

    assert pages == []
    assert fake.methods().count("JobseekerService.list") == 1


async def test_list_all_returns_the_items(recru: RecruClient) -> None:
    assert await recru.list_all("TagService.list") == [{"id": 1, "name": "Java", "color": "#f00"}]


async def test_a_list_without_items_is_an_error(fake: FakeRecru, recru: RecruClient) -> None:
    fake.script["TagService.list"].append(rpc_result({"tags": []}))

    with pytest.raises(RecruError, match="no items"):
        await recru.list_all("TagService.list")


async def test_ping_parses_server_time_as_aware_utc(recru: RecruClient) -> None:
    server_time = await recru.ping()

    assert server_time == datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)
    assert server_time.utcoffset() is not None


async def test_lone_surrogates_in_an_answer_become_replacement_characters(
    fake: FakeRecru, recru: RecruClient, sleeps: list[float]
) -> None:
    # valid JSON syntax, but no UTF-8 text: orjson refuses it, and one such character must not fail every listing
    body = (
        b'{"jsonrpc":"2.0","id":1,"result":{"items":[{"id":1,"lastName":"Nov\\ud800\\u0000\\u00e1',
        b'kov\\u00e1","title":"\\ud83d\\ude00 \\\\ud800","\\udfff":"x"}],"hasMore":false}}',
    )
    fake.script["JobseekerService.list"].append(httpx.Response(200, content=b"".join(body)))

    result = await recru.call("JobseekerService.list", {"page": 1})

    assert result["items"] == [{"id": 1, "lastName": "Nov\ufffdáková", "title": "\U0001f600 \\ud800", "\ufffd": "x"}]
    assert sleeps == []


async def test_an_answer_with_a_lone_surrogate_and_nan_is_still_garbage(
    fake: FakeRecru, recru: RecruClient, sleeps: list[float]
) -> None:
    garbage = httpx.Response(200, content=b'{"jsonrpc":"2.0","id":1,"result":{"a":"\\ud800","b":NaN}}')
    fake.script["SystemService.ping"] += [garbage, garbage]

    await recru.ping()

    assert recru.stats.retries == 2


@pytest.mark.parametrize(
    ("cause", "said"),
    [
        (httpx.ConnectError("All connection attempts failed"),
         "RECRU could not be reached (ConnectError: All connection attempts failed)"),
        (httpx.ReadTimeout(""), "RECRU did not answer in time (ReadTimeout)"),
        (httpx.RemoteProtocolError("Server disconnected"),
         "the connection to RECRU was lost (RemoteProtocolError: Server disconnected)"),
        (RecruError("RECRU answered HTTP 502 with a body that is not JSON"),
         "RECRU answered HTTP 502 with a body that is not JSON"),
    ],
)  # fmt: skip
def test_giving_up_says_in_words_what_failed_last(cause: BaseException, said: str) -> None:
    assert (
        str(RecruUnavailable("AuthService.login", 6, cause)) == f"AuthService.login failed after 6 attempt(s): {said}"
    )


async def test_numbers_beyond_a_doubles_range_become_null(
    fake: FakeRecru, recru: RecruClient, sleeps: list[float]
) -> None:
    # valid JSON (it sets no limit), but orjson refuses it: one such number must not fail every listing of a record
    huge = "1" + "0" * 400
    body = (
        '{"jsonrpc":"2.0","id":1,"result":{"items":[{"id":1,"weeklyHours":' + huge + ',"b":-1e400,"c":1.5e300,'
        '"big":18446744073709551615,"small":-9223372036854775808,"over":18446744073709551616,"x":"\\ud800"}],'
        '"hasMore":false}}'
    )
    fake.script["ProjectService.list"].append(httpx.Response(200, content=body.encode()))

    result = await recru.call("ProjectService.list", {"page": 1})

    item = {"id": 1, "weeklyHours": None, "b": None, "c": 1.5e300, "big": 2**64 - 1, "small": -(2**63),
            "over": 18446744073709551616.0, "x": "\ufffd"}  # fmt: skip
    assert result["items"] == [item]
    assert type(result["items"][0]["over"]) is float
    assert sleeps == []
