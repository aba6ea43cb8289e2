"""The HTTP/1.1 protocol the API is served with: uvicorn's h11 one, except for its answer to a request it cannot
parse at all (a request line or header too long or malformed, bytes HTTP does not allow): uvicorn writes a plain
text 400 there, before any route or error handler of ours sees the request; this writes the API's error envelope
(unified-api §1: every error uses it)."""

from __future__ import annotations

import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from atsbridge.api.errors import error_body


class EnvelopedH11Protocol(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        body = json.dumps(error_body("PLATFORM.INPUT_INVALID", f"The request is not valid HTTP: {msg}", 400)).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode("ascii")),
            (b"connection", b"close"),
        ]
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body)):
            self.transport.write(self.conn.send(event))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        self.transport.close()
