"""Passthrough (unified-api §1, §7): a caller's own RECRU JSON-RPC call, sent with the integration's login.

``POST /v1/passthrough/recruhr/json-rpc`` takes Kombo's body: ``method`` ``POST`` and ``path`` ``/`` (RECRU has one
endpoint), ``data`` the JSON-RPC request object (``{"jsonrpc": "2.0", "id": 1, "method": ..., "params": {...}}``).
RECRU's answer comes back as it is (its JSON byte for byte), as ``data: {url, status, headers, data}`` — its
JSON-RPC errors too: they are RECRU's answer, not a failure of ours. The token is ours to manage: a rejected one is
renewed and the call repeated once; nothing else is repeated, as the call may be a write. What passes through is not
written to the store (a record created this way appears after the next sync).

Our own failures carry no code beyond ``PLATFORM.*`` (a general endpoint, unified-api §7): a body that cannot be
forwarded (not RECRU's request shape, or text that is not Unicode) is ``PLATFORM.INPUT_INVALID`` 400; a disabled
integration 403, credentials RECRU refuses 424 and a RECRU that cannot be reached 502, each with code ``null``.
``data`` is otherwise RECRU's to judge: it goes as it is, NUL characters included.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Annotated, Any, Literal

import httpx
import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from atsbridge.api.auth import integration, store
from atsbridge.api.errors import ApiError
from atsbridge.api.remote_errors import remote_error
from atsbridge.api.responses import action_success
from atsbridge.api.strict_json import StrictJsonRoute, strict_loads
from atsbridge.connectors.recru.client import RecruClient
from atsbridge.connectors.recru.errors import RecruAuthError, RecruError, RecruUnavailable
from atsbridge.store.integrations import Integration
from atsbridge.sync.runner import record_login_verdict

router = APIRouter(route_class=StrictJsonRoute, tags=["General"])

TOOL = "recruhr"
API = "json-rpc"


class PassthroughBody(BaseModel):
    """Kombo's passthrough request body (the SDK's ``PostPassthroughToolAPIRequestBody``)."""

    model_config = ConfigDict(extra="ignore")
    method: Literal["GET", "POST", "DELETE", "PUT", "PATCH"]
    path: str
    headers: dict[str, str] | None = None
    params: dict[str, str] | None = None
    data: Any = None
    response_as_base64: bool | None = None
    multipart_form_data: list[Any] | None = None
    api_options: dict[str, str] | None = None


def _refuse(message: str) -> ApiError:
    return ApiError("PLATFORM.INPUT_INVALID", message)


def _json_rpc_request(tool: str, api: str, body: PassthroughBody) -> dict[str, Any]:
    """The JSON-RPC request to forward, or the reason it cannot be."""
    if tool != TOOL:
        raise _refuse(f"This integration's tool is `{TOOL}`, not `{tool}`.")
    if api != API:
        raise _refuse(f"RECRU's passthrough API is `{TOOL}/{API}`; there is no `{tool}/{api}`.")
    if body.method != "POST":
        raise _refuse("RECRU's JSON-RPC endpoint takes POST only: set `method` to POST.")
    if body.path.strip() not in ("", "/"):
        raise _refuse("RECRU has one JSON-RPC endpoint: set `path` to `/`.")
    if body.params:
        raise _refuse("RECRU's JSON-RPC endpoint takes no query parameters: put them in `data.params`.")
    if body.headers:
        raise _refuse("Headers are not forwarded: the integration's login authenticates the call.")
    if body.multipart_form_data:
        raise _refuse("RECRU's JSON-RPC endpoint takes no multipart form data.")
    if not isinstance(body.data, dict):
        raise _refuse('`data` must be the JSON-RPC request object, e.g. {"jsonrpc": "2.0", "id": 1, "method": ...}.')
    return body.data


def _answer(client: RecruClient, response: httpx.Response, as_base64: bool) -> dict[str, Any]:
    headers: dict[str, str | list[str]] = {}
    for name, value in response.headers.multi_items():
        previous = headers.get(name)
        headers[name] = value if previous is None else [*([previous] if isinstance(previous, str) else previous), value]
    data = base64.b64encode(response.content).decode() if as_base64 else _as_sent(response)
    return {"url": client.endpoint, "status": response.status_code, "headers": headers, "data": data}


def _as_sent(response: httpx.Response) -> Any:
    """RECRU's answer as JSON, byte for byte (numbers beyond 64 bits or a double's range included, which no parse
    and serialise could keep), if it is UTF-8 JSON; its text otherwise."""
    try:
        strict_loads(response.content.decode())
    except (ValueError, RecursionError):
        return response.text
    return orjson.Fragment(response.content)


def _described(failure: Exception) -> str:
    """What went wrong, in a few words: httpx's own messages name its internals (bytes received and expected)."""
    if isinstance(failure, httpx.TimeoutException):
        return "it timed out"
    if isinstance(failure, httpx.ConnectError):
        return "the connection was refused or the host is unknown"
    if isinstance(failure, httpx.TransportError):
        return "the connection closed before the answer was complete"
    return str(failure) or type(failure).__name__


@router.post("/passthrough/{tool}/{api}", summary="Send a JSON-RPC call to RECRU with the integration's login.")
async def passthrough(
    request: Request,
    tool: str,
    api: str,
    body: PassthroughBody,
    integration_: Annotated[Integration, Depends(integration)],
) -> Response:
    forwarded = _json_rpc_request(tool, api, body)
    if not integration_.enabled:
        raise ApiError(None, "The integration is disabled; enable it to call RECRU through it.", status=403)
    client: RecruClient = await request.app.state.clients.client(integration_)
    try:
        response = await client.forward(forwarded)
    except UnicodeEncodeError as unencodable:  # JSON's "\ud800" parses to a string no UTF-8 can hold
        raise _refuse(f"`data` holds text that is not Unicode ({unencodable.reason}): it cannot be sent.") from None
    except RecruAuthError as refused:
        await asyncio.to_thread(record_login_verdict, store(request), integration_, False)
        raise ApiError(None, f"RECRU refused the integration's credentials: {refused}", status=424) from refused
    except RecruUnavailable as failure:  # logging in first failed: RECRU's limit or outage, or it was not reached
        if isinstance(failure.cause, httpx.TransportError):  # not reached (or no answer): as a call not sent
            raise ApiError(None, f"RECRU could not be reached: {_described(failure.cause)}", status=502) from failure
        told = remote_error(failure)
        message = f"Logging in to RECRU failed, so the call was not sent: {told.message}"
        raise ApiError(None, message, status=told.status, headers=told.headers) from failure
    except (RecruError, httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as failure:  # nothing sent
        raise ApiError(None, f"RECRU could not be reached: {_described(failure)}", status=502) from failure
    except httpx.TransportError as failure:  # the call went out: RECRU may have carried it out
        message = (
            f"RECRU did not answer the call ({_described(failure)}); whether it took effect is unknown, so look "
            "before sending a call that changes data again."
        )
        raise ApiError(None, message, status=502) from failure
    await asyncio.to_thread(record_login_verdict, store(request), integration_, _login_verdict(response))
    return action_success(_answer(client, response, bool(body.response_as_base64)), [])


def _login_verdict(response: httpx.Response) -> bool | None:
    """What RECRU's answer to a call sent with the integration's login says of that login (``record_login_verdict``):
    refused for want of API access (403, -32003) makes the integration INVALID, as an action does; a token refused
    even after a fresh login (401) tells nothing certain; any other answer means it works (as after a sync)."""
    if response.status_code == 403:
        return False
    if response.status_code == 401:
        return None
    return True
