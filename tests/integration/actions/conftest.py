"""Write-action tests: Kombo's SDK (and raw HTTP where the SDK cannot go) against the real app over HTTP, a real
RECRU emulator and a real store, on SQLite and PostgreSQL.

- ``world`` (package scope, one per backend): a FULL-synced integration of one emulator tenant served by one API
  server (``127.0.0.1`` allow-listed for attachments' ``data_url``), plus ``world.tracked``, a second integration
  of the same tenant in "sync only created applications" mode. The API key sees both.
- Tests write into the tenant (the store follows by write-through), each with e-mail addresses of its own, so they
  do not depend on one another; totals and counters are compared before and after. The tenant is never reset
  (ids are never reused, so the store and RECRU stay consistent); the emulator's faults are cleared after each test.
- ``files``: a plain HTTP server on 127.0.0.1 serving the files a test puts into it, for ``data_url``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from kombo import Kombo
from kombo.errors import KomboAtsError
from sqlalchemy import func, select

from atsbridge.store import tables
from atsbridge.store.api_keys import create_api_key
from atsbridge.store.integrations import Integration
from atsbridge.sync.engine import SyncResult
from atsbridge.unified.ids import ModelName, model_id
from integration.api.conftest import World
from integration.sync.conftest import KEY, make_integration, reload, run_async
from support.api_server import serve_api
from support.emulator_process import EmulatorProcess, start_emulator
from support.recru import Recru
from support.store import BACKEND_PARAMS, fresh_store

SEED, SIZE = 17, 120
ALLOWLIST = "127.0.0.1"
CREATE = "ApplicationService.create"
STORE_TABLES = {
    "candidates": tables.candidates,
    "applications": tables.applications,
    "tags": tables.tags,
    "candidate_tags": tables.candidates_tags,
}
_serial = itertools.count(1)
# Kombo's SDK marks the ``source`` of a create deprecated and warns when it is given; RECRU still takes it.
SOURCE_IS_DEPRECATED = pytest.mark.filterwarnings("ignore:.*DEPRECATED:DeprecationWarning")


def unique_email(prefix: str = "cand") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:12]}@example.com"


def candidate(**fields: Any) -> dict[str, Any]:
    """A minimal valid candidate with an e-mail address of its own; ``fields`` add or replace keys."""
    n = next(_serial)
    return {"first_name": f"Testa{n}", "last_name": "Zkušební", "email_address": unique_email(), **fields}


def refusal(call: Callable[[], Any]) -> tuple[int, str | None, str]:
    """(HTTP status, error code, message) of an SDK call that must fail with the ATS error envelope."""
    with pytest.raises(KomboAtsError) as caught:
        call()
    code = caught.value.data.error.code
    return caught.value.raw_response.status_code, getattr(code, "value", code), caught.value.data.error.message


@dataclass
class ActionWorld(World):
    """``World`` with a second, tracked-mode integration and what action tests look at: raw requests, store rows,
    RECRU totals and the emulator's counters."""

    tracked: Integration
    _kombo: dict[str, Kombo] = field(default_factory=dict)

    def kombo(self, integration: Integration | None = None) -> Kombo:
        """The SDK for ``integration`` (default: the everything-served one), kept for the whole package."""
        integration_id = (integration or self.integration).id
        if integration_id not in self._kombo:
            self._kombo[integration_id] = self.sdk(integration_id=integration_id)
        return self._kombo[integration_id]

    def auth(self, integration: Integration | None = None, **extra: str) -> dict[str, str]:
        integration_id = (integration or self.integration).id
        return {"Authorization": f"Bearer {self.api_key}", "X-Integration-Id": integration_id, **extra}

    def send(
        self, method: str, path: str, body: Any = None, *, integration: Integration | None = None, **headers: str
    ) -> httpx.Response:
        """A raw ``method /v1{path}`` with ``body`` as JSON (ASCII-escaped, so lone surrogates go through too)."""
        content = json.dumps(body).encode()
        headers = self.auth(integration, **{"Content-Type": "application/json", **headers})
        return self._http.request(method, path, content=content, headers=headers)

    def read(self, model: str, record_id: str, integration: Integration | None = None) -> dict[str, Any] | None:
        """The record as ``GET /v1/ats/{model}?ids=`` serves it now (``None``: not served)."""
        response = self._http.get(f"/ats/{model}", params={"ids": record_id}, headers=self.auth(integration))
        assert response.status_code == 200, response.text
        results: list[dict[str, Any]] = response.json()["data"]["results"]
        return results[0] if results else None

    def served(self, model: str, integration: Integration | None = None) -> list[Any]:
        """Every ``model`` record the SDK lists for ``integration``, page by page."""
        page = getattr(self.kombo(integration).ats, f"get_{model}")(page_size=250)
        results: list[Any] = []
        while page is not None:
            results += page.result.data.results
            page = page.next()
        return results

    def store_counts(self) -> dict[str, int]:
        """Rows per store table (candidates, applications, tags, candidate tags), every integration together."""
        with self.engine.connect() as conn:
            return {
                name: conn.execute(select(func.count()).select_from(t)).scalar_one() for name, t in STORE_TABLES.items()
            }

    def recru_totals(self) -> tuple[int, int]:
        """(jobseekers, applications) RECRU holds."""
        jobseekers = self.recru.call("JobseekerService.list", {"perPage": 1})["total"]
        applications = self.recru.call("ApplicationService.list", {"perPage": 1})["total"]
        return jobseekers, applications

    def counters(self) -> dict[str, Any]:
        counters: dict[str, Any] = self.recru.control("GET", "/counters")
        return counters

    def calls(self, method: str) -> int:
        return int(self.counters()["calls"].get(method, 0))

    def fault(self, kind: str, method: str | None = None, count: int = 1, **options: Any) -> None:
        self.recru.control(
            "POST", "/faults", {"kind": kind, "count": count, **options, **({"method": method} if method else {})}
        )

    def jobseekers_with(self, email: str) -> list[dict[str, Any]]:
        return list(self.recru.call("JobseekerService.list", {"email": email, "perPage": 200})["items"])

    def applications_of(self, jobseeker_id: int) -> list[dict[str, Any]]:
        return list(self.recru.call("ApplicationService.list", {"jobseekerId": jobseeker_id, "perPage": 200})["items"])

    def id_of(self, model: ModelName, remote_id: int | str, integration: Integration | None = None) -> str:
        return model_id((integration or self.integration).id, model, remote_id)

    def stored_remote_ids(self, model: ModelName) -> set[str]:
        table = tables.MODEL_TABLES[model]
        with self.engine.connect() as conn:
            query = select(table.c.remote_id).where(table.c.integration_id == self.integration.id)
            return set(conn.execute(query).scalars())

    def open_job(self, *, min_stages: int = 2) -> dict[str, Any]:
        """A RECRU project that is open, synced into the store, with at least ``min_stages`` pipeline stages."""
        stored = self.stored_remote_ids(ModelName.JOBS)
        for project in self.recru.all("projects"):
            if project["status"] == "open" and len(project["stageIds"]) >= min_stages and str(project["id"]) in stored:
                return project
        raise AssertionError("the tenant has no open project")

    def existing_jobseeker(self, **fields: Any) -> dict[str, Any]:
        """A jobseeker created in RECRU (as in its UI), with an e-mail address of its own; unknown to the store."""
        email = {"value": unique_email("existing"), "type": "private", "primary": True}
        return self.recru.create(
            "jobseekers", **{"firstName": "Jana", "lastName": "Stará", "emails": [email], **fields}
        )

    def new_project(self, **fields: Any) -> dict[str, Any]:
        """A project created in RECRU (as in its UI) after the sync: the store does not know it."""
        stage_ids = self.open_job()["stageIds"]
        return self.recru.create("projects", **{"status": "open", "stageIds": stage_ids, **fields})

    def sync_tracked(self, kind: str = "FULL") -> SyncResult:
        result = asyncio.run(run_async(self.engine, self.tracked, kind))
        assert result.state == "SUCCEEDED", result.errors
        self.tracked = reload(self.engine, self.tracked.id)
        return result

    def close(self) -> None:
        for client in self._kombo.values():
            client.__exit__(None, None, None)
        super().close()


@pytest.fixture(scope="package")
def tenant() -> Iterator[EmulatorProcess]:
    process = start_emulator("--seed", str(SEED), "--size", str(SIZE), "--rate-limit", "off", "--json")
    yield process
    process.stop()


@pytest.fixture(scope="package", params=BACKEND_PARAMS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tenant: EmulatorProcess
) -> Iterator[ActionWorld]:
    directory = tmp_path_factory.mktemp(f"actions-{request.param}")
    with fresh_store(request.param, directory) as engine:
        integration = make_integration(engine, tenant)
        tracked = make_integration(engine, tenant, sync_all=False)
        with engine.begin() as conn:
            api_key = create_api_key(conn, integration.environment_id)
        with serve_api(engine, KEY, directory, data_url_allowlist=ALLOWLIST) as server:
            world = ActionWorld(engine, server, integration, api_key, Recru(tenant), tracked=tracked)
            try:
                world.sync("FULL")
                world.sync_tracked("FULL")
                yield world
            finally:
                world.close()


@pytest.fixture(autouse=True)
def _clear_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "world" in request.fixturenames:
        request.getfixturevalue("world").recru.control("DELETE", "/faults")


@dataclass(frozen=True)
class Served:
    """What ``Files`` answers on one path: a file (its bytes ``drip``-ped one by one if set), or a redirect."""

    body: bytes = b""
    content_type: str = "application/pdf"
    redirect: str | None = None
    drip: float = 0.0


class Files:
    """A plain HTTP server on 127.0.0.1 for ``data_url``: ``url`` publishes a file, ``redirect`` a redirect,
    ``dripping`` a file sent a byte at a time; ``hits`` counts the requests it got."""

    def __init__(self) -> None:
        self.served: dict[str, Served] = {}
        self.hits = 0
        files = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                files.hits += 1
                found = files.served.get(self.path)
                if found is None:
                    self.send_error(404)
                elif found.redirect is not None:
                    self.send_response(302)
                    self.send_header("Location", found.redirect)
                    self.end_headers()
                else:
                    self.send_response(200)
                    self.send_header("Content-Type", found.content_type)
                    self.send_header("Content-Length", str(len(found.body)))
                    self.end_headers()
                    self._write(found)

            def _write(self, found: Served) -> None:
                if not found.drip:
                    self.wfile.write(found.body)
                    return
                with contextlib.suppress(OSError):  # the client gave up
                    for byte in found.body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(found.drip)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, name: str, served: Served) -> str:
        path = f"/{uuid.uuid4().hex}/{name}"
        self.served[path] = served
        return f"http://127.0.0.1:{self.port}{path}"

    def url(self, name: str, content: bytes, content_type: str = "application/pdf") -> str:
        return self.publish(name, Served(content, content_type))

    def redirect(self, location: str) -> str:
        return self.publish("moved", Served(redirect=location))

    def dripping(self, name: str, content: bytes, seconds_per_byte: float) -> str:
        return self.publish(name, Served(content, drip=seconds_per_byte))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="package")
def files() -> Iterator[Files]:
    server = Files()
    yield server
    server.close()
