"""The errors the RECRU transport raises: every one is a `RecruError`.

Two families. `RecruRpcError` and its subclasses are RECRU's own answers (a JSON-RPC error object):
retrying the same call cannot help. `RecruUnavailable` and its subclasses mean RECRU could not be reached or
kept failing transiently until the client gave up; `cause` holds the last failure seen (an httpx error, a
`RecruError` describing a garbage body, or the transient `RecruRpcError`).
"""

from __future__ import annotations

from typing import Any, TypeVar

import httpx

_T = TypeVar("_T")


INTERNAL_ERROR = -32603  # RECRU's own failure (HTTP 500): a write may or may not have been stored


class RecruError(Exception):
    """Anything that went wrong while talking to RECRU."""


class RecruRpcError(RecruError):
    """A JSON-RPC error object returned by RECRU; `data` is `{}` when RECRU sent `null`."""

    def __init__(self, code: int, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(f"RECRU error {code}: {message}")
        self.code = code
        self.message = message
        self.data: dict[str, Any] = data or {}

    def _data(self, key: str, kind: type[_T]) -> _T | None:
        value = self.data.get(key)
        return value if isinstance(value, kind) else None


class RecruInvalidParams(RecruRpcError):
    """-32602: the params were rejected; `fields` maps a path like `jobseeker.emails[0].value` to a reason."""

    @property
    def fields(self) -> dict[str, str]:
        return self._data("fields", dict) or {}


class RecruNotFound(RecruRpcError):
    """-32004: the record does not exist or was deleted."""

    @property
    def entity(self) -> str | None:
        return self._data("entity", str)

    @property
    def id(self) -> Any:
        return self.data.get("id")


class RecruConflict(RecruRpcError):
    """-32009: a jobseeker with that e-mail, or an application for that pair, already exists."""

    @property
    def existing_id(self) -> int | None:
        return self._data("existingId", int)


class RecruProjectNotOpen(RecruRpcError):
    """-32010: applications can only be created for an open project."""

    @property
    def project_id(self) -> int | None:
        return self._data("projectId", int)

    @property
    def status(self) -> str | None:
        return self._data("status", str)


class RecruAuthError(RecruRpcError):
    """The credentials or the token are not good enough: re-entering credentials is the only fix."""


class RecruLoginFailed(RecruAuthError):
    """-32001: wrong login or password, or a deactivated user."""


class RecruTokenRejected(RecruAuthError):
    """-32002 even with a token fresh from a login; `reason` is missing, invalid or expired."""

    @property
    def reason(self) -> str | None:
        return self._data("reason", str)


class RecruAccessDenied(RecruAuthError):
    """-32003: the API user lacks the API-access right."""


class RecruUnavailable(RecruError):
    """RECRU failed transiently (5xx, transport error, garbage body) on every attempt the client allowed."""

    def __init__(
        self,
        method: str,
        attempts: int,
        cause: BaseException,
        retry_after: float | None = None,
        *,
        reached: bool = True,
    ) -> None:
        super().__init__(f"{method} failed after {attempts} attempt(s): {_what_failed(cause)}")
        self.method = method
        self.attempts = attempts
        self.cause = cause
        self.retry_after = retry_after  # seconds RECRU last asked to wait (Retry-After), if it said
        self.reached = reached  # whether any attempt may have been processed (not refused before processing)


def _what_failed(cause: BaseException) -> str:
    """The last failure in words, its kind in brackets: httpx's own messages say little ("All connection attempts
    failed") and some none at all (a timeout)."""
    kind = type(cause).__name__
    detail = str(cause).strip()
    if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout):
        said = "RECRU could not be reached"
    elif isinstance(cause, httpx.TimeoutException):
        said = "RECRU did not answer in time"
    elif isinstance(cause, httpx.TransportError):
        said = "the connection to RECRU was lost"
    elif isinstance(cause, RecruError):  # RECRU's own answer says it all; its class name is ours, not the user's
        return detail or kind
    else:
        return f"{detail} ({kind})" if detail else kind
    return f"{said} ({kind}: {detail})" if detail else f"{said} ({kind})"


class RecruRateLimited(RecruUnavailable):
    """RECRU kept answering 429 (-32029) until the client gave up."""


class RecruOutcomeUnknown(RecruUnavailable):
    """A non-idempotent call failed after it may have reached RECRU, so it was not re-sent.

    RECRU may or may not have stored the write: look it up (e.g. the jobseeker by e-mail) before trying again.
    """
