"""A cap on the size of request bodies, before anything parses them: one request must not take the process's memory.

Only the creates (``POST /v1/ats/jobs/{id}/applications``, ``POST /v1/ats/candidates``) and the passthrough carry
files: 25 MiB of attachments in all, base64 in JSON, about 34 MiB, so they take up to ``MAX_FILES_BODY_BYTES``; every
other endpoint takes small JSON or a form, up to ``MAX_BODY_BYTES`` (parsing JSON takes many times its size in
memory). A body declared larger (``Content-Length``) is refused before it is read, one sent in chunks once it has
grown larger; either way with 413 in the error envelope, and nothing done. (FastAPI's own ``max_body_size`` answers
a declared-too-large body in plain text, outside the envelope.)
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atsbridge.api.errors import ApiError, error_response

MiB = 1024 * 1024
MAX_FILES_BODY_BYTES = 40 * MiB
MAX_BODY_BYTES = 1 * MiB


def limit_for(path: str) -> int:
    """The most a request to ``path`` may send."""
    creates = path == "/v1/ats/candidates" or (path.startswith("/v1/ats/jobs/") and path.endswith("/applications"))
    return MAX_FILES_BODY_BYTES if creates or path.startswith("/v1/passthrough/") else MAX_BODY_BYTES


def too_large(limit: int) -> str:
    return f"The request body is larger than {limit // MiB} MiB, the most this endpoint takes."


class BodyTooLarge(HTTPException):
    """Raised while the body is read; FastAPI's body parsing passes an ``HTTPException`` on instead of calling the
    body unreadable."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large(limit))


class BodyLimit:
    """ASGI middleware refusing bodies over their endpoint's limit (``limit_for``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            refusal = ApiError("PLATFORM.INPUT_INVALID", too_large(limit), status=413)
            await error_response(refusal)(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited, send)
