"""The real API app served over real HTTP for tests: uvicorn in a background thread on a free port."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import Engine

from atsbridge.api.app import create_app
from atsbridge.api.http_protocol import EnvelopedH11Protocol
from atsbridge.config import Settings
from support.emulator_process import free_port


@dataclass(frozen=True)
class ApiServer:
    url: str  # e.g. http://127.0.0.1:PORT (no /v1)

    @property
    def v1(self) -> str:
        return f"{self.url}/v1"


@contextmanager
def serve_api(
    engine: Engine,
    key: bytes,
    data_dir: Path,
    *,
    data_url_allowlist: str = "",
    run_syncs: bool = False,
    **more_settings: Any,
) -> Iterator[ApiServer]:
    """``create_app(engine, settings, run_syncs=...)`` served by uvicorn until the block ends; ``key`` is the
    encryption key, ``data_url_allowlist`` the hosts / networks attachments' ``data_url`` may name though private or
    loopback; ``more_settings`` are further ``Settings`` fields."""
    settings = Settings(
        data_dir=data_dir,
        secret_key=key.hex(),
        database_url=engine.url.render_as_string(False),
        data_url_allowlist=data_url_allowlist,
        **more_settings,
    )
    with serve(create_app(engine, settings, run_syncs=run_syncs)) as server:
        yield server


@contextmanager
def serve(app: Any) -> Iterator[ApiServer]:
    """The ASGI ``app`` served by uvicorn on a free port until the block ends."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", http=EnvelopedH11Protocol)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"api-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API server did not start")
        time.sleep(0.02)
    try:
        yield ApiServer(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(10)
