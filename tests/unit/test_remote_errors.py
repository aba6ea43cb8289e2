"""What an API client is told of a RECRU call given up: code, status and words (unified-api §1)."""

from __future__ import annotations

import httpx
import pytest

from atsbridge.api.remote_errors import remote_error
from atsbridge.connectors.recru.errors import RecruRpcError, RecruUnavailable

REQUEST = httpx.Request("POST", "https://acme.recru.eu/api/json-rpc")


@pytest.mark.parametrize(
    ("cause", "status", "code", "said"),
    [
        (httpx.ReadTimeout("", request=REQUEST), 503, "REMOTE.SERVICE_UNAVAILABLE", "RECRU did not answer in time"),
        (
            httpx.ConnectError("", request=REQUEST),
            503,
            "REMOTE.SERVICE_UNAVAILABLE",
            "RECRU is not reachable right now",
        ),
        (
            httpx.ConnectTimeout("", request=REQUEST),
            503,
            "REMOTE.SERVICE_UNAVAILABLE",
            "RECRU is not reachable right now",
        ),
        (RecruRpcError(-32603, "Internal error"), 502, "REMOTE.UNKNOWN_HTTP_ERROR", "RECRU failed internally"),
    ],
    ids=["slow", "refused", "not connected in time", "internal error"],
)
def test_a_call_given_up_is_told_by_what_failed_last(cause: BaseException, status: int, code: str, said: str) -> None:
    told = remote_error(RecruUnavailable("AttachmentService.list", 1, cause))
    assert (told.status, told.code) == (status, code)
    assert told.message == f"{said}; try again later."
