"""Who is calling: the API key in ``Authorization: Bearer`` names an environment; ``X-Integration-Id`` names one
of that environment's integrations. An integration of another environment is answered exactly like one that does
not exist."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from atsbridge.api.errors import ApiError, integration_not_found
from atsbridge.store.api_keys import environment_of_key
from atsbridge.store.integrations import Integration, load_integration


@dataclass(frozen=True)
class Caller:
    environment_id: str


def store(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


# Declared as a security scheme (the OpenAPI document's `securitySchemes`, Swagger UI's Authorize button); a missing
# or malformed header is refused below in our envelope, not by FastAPI's own 403.
_BEARER = HTTPBearer(auto_error=False, scheme_name="ApiKey", description="Your API key: `Authorization: Bearer <key>`")


ONCE_ONLY_HEADERS = ("Authorization", "X-Integration-Id", "Idempotency-Key")


def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
) -> Caller:
    for name in ONCE_ONLY_HEADERS:  # which one counts would be a guess: the integration acted on, say
        if len(request.headers.getlist(name)) > 1:
            raise ApiError("PLATFORM.INPUT_INVALID", f"The {name} header is given more than once; send it once.")
    key = credentials.credentials if credentials else ""
    if not key.strip():
        raise refused("Send your API key as `Authorization: Bearer <key>`.")
    with store(request).connect() as conn:
        environment_id = environment_of_key(conn, key.strip())
    if environment_id is None:
        raise refused("The API key is not valid.")
    return Caller(environment_id)


async def refusal_before_the_body(request: Request) -> ApiError | None:
    """The refusal of an API key the request's route takes (``caller``), if it has no valid one. FastAPI reads a
    JSON body before it runs the route's dependencies, so a body it cannot read would otherwise be answered first:
    a caller without a valid key is told that, never what is wrong with its body."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not _takes_a_key(route.dependant):
        return None
    try:
        await run_in_threadpool(caller, request, await _BEARER(request))
    except ApiError as refusal:
        return refusal
    return None


def _takes_a_key(dependant: Dependant) -> bool:
    return dependant.call is caller or any(_takes_a_key(sub) for sub in dependant.dependencies)


def refused(message: str) -> ApiError:
    """401 naming the scheme the API takes (RFC 9110: a 401 carries its challenge)."""
    challenge = {"WWW-Authenticate": 'Bearer realm="atsbridge"'}
    return ApiError("PLATFORM.AUTHENTICATION_INVALID", message, headers=challenge)


def integration(
    request: Request,
    who: Annotated[Caller, Depends(caller)],
    x_integration_id: Annotated[str | None, Header(description="The integration to act on")] = None,
) -> Integration:
    """The integration of ``X-Integration-Id`` in the caller's environment."""
    if not x_integration_id:
        raise ApiError("PLATFORM.INPUT_INVALID", "The X-Integration-Id header is required on this endpoint.")
    with store(request).connect() as conn:
        found = load_integration(conn, x_integration_id, who.environment_id)
    if found is None:
        raise integration_not_found(x_integration_id)
    return found


def readable_integration(found: Annotated[Integration, Depends(integration)]) -> Integration:
    """An integration whose data can be read: enabled, and past its first sync."""
    if not found.enabled:
        raise ApiError("INTEGRATION.INACTIVE", "The integration is disabled; enable it to read its data.")
    if found.setup_status != "COMPLETED":
        raise ApiError(
            "INTEGRATION.SETUP_SYNC_PENDING",
            "The integration's first sync has not finished yet; its data is not available until then.",
        )
    return found
