"""The last line of the API's error handling, as plain ASGI middleware: an unexpected error becomes the 500 envelope,
and a request the server cuts off as it stops (its grace for requests ended) is answered 504 in the envelope.

Plain ASGI, not Starlette's ``BaseHTTPMiddleware``: that one runs the route in a task of its own, which the server's
cancel never reached (a cut-off action ran on after its answer, against clients the stop had closed); here the route
runs in the request's task, so the cancel stops it and its cleanup (a create's outcome remembered as unknown, its
``Idempotency-Key`` released) runs before the answer. An exception handler for ``Exception`` would answer too, but
Starlette then raises the error on to the server, which closes the client's keep-alive connection."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atsbridge.api.errors import ApiError, error_response

log = logging.getLogger("atsbridge.api")
CUT_OFF_BY_STOP = (
    "The server stopped before this request ended (requests in flight get up to 5 s). What it did may be partly "
    "done: send it again "
    "(a create is looked for first, never made twice)."
)
UNEXPECTED = "An unexpected error occurred; it has been logged."


class ContainUnexpectedErrors:
    """ASGI middleware: 500 ``PLATFORM.UNKNOWN_ERROR`` for an unexpected error, 504 ``PLATFORM.TASK_TIMED_OUT`` for
    a request cancelled while ``stopping()`` is true; either only if the answer has not begun."""

    def __init__(self, app: ASGIApp, stopping: Callable[[], bool]) -> None:
        self.app = app
        self.stopping = stopping

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answering = False

        async def noting_the_answer(message: Message) -> None:
            nonlocal answering
            answering = answering or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, noting_the_answer)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if answering or task is None or not self.stopping():
                raise
            task.uncancel()  # cut off as the server stops: answered, not dropped
            refusal = ApiError("PLATFORM.TASK_TIMED_OUT", CUT_OFF_BY_STOP)
            await error_response(refusal)(scope, receive, send)
        except Exception:
            log.exception("unexpected error on %s %s", scope["method"], scope["path"])
            if answering:
                raise
            await error_response(ApiError("PLATFORM.UNKNOWN_ERROR", UNEXPECTED))(scope, receive, send)
