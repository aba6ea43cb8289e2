"""Errors in the documented envelope (unified-api §1): ``ApiError`` and the body every failure is answered with."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from atsbridge.api.responses import json_response
from atsbridge.unified.models import ErrorCode, error_payload

CODE_STATUS = {
    "PLATFORM.INPUT_INVALID": 400,
    "PLATFORM.AUTHENTICATION_INVALID": 401,
    "PLATFORM.INTEGRATION_NOT_FOUND": 404,
    "PLATFORM.RATE_LIMIT_EXCEEDED": 429,
    "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED": 429,
    "PLATFORM.UNKNOWN_ERROR": 500,
    "PLATFORM.TASK_TIMED_OUT": 504,
    "INTEGRATION.ACTION_DISABLED": 403,
    "INTEGRATION.MODEL_DISABLED": 403,
    "INTEGRATION.ACTION_NOT_AVAILABLE": 403,
    "INTEGRATION.MODEL_NOT_AVAILABLE": 403,
    "INTEGRATION.INACTIVE": 403,
    "INTEGRATION.AUTHENTICATION_INVALID": 424,
    "INTEGRATION.PERMISSION_MISSING": 403,
    "INTEGRATION.SETUP_SYNC_PENDING": 409,
    "ATS.APPLICATION_ALREADY_EXISTS": 409,
    "ATS.JOB_CLOSED": 409,
    "REMOTE.INPUT_INVALID": 422,
    "REMOTE.SERVICE_UNAVAILABLE": 503,
    "REMOTE.RATE_LIMIT_EXCEEDED": 503,
    "REMOTE.UNKNOWN_HTTP_ERROR": 502,
}

TITLES = {
    400: "Invalid input",
    401: "Authentication failed",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    422: "Rejected by the ATS",
    424: "Integration credentials invalid",
    429: "Too many requests",
    500: "Unknown error",
    502: "ATS error",
    503: "ATS unavailable",
    504: "Timed out",
}


class ApiError(Exception):
    """A failure answered as ``{"status": "error", "error": {...}}`` with the code's HTTP status."""

    def __init__(
        self,
        code: ErrorCode | None,
        message: str,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or CODE_STATUS.get(code or "", 500)
        self.headers = headers or {}


def error_body(code: ErrorCode | None, message: str, status: int) -> dict[str, Any]:
    return error_payload(code, message, title=TITLES.get(status, "Error"))


def invalid_input(message: str) -> ApiError:
    return ApiError("PLATFORM.INPUT_INVALID", message)


def echoed(value: str) -> str:
    """``value`` quoted for a message, cut to 100 characters: an error never echoes kilobytes of a request."""
    return repr(value if len(value) <= 100 else f"{value[:100]}…")


def integration_not_found(integration_id: str) -> ApiError:
    return ApiError(
        "PLATFORM.INTEGRATION_NOT_FOUND",
        f"No integration {echoed(integration_id)} exists in the environment of this API key.",
    )


def error_response(error: ApiError) -> Response:
    return json_response(error_body(error.code, error.message, error.status), error.status, error.headers)
