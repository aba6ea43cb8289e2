"""JSON-RPC errors of the RECRU API (spec §7) and the HTTP status each one is answered with."""

from __future__ import annotations

from typing import Any

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
LOGIN_FAILED = -32001
TOKEN_INVALID = -32002
NO_API_ACCESS = -32003
NOT_FOUND = -32004
CONFLICT = -32009
PROJECT_NOT_OPEN = -32010
RATE_LIMITED = -32029
UNAVAILABLE = -32050

HTTP_STATUS = {
    LOGIN_FAILED: 401,
    TOKEN_INVALID: 401,
    NO_API_ACCESS: 403,
    RATE_LIMITED: 429,
    INTERNAL_ERROR: 500,
    UNAVAILABLE: 503,
}

MESSAGES = {
    PARSE_ERROR: "Parse error: the body is not JSON",
    INVALID_REQUEST: "Invalid request: not a single valid JSON-RPC 2.0 request",
    METHOD_NOT_FOUND: "Method not found",
    INVALID_PARAMS: "Invalid params",
    INTERNAL_ERROR: "Internal error",
    LOGIN_FAILED: "Login failed",
    TOKEN_INVALID: "Token missing, invalid or expired",
    NO_API_ACCESS: "The user has no API access",
    NOT_FOUND: "Record not found",
    CONFLICT: "Conflict",
    PROJECT_NOT_OPEN: "Project is not open",
    RATE_LIMITED: "Rate limit exceeded",
    UNAVAILABLE: "Temporarily unavailable",
}


class RpcError(Exception):
    """An error answered as a JSON-RPC error object; ``retry_after`` adds the ``Retry-After`` header."""

    def __init__(
        self,
        code: int,
        data: dict[str, Any] | None = None,
        message: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message or MESSAGES.get(code, "Error"))
        self.code = code
        self.data = data
        self.message = message or MESSAGES.get(code, "Error")
        self.retry_after = retry_after

    @property
    def http_status(self) -> int:
        return HTTP_STATUS.get(self.code, 200)


def invalid_params(fields: dict[str, str]) -> RpcError:
    return RpcError(INVALID_PARAMS, {"fields": fields})


def not_found(entity: str, record_id: object) -> RpcError:
    return RpcError(NOT_FOUND, {"entity": entity, "id": record_id}, f"{entity} {record_id} not found")


def conflict(existing_id: int, message: str) -> RpcError:
    return RpcError(CONFLICT, {"existingId": existing_id}, message)


def token_invalid(reason: str) -> RpcError:
    return RpcError(TOKEN_INVALID, {"reason": reason})


def retry_later(code: int, retry_after: int) -> RpcError:
    return RpcError(code, {"retryAfter": retry_after}, retry_after=retry_after)
