"""Webhook tests: real stores (SQLite and PostgreSQL), real HTTP receivers on 127.0.0.1, real delivery.

``Receiver`` is an ``http.server`` in a thread that records every request and answers with the statuses it is told
(``answers`` first, then ``status``); it can be created without listening ("down") and started later on its port.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from atsbridge.store.integrations import ensure_environment
from atsbridge.webhooks.delivery import deliver_due
from atsbridge.webhooks.endpoint import set_webhook
from support.emulator_process import free_port

KEY = bytes(range(32))
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook receiver on ``127.0.0.1:port``; ``url`` works before it is started (connections are refused)."""

    port: int = field(default_factory=free_port)
    status: int = 200
    answers: list[int] = field(default_factory=list)
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/kombo"

    @property
    def ids(self) -> list[str]:
        return [delivery.json()["id"] for delivery in self.received]

    def _answer(self, headers: dict[str, str], body: bytes) -> int:
        time.sleep(self.delay)
        with self._lock:
            self.received.append(Received(headers, body))
            return self.answers.pop(0) if self.answers else self.status

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver._answer(dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, name=f"receiver-{self.port}", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver that is listening."""
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def down_receiver() -> Iterator[Receiver]:
    """A receiver that is not listening yet (``start()`` brings it up on the same port)."""
    receiver = Receiver()
    yield receiver
    receiver.stop()


@dataclass(frozen=True)
class Environment:
    id: str
    secret: str


def make_environment(engine: Engine, url: str, name: str = "test") -> Environment:
    with engine.begin() as conn:
        environment_id = ensure_environment(conn, name)
        return Environment(environment_id, set_webhook(conn, KEY, environment_id, url))


async def deliver(engine: Engine, now: datetime, *, key: bytes = KEY, **kwargs: Any) -> int:
    """One ``deliver_due`` round with a fresh HTTP client."""
    async with httpx.AsyncClient() as http_client:
        return await deliver_due(engine, http_client, key, now, **kwargs)
