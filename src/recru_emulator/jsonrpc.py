"""The JSON-RPC endpoint (spec §1, §7, §9): request checks in order, faults, rate limit, dispatch, answers."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from recru_emulator import auth, json_text, reads, writes
from recru_emulator.emulator import Emulator
from recru_emulator.errors import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RATE_LIMITED,
    UNAVAILABLE,
    RpcError,
    retry_later,
)
from recru_emulator.faults import Fault
from recru_emulator.http_protocol import TRANSPORT
from recru_emulator.state import Tenant

log = logging.getLogger("recru_emulator")

Handler = Callable[[Tenant, dict[str, Any]], Any]

METHODS: dict[str, Handler] = {
    "SystemService.ping": reads.ping,
    "UserService.list": reads.list_users,
    "UserService.get": reads.get_user,
    "ProjectService.list": reads.list_projects,
    "ProjectService.get": reads.get_project,
    "StageService.list": reads.list_stages,
    "TagService.list": reads.list_tags,
    "CodebookService.get": reads.get_codebook,
    "JobseekerService.list": reads.list_jobseekers,
    "JobseekerService.get": reads.get_jobseeker,
    "JobseekerService.create": writes.create_jobseeker,
    "JobseekerService.addTag": writes.add_tag,
    "JobseekerService.removeTag": writes.remove_tag,
    "ApplicationService.list": reads.list_applications,
    "ApplicationService.get": reads.get_application,
    "ApplicationService.create": writes.create_application,
    "AttachmentService.list": reads.list_attachments,
    "AttachmentService.download": reads.download_attachment,
}
LOGIN = "AuthService.login"
LOGOUT = "AuthService.logout"
KNOWN_METHODS = {*METHODS, LOGIN, LOGOUT}


class ConnectionDropped(Exception):
    """Raised to end a ``drop`` fault's answer: the server then gives up the connection."""


class DroppedResponse(Response):
    """No answer: the connection is closed before any byte of one is sent. Served other than by the emulator's
    command (no transport in the scope, e.g. in-process), the closest an app can do: an answer cut off early."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = scope.get(TRANSPORT)
        if transport is not None:
            transport.abort()
            raise ConnectionDropped
        headers = [(b"content-type", b"application/json"), (b"content-length", b"4096")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"jsonrpc": "2.0", "id', "more_body": True})
        raise ConnectionDropped


class Answer:
    """One JSON-RPC answer: the HTTP status, the body and extra headers."""

    def __init__(self, request_id: Any, result: Any = None, error: RpcError | None = None) -> None:
        self.request_id = request_id
        self.result = result
        self.error = error
        self.headers: dict[str, str] = {}

    def body(self) -> dict[str, Any]:
        if self.error is None:
            return {"jsonrpc": "2.0", "id": self.request_id, "result": self.result}
        error = {"code": self.error.code, "message": self.error.message, "data": self.error.data}
        return {"jsonrpc": "2.0", "id": self.request_id, "error": error}

    def response(self) -> Response:
        status = 200 if self.error is None else self.error.http_status
        if self.error is not None and self.error.retry_after is not None:
            self.headers["Retry-After"] = str(self.error.retry_after)
        content = json.dumps(self.body(), ensure_ascii=False, separators=(",", ":")).encode()
        return Response(content, status, self.headers, media_type="application/json")


def _valid_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _check_shape(payload: Any) -> tuple[Any, str, dict[str, Any]]:
    """(id, method, params) of a single well-formed request, or -32600/-32601."""
    if isinstance(payload, list):
        raise RpcError(INVALID_REQUEST, message="Batches are not supported; send one request object")
    if not isinstance(payload, dict):
        raise RpcError(INVALID_REQUEST, message="The request must be a JSON object")
    request_id = payload.get("id")
    params = payload.get("params", {})
    if (
        payload.get("jsonrpc") != "2.0"
        or not _valid_id(request_id)
        or not isinstance(payload.get("method"), str)
        or not isinstance(params, dict)
    ):
        raise RpcError(INVALID_REQUEST)
    method = payload["method"]
    if method not in KNOWN_METHODS:
        raise RpcError(METHOD_NOT_FOUND, {"method": method}, f"Method not found: {method}")
    return request_id, method, params


def _called_method(payload: Any) -> str | None:
    """The method a well-formed request calls (``counters.calls`` counts those only: a request refused as malformed,
    -32600, never reached the method it names; nor does an unknown one count, or counters would grow unbounded)."""
    try:
        return _check_shape(payload)[1]
    except RpcError:
        return None


class RpcEndpoint:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    async def handle(self, request: Request) -> Response:
        if request.method != "POST":
            return Response(status_code=405, headers={"Allow": "POST"})
        emulator = self.emulator
        raw = await request.body()
        try:
            payload: Any = json_text.loads(raw)
        except (ValueError, UnicodeDecodeError):
            payload = None
            parsed = False
        else:
            parsed = True
        called = _called_method(payload)
        if called is not None:
            emulator.counters.calls[called] += 1
        fault = emulator.faults.take(called)  # a fault limited to a method strikes only the calls of it
        if fault is not None:
            emulator.counters.faults[fault.kind] += 1
            faulted = await self._fault(fault, payload, request.headers.get("authorization"))
            if faulted is not None:
                return faulted
        answer = self._answer(payload, parsed, request.headers.get("authorization"))
        if answer.error is not None:
            emulator.counters.errors[str(answer.error.code)] += 1
        return answer.response()

    async def _fault(self, fault: Fault, payload: Any, authorization: str | None) -> Response | None:
        request_id = payload.get("id") if isinstance(payload, dict) and _valid_id(payload.get("id")) else None
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay_seconds)
            return None
        if fault.kind == "drop":
            return DroppedResponse()
        if fault.kind == "garbage":
            return Response(b"<html><body>502 Bad Gateway</body></html>", 200, media_type="text/html")
        if fault.kind == "truncate":  # the real answer (status, headers), its body cut in half
            whole = self._answer(payload, True, authorization).response()
            cut = bytes(whole.body[: max(1, len(whole.body) // 2)])
            headers = {k: v for k, v in whole.headers.items() if k.lower() != "content-length"}
            return Response(cut, whole.status_code, headers, media_type="application/json")
        code = {"rate_limit": RATE_LIMITED, "unavailable_503": UNAVAILABLE}.get(fault.kind)
        error = retry_later(code, fault.retry_after) if code else RpcError(INTERNAL_ERROR)
        self.emulator.counters.errors[str(error.code)] += 1
        return Answer(request_id, error=error).response()

    def _answer(self, payload: Any, parsed: bool, authorization: str | None) -> Answer:
        request_id = payload.get("id") if isinstance(payload, dict) and _valid_id(payload.get("id")) else None
        answer = Answer(request_id)
        try:
            if not parsed:
                raise RpcError(PARSE_ERROR)
            request_id, method, params = _check_shape(payload)
            answer.result = self._call(method, params, authorization, answer)
        except RpcError as error:
            answer.error = error
        except Exception:
            log.exception("internal error")
            answer.error = RpcError(INTERNAL_ERROR)
        return answer

    def _call(self, method: str, params: dict[str, Any], authorization: str | None, answer: Answer) -> Any:
        tenant = self.emulator.tenant
        if method == LOGIN:
            self._limit(self._login_key(tenant, params), answer)
            return auth.login(tenant, params)
        token, user = auth.authenticate(tenant, authorization)
        self._limit(f"user:{user['id']}", answer)
        if method == LOGOUT:
            return auth.logout(tenant, token)
        return METHODS[method](tenant, params)

    @staticmethod
    def _login_key(tenant: Tenant, params: dict[str, Any]) -> str:
        """A login that will succeed counts for its API user; a failed one for the login name it tried (spec §9),
        so wrong passwords cannot use up a user's calls."""
        login = params.get("login")
        user = auth.user_with_credentials(tenant, login, params.get("password"))
        return f"user:{user['id']}" if user else f"login:{str(login).strip().lower()}"

    def _limit(self, key: str, answer: Answer) -> None:
        limiter = self.emulator.limiter
        admitted, remaining, retry_after = limiter.admit(key)
        if limiter.per_minute is None:
            return
        answer.headers["X-RateLimit-Limit"] = str(limiter.per_minute)
        answer.headers["X-RateLimit-Remaining"] = str(remaining)
        if not admitted:
            raise retry_later(RATE_LIMITED, retry_after)
