"""API tests: the real app over real HTTP, on a store filled by real syncs of the emulator, on SQLite and PostgreSQL.

- ``world``: one synced tenant per backend for the whole package, served by one server (FULL sync, then a tenth of
  the jobseekers changed in RECRU and DELTA-synced, so the store holds change marks of two instants). Tests must not
  change it, in the store or in its emulator, so that they can compare the API with RECRU's own answers.
- ``scratch``: a world of its own for one test, whose RECRU tenant the test may change and sync again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from kombo import Kombo
from sqlalchemy import Engine

from atsbridge.store.api_keys import create_api_key
from atsbridge.store.integrations import Integration
from atsbridge.sync.engine import SyncResult
from integration.sync.conftest import KEY, make_integration, reload, run_async
from support.api_server import ApiServer, serve_api
from support.emulator_process import EmulatorProcess
from support.recru import Recru, fresh_tenant, seeded_emulator
from support.store import BACKEND_PARAMS, fresh_store

SEED, SIZE = 5, 200


@dataclass
class World:
    """A synced integration served over HTTP, with an API key of its environment."""

    engine: Engine
    server: ApiServer
    integration: Integration
    api_key: str
    recru: Recru
    _http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self._http = httpx.Client(base_url=self.server.v1, timeout=30)

    @property
    def integration_id(self) -> str:
        return self.integration.id

    def sdk(self, *, api_key: str | None = None, integration_id: str | None = None) -> Kombo:
        return Kombo(
            api_key=api_key or self.api_key,
            integration_id=integration_id or self.integration_id,
            server_url=self.server.v1,
        )

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}", "X-Integration-Id": self.integration_id}

    def get(self, path: str, headers: dict[str, str] | None = None, **params: Any) -> httpx.Response:
        """``GET /v1{path}`` with this world's credentials (``headers`` replaces them)."""
        return self._http.get(path, params=params, headers=self.headers() if headers is None else headers)

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, json: Any = None
    ) -> httpx.Response:
        return self._http.request(method, path, headers=self.headers() if headers is None else headers, json=json)

    def walk(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every result of a list, page by page over plain HTTP."""
        results: list[dict[str, Any]] = []
        cursor = None
        while True:
            response = self.get(path, **params, **({"cursor": cursor} if cursor else {}))
            assert response.status_code == 200, response.text
            data = response.json()["data"]
            results += data["results"]
            cursor = data["next"]
            if cursor is None:
                return results

    def sync(self, kind: str = "FULL") -> SyncResult:
        result = run_sync(self.engine, self.integration.id, kind)
        self.integration = reload(self.engine, self.integration.id)
        return result

    def close(self) -> None:
        self._http.close()
        self.recru.close()


def run_sync(engine: Engine, integration_id: str, kind: str = "FULL") -> SyncResult:
    """One sync of the integration against its emulator, to its successful end."""
    result = asyncio.run(run_async(engine, reload(engine, integration_id), kind))
    assert result.state == "SUCCEEDED", result.errors
    return result


def walk(call: Callable[..., Any], **params: Any) -> tuple[list[Any], int]:
    """(every result, number of pages) of a list call of the SDK, following ``next()`` to the end."""
    results: list[Any] = []
    pages = 0
    page = call(**params)
    while page is not None:
        pages += 1
        results += page.result.data.results
        page = page.next()
    return results, pages


def value(enum_or_str: Any) -> Any:
    """The plain value of an SDK enum member (the SDK's closed enums are ``str`` enums)."""
    return getattr(enum_or_str, "value", enum_or_str)


@contextmanager
def open_world(
    engine: Engine, process: EmulatorProcess, data_dir: Path, *, sync_all: bool = True, synced: bool = True
) -> Iterator[World]:
    """A new integration of ``process``'s tenant (FULL-synced unless ``synced=False``), an API key, a server."""
    integration = make_integration(engine, process, sync_all=sync_all)
    with engine.begin() as conn:
        api_key = create_api_key(conn, integration.environment_id)
    with serve_api(engine, KEY, data_dir) as server:
        world = World(engine, server, integration, api_key, Recru(process))
        try:
            if synced:
                world.sync("FULL")
            yield world
        finally:
            world.close()


@pytest.fixture(scope="package")
def tenant_process() -> Iterator[EmulatorProcess]:
    """The tenant of ``world``: reset and changed only while a ``world`` is made."""
    with seeded_emulator(SEED, SIZE) as process:
        yield process


TOUCHED_EVERY = 10
"""``world`` changes every 10th jobseeker in RECRU after its FULL sync and DELTA-syncs them."""


@pytest.fixture(scope="package", params=BACKEND_PARAMS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tenant_process: EmulatorProcess
) -> Iterator[World]:
    """The tenant FULL-synced, then every ``TOUCHED_EVERY``-th jobseeker changed in RECRU and DELTA-synced (so the
    store holds change marks of two instants). Tests must not change it."""
    directory = tmp_path_factory.mktemp(f"world-{request.param}")
    recru = Recru(tenant_process)
    recru.reset(SEED, SIZE)
    recru.close()
    with fresh_store(request.param, directory) as engine, open_world(engine, tenant_process, directory) as world:
        for jobseeker in world.recru.all("jobseekers")[::TOUCHED_EVERY]:
            world.recru.patch("jobseekers", jobseeker["id"], currentPosition=f"Changed {jobseeker['id']}")
        world.sync("DELTA")
        yield world


@pytest.fixture
def sdk(world: World) -> Iterator[Kombo]:
    """The official SDK, authenticated for ``world``."""
    with world.sdk() as client:
        yield client


@pytest.fixture(scope="package")
def scratch_process() -> Iterator[EmulatorProcess]:
    """The tenant of ``scratch`` worlds: reset before each test."""
    with seeded_emulator(SEED, SIZE) as process:
        yield process


@pytest.fixture
def scratch_recru(scratch_process: EmulatorProcess) -> Iterator[Recru]:
    with fresh_tenant(scratch_process, SEED, SIZE) as client:
        yield client


@pytest.fixture
def scratch(engine: Engine, scratch_recru: Recru, tmp_path: Path) -> Iterator[World]:
    """A FULL-synced world whose RECRU tenant (``scratch.recru``) the test may change."""
    with open_world(engine, scratch_recru.process, tmp_path) as world:
        yield world
