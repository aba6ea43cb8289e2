"""A cap on the size of request bodies, before anything parses them: one request must not take the process's memory.

The largest body an endpoint takes is an action with attachments (25 MiB of files in all, base64 in JSON: about
34 MiB). A body declared larger (``Content-Length``) is refused before it is read, one sent in chunks once it has
grown larger; either way with 413 in the error envelope, and nothing done. (FastAPI's own ``max_body_size`` answers
a declared-too-large body in plain text, outside the envelope.)
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atsbridge.api.errors import ApiError, error_response

MAX_BODY_BYTES = 40 * 1024 * 1024
TOO_LARGE = f"The request body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB, the most any endpoint takes."


class BodyTooLarge(HTTPException):
    """Raised while the body is read; FastAPI's body parsing passes an ``HTTPException`` on instead of calling the
    body unreadable."""

    def __init__(self) -> None:
        super().__init__(413, TOO_LARGE)


class BodyLimit:
    """ASGI middleware refusing bodies over ``MAX_BODY_BYTES``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            await error_response(ApiError("PLATFORM.INPUT_INVALID", TOO_LARGE, status=413))(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:
                    raise BodyTooLarge
            return message

        await self.app(scope, limited, send)
