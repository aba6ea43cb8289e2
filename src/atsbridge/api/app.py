"""The FastAPI application: routers under ``/v1`` and error handlers that always answer with the envelope."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy import Engine
from starlette.exceptions import HTTPException
from starlette.routing import Match

from atsbridge import __version__
from atsbridge.api.action_guard import ActionSlots, Idempotency
from atsbridge.api.auth import refusal_before_the_body
from atsbridge.api.body_limit import BodyLimit, BodyTooLarge
from atsbridge.api.clients import ClientPool
from atsbridge.api.errors import ApiError, error_body, error_response
from atsbridge.api.responses import json_response
from atsbridge.api.routes import (
    ats_actions,
    ats_read,
    ats_tags,
    attachments,
    connect,
    connect_pages,
    general,
    integrations,
    passthrough,
    unsupported,
    webhooks,
)
from atsbridge.api.strict_json import not_json_message
from atsbridge.api.unexpected_errors import ContainUnexpectedErrors
from atsbridge.config import Settings
from atsbridge.store.reader import BadQuery
from atsbridge.sync.service import SyncService
from atsbridge.unified import models
from atsbridge.unified.models import ErrorCode

# Every error status the API answers, listed on every operation (so that no answer is undocumented), each said
# where it comes from: on the /ats endpoints (``ATS_ERRORS``) and on the general ones (``GENERAL_ERRORS``), whose
# errors carry PLATFORM.* codes only, or none (unified-api §7). The code in the envelope is what clients branch on.
_ERRORS: tuple[tuple[int, str, str], ...] = (
    (400, "Invalid input (PLATFORM.INPUT_INVALID)", "Invalid input (PLATFORM.INPUT_INVALID)"),
    (
        401,
        "Missing or invalid API key, or an attachment's download link invalid or expired "
        "(PLATFORM.AUTHENTICATION_INVALID)",
        "Missing or invalid API key (PLATFORM.AUTHENTICATION_INVALID)",
    ),
    (
        403,
        "Integration disabled (INTEGRATION.INACTIVE), a model or action RECRU does not offer "
        "(INTEGRATION.MODEL_NOT_AVAILABLE, ACTION_NOT_AVAILABLE), the RECRU user lacks API access "
        "(INTEGRATION.PERMISSION_MISSING)",
        "Passthrough: the integration is disabled (no code); connect page: a link locked after refused logins",
    ),
    (
        404,
        "Unknown integration (PLATFORM.INTEGRATION_NOT_FOUND); an unknown record, job or stage named in the path "
        "or body, or an attachment's file gone from RECRU (PLATFORM.INPUT_INVALID)",
        "Unknown integration (PLATFORM.INTEGRATION_NOT_FOUND), connection link or page (no code)",
    ),
    (
        409,
        "The integration's first sync has not finished (INTEGRATION.SETUP_SYNC_PENDING); creates: the job is "
        "not open (ATS.JOB_CLOSED), the candidate applied already (ATS.APPLICATION_ALREADY_EXISTS)",
        "Not answered by the general endpoints (listed, as every status, on every operation)",
    ),
    (
        413,
        "The request body is larger than the endpoint takes (PLATFORM.INPUT_INVALID)",
        "The request body is larger than the endpoint takes (PLATFORM.INPUT_INVALID)",
    ),
    # listed so that FastAPI's request-validation 422 is not: invalid input is answered 400 above
    (
        422,
        "RECRU refused the input (REMOTE.INPUT_INVALID)",
        "Connect page: RECRU refused the login, or the tenant address is not RECRU's (the page, telling why)",
    ),
    (
        424,
        "RECRU refuses the integration's credentials (INTEGRATION.AUTHENTICATION_INVALID)",
        "Passthrough: RECRU refuses the integration's credentials (no code)",
    ),
    (
        429,
        "30 actions of the integration in flight, or the first request of an Idempotency-Key still running "
        "(PLATFORM.CONCURRENCY_LIMIT_EXCEEDED; Retry-After)",
        "Connect page: the link's check of a login still running (the page, which reloads)",
    ),
    (500, "Unexpected error (PLATFORM.UNKNOWN_ERROR)", "Unexpected error (PLATFORM.UNKNOWN_ERROR)"),
    (502, "RECRU failed (REMOTE.UNKNOWN_HTTP_ERROR)", "Passthrough: RECRU failed or was not reached (no code)"),
    (
        503,
        "RECRU unavailable or rate-limited (REMOTE.SERVICE_UNAVAILABLE, REMOTE.RATE_LIMIT_EXCEEDED)",
        "Passthrough: RECRU unavailable or rate-limited while logging in (no code; Retry-After)",
    ),
    (
        504,
        "The action ran past its 4-minute deadline (PLATFORM.TASK_TIMED_OUT)",
        "Not answered by the general endpoints (listed, as every status, on every operation)",
    ),
)
ATS_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": models.ErrorResponse, "description": ats} for status, ats, _ in _ERRORS
}
GENERAL_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": models.ErrorResponse, "description": general} for status, _, general in _ERRORS
}


def _validation_message(error: RequestValidationError) -> str:
    parts = []
    for problem in error.errors():
        if problem.get("type") == "json_invalid":
            return not_json_message(problem, error.body)
        location = ".".join(str(part) for part in problem.get("loc", ()) if part not in ("query", "body", "header"))
        parts.append(f"{location or 'request'}: {problem.get('msg', 'invalid')}")
    return "Invalid request: " + "; ".join(parts)


def _not_json_body(request: Request, error: RequestValidationError) -> str | None:
    """What to tell of a body FastAPI did not read as JSON for its ``Content-Type`` (a form, say), where an object
    was expected: the type, rather than pydantic's "a valid dictionary"."""
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return None
    if not any(p.get("loc") == ("body",) and p.get("type") in _NOT_AN_OBJECT for p in error.errors()):
        return None
    sent = f"it came as {media}" if media else "it came without a Content-Type"
    return f"The request body must be JSON, sent with Content-Type: application/json ({sent})."


_NOT_AN_OBJECT = ("model_attributes_type", "dict_type")


def _error(code: ErrorCode | None, message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    return json_response(error_body(code, message, status), status, headers)


def install_error_handlers(app: FastAPI, stopping: Callable[[], bool]) -> None:
    """Every error answered in the envelope; ``stopping()`` tells whether the server is stopping (a request it
    cancels then is answered 504). Middleware added before is inside ``ContainUnexpectedErrors``."""
    app.add_middleware(ContainUnexpectedErrors, stopping=stopping)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> Response:
        return error_response(error)

    @app.exception_handler(BadQuery)
    async def bad_query(request: Request, error: BadQuery) -> Response:
        return _error("PLATFORM.INPUT_INVALID", str(error), 400)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        unread = any(problem.get("type") == "json_invalid" for problem in error.errors())  # before dependencies
        if unread and (refusal := await refusal_before_the_body(request)) is not None:
            return error_response(refusal)
        return _error("PLATFORM.INPUT_INVALID", _not_json_body(request, error) or _validation_message(error), 400)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        if error.status_code == 400:  # FastAPI's own: a body its JSON parser gave up on (nested too deeply, say)
            if (refusal := await refusal_before_the_body(request)) is not None:
                return error_response(refusal)
            return _error("PLATFORM.INPUT_INVALID", "The request body could not be read as JSON.", 400)
        if isinstance(error, BodyTooLarge):
            return _error("PLATFORM.INPUT_INVALID", str(error.detail), error.status_code)
        path = request.url.path if len(request.url.path) <= 200 else f"{request.url.path[:200]}…"  # never kilobytes
        if error.status_code == 404:
            message = f"No endpoint {request.method} {path}."
        elif error.status_code == 405:
            message = f"{request.method} is not allowed on {path}."
        else:
            message = str(error.detail)
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return _error(None, message, error.status_code, headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes on the request's path (Starlette's 405 names only the first route's)."""
    routes = request.app.router.routes
    return [
        method
        for method in ("DELETE", "GET", "PATCH", "POST", "PUT")
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)
    ]


def create_app(engine: Engine, settings: Settings, *, run_syncs: bool = False) -> FastAPI:
    """The API; with ``run_syncs`` this process also schedules and runs syncs (see ``sync.service``)."""
    clients = ClientPool(engine, settings.encryption_key)
    syncs = SyncService(engine, settings, run_syncs=run_syncs)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await syncs.start()
        yield
        await syncs.stop()
        await clients.close()

    app = FastAPI(
        lifespan=lifespan,
        title="atsbridge unified ATS API",
        version=__version__,
        description="A Kombo-compatible unified ATS API serving RECRU data.",
        openapi_url="/v1/openapi.json",
        redirect_slashes=False,  # a trailing slash is an unknown path (the envelope's 404), not a bodiless 307
        docs_url="/v1/docs",
        swagger_ui_oauth2_redirect_url=None,  # bearer keys only: no OAuth2 flow to come back from
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.clients = clients
    app.state.syncs = syncs
    app.state.action_slots = ActionSlots(engine)
    app.state.idempotency = Idempotency(engine)
    app.add_middleware(BodyLimit)
    install_error_handlers(app, stopping=lambda: syncs.stopping)
    # an attachment's signed download link reads /ats data: its errors are those of the /ats reads
    ats = (
        ats_read.router,
        ats_actions.router,
        ats_tags.router,
        attachments.router,
        unsupported.router,
        attachments.downloads,
    )
    routers = (general.router, integrations.router, passthrough.router, *ats, connect.router)
    for router in (*routers, webhooks.router):
        app.include_router(router, prefix="/v1", responses=ATS_ERRORS if router in ats else GENERAL_ERRORS)
    app.include_router(connect_pages.router, responses=GENERAL_ERRORS)
    return app
