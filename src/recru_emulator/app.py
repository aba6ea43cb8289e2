"""The emulator as an ASGI app: the JSON-RPC endpoint plus the test controls."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route

from recru_emulator.controls import Controls
from recru_emulator.emulator import Emulator
from recru_emulator.jsonrpc import ConnectionDropped, RpcEndpoint


class _HideDroppedConnections(logging.Filter):
    """A ``drop`` fault ends its answer with an exception on purpose; it is not worth a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


def create_app(emulator: Emulator) -> Starlette:
    logging.getLogger("uvicorn.error").addFilter(_HideDroppedConnections())
    endpoint = RpcEndpoint(emulator)
    routes = [
        Route("/api/json-rpc", endpoint.handle, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]),
        *Controls(emulator).routes(),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        emulator.save()

    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: _http_error})
    app.router.redirect_slashes = False  # `/api/json-rpc/` is no endpoint of RECRU's: 404, not a redirect to one
    return app


async def _http_error(request: Request, error: Exception) -> Response:
    """An unknown path or a method a control does not take: JSON like every control answer (spec §8)."""
    assert isinstance(error, HTTPException)
    headers = dict(error.headers or {})
    if error.status_code == 405:  # Starlette's names the first route's methods only, of several on one path
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return JSONResponse({"error": error.detail, "fields": {}}, error.status_code, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes on the request's path."""
    routes = request.app.router.routes
    return [
        method
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)
    ]
