"""What a RECRU failure means to an API client: connector errors → unified error codes (unified-api §1, §5)."""

from __future__ import annotations

import math
from collections.abc import Callable

import httpx

from atsbridge.api.errors import ApiError
from atsbridge.connectors.recru.errors import (
    INTERNAL_ERROR,
    RecruAccessDenied,
    RecruAuthError,
    RecruError,
    RecruInvalidParams,
    RecruRateLimited,
    RecruRpcError,
    RecruUnavailable,
)

_NOT_CONNECTED = (httpx.ConnectTimeout, httpx.PoolTimeout)  # timeouts before RECRU was reached


def remote_error(error: RecruError) -> ApiError:
    """The unified error for a RECRU failure no endpoint handled more specifically."""
    if isinstance(error, RecruAccessDenied):
        return ApiError(
            "INTEGRATION.PERMISSION_MISSING",
            "RECRU's API user of the integration has no API access; give it the API access right in RECRU.",
        )
    if isinstance(error, RecruAuthError):
        return ApiError(
            "INTEGRATION.AUTHENTICATION_INVALID",
            "RECRU refused the integration's credentials; reconnect the integration with a working API user "
            "(a link from POST /v1/integrations/{id}/relink, or atsbridge integration relink).",
        )
    if isinstance(error, RecruUnavailable):
        wait = None if error.retry_after is None else math.ceil(error.retry_after)
        headers = {} if wait is None else {"Retry-After": str(wait)}
        later = "try again later" if wait is None else f"try again in {wait} s"
        if isinstance(error, RecruRateLimited):
            return ApiError("REMOTE.RATE_LIMIT_EXCEEDED", f"RECRU's rate limit is exceeded; {later}.", headers=headers)
        if _answered_in_error(error):
            return ApiError("REMOTE.UNKNOWN_HTTP_ERROR", f"RECRU failed internally; {later}.", headers=headers)
        if isinstance(error.cause, httpx.TimeoutException) and not isinstance(error.cause, _NOT_CONNECTED):
            return ApiError("REMOTE.SERVICE_UNAVAILABLE", f"RECRU did not answer in time; {later}.", headers=headers)
        return ApiError("REMOTE.SERVICE_UNAVAILABLE", f"RECRU is not reachable right now; {later}.", headers=headers)
    if isinstance(error, RecruInvalidParams):
        fields = ", ".join(f"{path}: {reason}" for path, reason in sorted(error.fields.items()))
        return ApiError("REMOTE.INPUT_INVALID", f"RECRU rejected the input ({fields}).")
    return ApiError("REMOTE.UNKNOWN_HTTP_ERROR", f"RECRU answered with an error: {error}")


def remote_error_telling(error: RecruError, tell: Callable[[str], str]) -> ApiError:
    """``remote_error``'s code, status and headers, with the message ``tell(why)``: ``why`` is the failure in a few
    words, without its "try again" (what to do next is for ``tell`` to say)."""
    failure = remote_error(error)
    why = failure.message.partition(";")[0].rstrip(".")
    return ApiError(failure.code, tell(why), status=failure.status, headers=failure.headers)


def _answered_in_error(error: RecruUnavailable) -> bool:
    """Whether RECRU answered, but with its internal error (-32603, HTTP 500) or a body that is no JSON-RPC answer,
    rather than being unreachable (connection refused or dropped, timeout) or in maintenance (503)."""
    if isinstance(error.cause, RecruRpcError):
        return error.cause.code == INTERNAL_ERROR
    return isinstance(error.cause, RecruError)  # transport failures are httpx's errors
