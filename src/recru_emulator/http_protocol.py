"""The HTTP/1.1 protocol the emulator is served with: uvicorn's h11 one, handing each request the connection's
transport (scope key ``TRANSPORT``), so a ``drop`` fault can close the connection before any byte of an answer, as a
server that went away does (spec §8: `drop` closes the connection; `truncate` is the one that cuts an answer)."""

from __future__ import annotations

from typing import Any

from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

TRANSPORT = "recru_emulator.transport"


class TransportH11Protocol(H11Protocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        app = self.app

        async def with_transport(scope: Scope, receive: Receive, send: Send) -> None:
            await app({**scope, TRANSPORT: self.transport}, receive, send)

        self.app = with_transport
