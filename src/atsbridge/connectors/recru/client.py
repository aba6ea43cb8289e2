"""JSON-RPC transport to one RECRU tenant: login and re-login, retries honouring Retry-After, pagination.

Everything above this module (streams, actions, the sync engine) speaks plain `Service.method` calls with
dict params and gets the `result` object back, or one of the errors of `atsbridge.connectors.recru.errors`.
NUL characters (``\u0000``) RECRU may hold in its texts are removed from every result: PostgreSQL cannot store
them (one would fail every sync of the integration there), and no text means anything by them. A lone surrogate
(``\ud800`` escaped without its pair: valid JSON syntax, but no UTF-8 text) becomes U+FFFD, the replacement
character: orjson refuses such an answer, so one bad character in one record would fail every listing of it. So it
does a number beyond a double's range (``1e400``; JSON sets no limit): such a number becomes null (logged), as no
JSON reader holding numbers as doubles, ours and our API's clients', could hold it.
Passthrough answers (``forward``) are passed on as RECRU sent them.

Which failures are retried, and why writes are special:

- RECRU's own answers (invalid params, not found, conflict, ...) are final and raised at once.
- -32002 (token missing, invalid or expired) is checked before a call is processed, so the client logs in
  again (once, shared by every concurrent call that saw the same token fail) and repeats the call, writes
  included; again, up to ``MAX_EXPIRIES_PER_CALL`` logins, only if the new token expired meanwhile too.
- 429 (-32029) and 503 (-32050) are answered before processing, and so is a connection that could not be
  opened (`httpx.ConnectError`, `ConnectTimeout`, `PoolTimeout`): nothing can have been stored, so even a
  write is re-sent, after `Retry-After` when RECRU gives one.
- 500 (-32603), a timeout or a dropped connection after the request went out, and a truncated or
  non-JSON-RPC body leave it unknown whether RECRU stored the write. Idempotent calls (reads, `addTag`,
  `removeTag`, login) are simply repeated. A call made with `idempotent=False` (creating a jobseeker or an
  application) is NOT re-sent, because a second create could duplicate the record: `RecruOutcomeUnknown` is
  raised instead, so the caller can look up what RECRU stored (the jobseeker by e-mail, the application by
  jobseeker and project) before trying again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import math
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import httpx
import orjson

from atsbridge import __version__
from atsbridge.connectors.recru.errors import (
    INTERNAL_ERROR,
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

JsonObject = dict[str, Any]
Sleep = Callable[[float], Awaitable[None]]

_log = logging.getLogger(__name__)

_ENDPOINT_PATH = "/api/json-rpc"
_TOKEN_REJECTED = -32002
MAX_EXPIRIES_PER_CALL = 3
"""Logins one call may make: one for a token rejected, more only for one that expired again while the call ran."""
_RATE_LIMITED = -32029
_MAINTENANCE = -32050
_ERROR_CLASSES: dict[int, type[RecruRpcError]] = {
    -32001: RecruLoginFailed,
    _TOKEN_REJECTED: RecruTokenRejected,
    -32003: RecruAccessDenied,
    -32004: RecruNotFound,
    -32009: RecruConflict,
    -32010: RecruProjectNotOpen,
    -32602: RecruInvalidParams,
}
# Raised while the request could not yet have been sent, so RECRU cannot have processed it.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently transient failures are retried.

    `max_attempts` counts every try of one call that failed for another reason than the rate limit, the first
    included; `max_rate_limited` bounds the tries answered 429. The rate limit is flow control, not a fault: a
    sync that outruns RECRU's 120 calls a minute meets it on every window, and its concurrent requests wait
    their turn, so it gets a budget of its own. Without a usable `Retry-After`, the n-th retry waits a random
    time in `[0, min(backoff_cap, backoff_base * 2**(n-1))]` (full jitter); a `Retry-After` is obeyed, and one
    beyond `max_retry_after` ends the call at once (RECRU would refuse a retry before then), its `Retry-After`
    handed on in the error.

    The defaults are a sync's: patient, since one call given up fails the whole run and a FULL's deletions wait for
    the next one that gets through. Twelve tries with waits of at most 0.25, 0.5, 1, 2, then 4 s ride out a RECRU
    failing most calls for half a minute (a call failing every other try gets through in all but 1 of 4,000 cases),
    and a RECRU that is down fails the run after at most 32 s of waiting (16 s on average: the waits are random).
    """

    max_attempts: int = 12
    max_rate_limited: int = 30
    backoff_base: float = 0.25
    backoff_cap: float = 4.0
    max_retry_after: float = 300.0
    retry_timeouts: bool = True  # False: a call that timed out is given up at once (someone waits for it)


@dataclass
class RecruStats:
    """Counters a sync reports: HTTP requests sent (logins and retries included), retries, re-logins, and answers
    read altered: text holding NUL characters or lone surrogates (``_plain_text``: removed, replaced) or numbers
    beyond a double's range (``_loads_leniently``: null)."""

    calls: int = 0
    retries: int = 0
    relogins: int = 0
    altered_answers: int = 0


class _Transient(Exception):
    """A failure worth another attempt; `reached`: RECRU may have processed the request."""

    def __init__(
        self,
        cause: BaseException,
        *,
        reached: bool,
        rate_limited: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(repr(cause))
        self.cause = cause
        self.reached = reached
        self.rate_limited = rate_limited
        self.retry_after = retry_after

    def give_up(self, method: str, attempts: int, *, idempotent: bool, reached: bool) -> RecruUnavailable:
        """The error a call ends in after this last failure; ``reached``: any of its attempts may have been
        processed by RECRU."""
        if self.reached and not idempotent:
            return RecruOutcomeUnknown(method, attempts, self.cause, reached=True)
        kind = RecruRateLimited if self.rate_limited else RecruUnavailable
        return kind(method, attempts, self.cause, self.retry_after, reached=reached)


class RecruClient:
    """An async JSON-RPC client for one tenant and one API user; use as `async with RecruClient(...) as c`.

    One `httpx.AsyncClient` (and so one connection pool) lives as long as this object; one token is shared by
    every concurrent call. `sleep` is injectable so tests need not wait out backoffs.
    """

    def __init__(
        self,
        base_url: str,
        login: str,
        password: str,
        *,
        retry: RetryPolicy = RetryPolicy(),
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        sleep: Sleep = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._endpoint = _endpoint(base_url)
        self._credentials = {"login": login, "password": password}
        self._retry = retry
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            headers={"Content-Type": "application/json", "User-Agent": f"atsbridge/{__version__}"},
            transport=transport,
        )
        self._ids = itertools.count(1)
        self._token: str | None = None
        self._login_lock = asyncio.Lock()
        self.stats = RecruStats()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (the token is left to expire; call `logout` first to end it now)."""
        await self._http.aclose()

    async def login(self) -> JsonObject:
        """Log in now, replacing any token; returns the API user `{id, firstName, lastName, email}`.

        Raises `RecruLoginFailed` or `RecruAccessDenied` for bad credentials: the connect page's check.
        """
        async with self._login_lock:
            _token, user = await self._authenticate()
        return user

    async def logout(self) -> None:
        """End the current session, if any; a token RECRU already dropped counts as logged out."""
        async with self._login_lock:
            token, self._token = self._token, None
        if token is None:
            return
        with contextlib.suppress(RecruTokenRejected):
            await self._rpc("AuthService.logout", {}, token, idempotent=True)

    async def ping(self) -> datetime:
        """RECRU's clock (`SystemService.ping`'s `serverTime`), the watermark a delta sync starts from."""
        result = await self.call("SystemService.ping")
        server_time = datetime.fromisoformat(result["serverTime"])
        return server_time if server_time.tzinfo else server_time.replace(tzinfo=UTC)

    async def call(self, method: str, params: JsonObject | None = None, *, idempotent: bool = True) -> JsonObject:
        """Call `method` and return its `result`; see the module docstring for what is retried.

        Pass `idempotent=False` for calls that must never be repeated blindly (creates).
        """
        params = params or {}
        token = self._token or await self._fresh_token(rejected=None)
        for relogin in range(MAX_EXPIRIES_PER_CALL):
            try:
                return await self._rpc(method, params, token, idempotent=idempotent)
            except RecruTokenRejected as rejected:
                # a token fresh from a login that RECRU calls invalid or missing will not do better next time; one
                # that expired meanwhile (the call was slow, retried for minutes) may be renewed again
                if relogin and rejected.reason != "expired":
                    raise
                token = await self._fresh_token(rejected=token)
        return await self._rpc(method, params, token, idempotent=idempotent)

    async def forward(self, request: JsonObject) -> httpx.Response:
        """Send a caller's own JSON-RPC ``request`` as it is, authenticated with this client's token, and return
        RECRU's answer as it is (the passthrough). Only a rejected token is handled (one login and one repeat, as
        for `call`, since RECRU refuses such a call before processing it); nothing else is retried, as the request
        may be a write. Transport failures are raised as httpx's errors."""
        body = json.dumps(request, ensure_ascii=False, separators=(",", ":")).encode()

        async def send(token: str) -> httpx.Response:
            self.stats.calls += 1
            return await self._http.post(self._endpoint, content=body, headers={"Authorization": f"Bearer {token}"})

        token = self._token or await self._fresh_token(rejected=None)
        response = await send(token)
        if response.status_code == 401 and _error_code(response) == _TOKEN_REJECTED:
            response = await send(await self._fresh_token(rejected=token))
        return response

    @property
    def endpoint(self) -> str:
        """The URL every call goes to."""
        return str(self._endpoint)

    async def iter_pages(
        self, method: str, params: JsonObject | None = None, *, per_page: int = 200
    ) -> AsyncIterator[list[JsonObject]]:
        """Yield the `items` of pages 1, 2, ... of a list until `hasMore` is false (or a page is empty)."""
        for page in itertools.count(1):
            result = await self.call(method, {**(params or {}), "page": page, "perPage": per_page})
            items = _items(method, result)
            if not items:
                return
            yield items
            if not result.get("hasMore"):
                return

    async def list_all(self, method: str, params: JsonObject | None = None) -> list[JsonObject]:
        """The `items` of a non-paginated list (stages, tags, a codebook, a jobseeker's attachments)."""
        return _items(method, await self.call(method, params))

    async def _fresh_token(self, *, rejected: str | None) -> str:
        """The current token, logging in first if there is none or it is still the one RECRU just `rejected`.

        The lock plus the re-check make concurrent callers that saw the same token fail share one login.
        """
        async with self._login_lock:
            if self._token is not None and self._token != rejected:
                return self._token
            if rejected is not None:
                self.stats.relogins += 1
            token, _user = await self._authenticate()
            return token

    async def _authenticate(self) -> tuple[str, JsonObject]:
        """`AuthService.login` (the caller holds the lock); stores and returns the token, with the user."""
        result = await self._rpc("AuthService.login", self._credentials, None, idempotent=True)
        token, user = result.get("token"), result.get("user")
        if not isinstance(token, str) or not token or not isinstance(user, dict):
            raise RecruError("AuthService.login returned no token or user")
        self._token = token
        return token, user

    async def _rpc(self, method: str, params: JsonObject, token: str | None, *, idempotent: bool) -> JsonObject:
        """One call with the retries the policy allows; a `RecruRpcError` is raised at once."""
        attempt = rate_limited = 0
        reached = False
        while True:
            try:
                return await self._attempt(method, params, token)
            except _Transient as failure:
                reached = reached or failure.reached
                if failure.rate_limited:
                    rate_limited += 1
                else:
                    attempt += 1
                exhausted = attempt >= self._retry.max_attempts or rate_limited >= self._retry.max_rate_limited
                too_long = failure.retry_after is not None and failure.retry_after > self._retry.max_retry_after
                timed_out = isinstance(failure.cause, httpx.TimeoutException) and not self._retry.retry_timeouts
                if exhausted or too_long or timed_out or (failure.reached and not idempotent):
                    attempts = attempt + rate_limited
                    raise failure.give_up(method, attempts, idempotent=idempotent, reached=reached) from failure.cause
                delay = self._delay(failure, max(attempt, 1))
                _log.info(
                    "RECRU %s failed (%r), attempt %d, retrying in %.2fs",
                    method,
                    failure.cause,
                    attempt,
                    delay,
                )
                self.stats.retries += 1
                await self._sleep(delay)

    def _delay(self, failure: _Transient, attempt: int) -> float:
        if failure.retry_after is not None:
            return failure.retry_after
        return random.uniform(0, min(self._retry.backoff_cap, self._retry.backoff_base * 2 ** (attempt - 1)))

    async def _attempt(self, method: str, params: JsonObject, token: str | None) -> JsonObject:
        request = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        body = json.dumps(request, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Authorization": f"Bearer {token}"} if token else None
        self.stats.calls += 1
        try:
            response = await self._http.post(self._endpoint, content=body, headers=headers)
        except _NOT_SENT as exc:
            raise _Transient(exc, reached=False) from exc
        except httpx.TransportError as exc:
            raise _Transient(exc, reached=True) from exc
        return _result(response, self.stats)


def _endpoint(base_url: str) -> httpx.URL:
    url = httpx.URL(base_url.rstrip("/") + _ENDPOINT_PATH)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"RECRU base URL must be an http(s) URL, got {base_url!r}")
    return url


def _result(response: httpx.Response, stats: RecruStats) -> JsonObject:
    """The `result` of a JSON-RPC response (without NUL characters), or the exception its error (or its garbage)
    stands for."""
    content = response.content
    try:
        payload = orjson.loads(content)
    except ValueError as exc:  # orjson.JSONDecodeError, also for bytes that are not even UTF-8
        payload = _loads_leniently(response, exc, stats)
    # a NUL or a surrogate can only come escaped in JSON: most answers are never walked
    if _NUL_ESCAPE in content or _SURROGATE_ESCAPE.search(content):
        cleaned = _plain_text(payload)
        if cleaned != payload:  # not only an escaped backslash before "u0000" or a surrogate pair
            _log.warning("RECRU answered text with NUL characters or lone surrogates; they were removed or replaced")
            stats.altered_answers += 1
            payload = cleaned
    if not isinstance(payload, dict) or payload.get("jsonrpc") != "2.0":
        raise _garbage(response, ValueError("body is not a JSON-RPC 2.0 response"))
    result, error = payload.get("result"), payload.get("error")
    if isinstance(result, dict) and error is None:
        return result
    if not isinstance(error, dict) or not isinstance(error.get("code"), int):
        raise _garbage(response, ValueError("JSON-RPC response with neither an object result nor an error"))
    raise _rpc_error(response, error)


_NUL_ESCAPE = b"\\u0000"
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # a pair escaped in JSON is parsed into one character


def _loads_leniently(response: httpx.Response, refused: ValueError, stats: RecruStats) -> Any:
    """The answer orjson ``refused``, parsed by Python's parser, which takes lone surrogates and numbers beyond a
    double's range (those become ``None``) but, as orjson, no NaN; garbage when it is not JSON either."""
    beyond: list[str] = []

    def double(text: str) -> float | None:
        value = float(text)
        if math.isfinite(value):
            return value
        beyond.append(text)
        return None

    def integer(text: str) -> int | float | None:  # as orjson reads one: beyond 64 bits, as a double
        if len(text) <= _LONGEST_64_BIT_INTEGER and _INT_RANGE[0] <= (value := int(text)) <= _INT_RANGE[1]:
            return value
        return double(text)

    try:
        payload = json.loads(response.content, parse_constant=_not_a_number, parse_float=double, parse_int=integer)
    except (ValueError, RecursionError):
        raise _garbage(response, refused) from refused
    if beyond:
        _log.warning("RECRU answered %d number(s) beyond a double's range; each became null", len(beyond))
        stats.altered_answers += 1
    return payload


_INT_RANGE = (-(2**63), 2**64 - 1)
_LONGEST_64_BIT_INTEGER = len(str(_INT_RANGE[0]))  # characters: a longer one is out of range (not even parsed)


def _not_a_number(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _plain_text(value: Any) -> Any:
    """``value`` (parsed JSON) with every NUL character removed from its texts, keys included, and every lone
    surrogate replaced by U+FFFD."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value.replace("\x00", ""))
    if isinstance(value, list):
        return [_plain_text(item) for item in value]
    if isinstance(value, dict):
        return {_plain_text(key): _plain_text(item) for key, item in value.items()}
    return value


def _error_code(response: httpx.Response) -> int | None:
    """The JSON-RPC error code of ``response``, if it is a readable JSON-RPC error."""
    try:
        error = orjson.loads(response.content).get("error")
    except (ValueError, AttributeError):
        return None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, int) else None


def _rpc_error(response: httpx.Response, error: JsonObject) -> Exception:
    data = error.get("data") if isinstance(error.get("data"), dict) else None
    cause = _ERROR_CLASSES.get(error["code"], RecruRpcError)(error["code"], str(error.get("message")), data)
    if cause.code in (_RATE_LIMITED, _MAINTENANCE):
        retry_after = _retry_after(response)
        if retry_after is None:
            retry_after = _seconds((data or {}).get("retryAfter"))
        return _Transient(cause, reached=False, rate_limited=cause.code == _RATE_LIMITED, retry_after=retry_after)
    if cause.code == INTERNAL_ERROR:
        return _Transient(cause, reached=True)
    return cause


def _garbage(response: httpx.Response, exc: ValueError) -> _Transient:
    """A body that is no JSON-RPC response: judged by its HTTP status (429 and 503 come before processing)."""
    # Size and type only: a cut login answer would put the token into logs.
    kind = response.headers.get("Content-Type", "no content type")
    cause = RecruError(f"HTTP {response.status_code}, {len(response.content)} bytes of {kind}: {exc}")
    rate_limited = response.status_code == httpx.codes.TOO_MANY_REQUESTS
    before_processing = rate_limited or response.status_code == httpx.codes.SERVICE_UNAVAILABLE
    return _Transient(
        cause, reached=not before_processing, rate_limited=rate_limited, retry_after=_retry_after(response)
    )


def _retry_after(response: httpx.Response) -> float | None:
    return _seconds(response.headers.get("Retry-After"))


def _seconds(value: object) -> float | None:
    """A non-negative number of seconds from a header or `data.retryAfter`; None if absent or unusable."""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _items(method: str, result: JsonObject) -> list[JsonObject]:
    items = result.get("items")
    if not isinstance(items, list):
        raise RecruError(f"{method} returned no items list")
    return items
