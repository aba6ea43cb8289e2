"""Sync tests: a real emulator over HTTP, a real store (SQLite and PostgreSQL), the real connector client."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from atsbridge.connectors.recru.client import RecruClient, RetryPolicy
from atsbridge.store.credentials import RecruCredentials
from atsbridge.store.integrations import (
    Integration,
    create_integration,
    ensure_environment,
    load_credentials,
    load_integration,
)
from atsbridge.sync.engine import ProgressCallback, SyncResult, SyncRun
from atsbridge.unified.ids import ModelName
from support.emulator_process import EmulatorProcess
from support.recru import Recru, fresh_tenant, seeded_emulator

SEED, SIZE = 11, 300
KEY = bytes(range(32))
FAST_RETRIES = RetryPolicy(max_attempts=12, backoff_base=0.01, backoff_cap=0.2, max_retry_after=2)

Sync = Callable[..., SyncResult]


@pytest.fixture(scope="session")
def recru_process() -> Iterator[EmulatorProcess]:
    with seeded_emulator(SEED, SIZE) as process:
        yield process


@pytest.fixture
def recru(recru_process: EmulatorProcess) -> Iterator[Recru]:
    with fresh_tenant(recru_process, SEED, SIZE) as client:
        yield client


def make_integration(engine: Engine, process: EmulatorProcess, *, sync_all: bool = True) -> Integration:
    with engine.begin() as conn:
        integration_id = create_integration(
            conn,
            KEY,
            environment_id=ensure_environment(conn, "test"),
            tenant_url=process.url,
            credentials=RecruCredentials(process.login, process.password),
            sync_only_created_applications=not sync_all,
        )
    return reload(engine, integration_id)


def reload(engine: Engine, integration_id: str) -> Integration:
    with engine.connect() as conn:
        integration = load_integration(conn, integration_id)
    assert integration is not None
    return integration


@pytest.fixture
def integration(engine: Engine, recru: Recru, recru_process: EmulatorProcess) -> Integration:
    return make_integration(engine, recru_process)


async def run_async(
    engine: Engine, integration: Integration, kind: str, progress: ProgressCallback | None = None
) -> SyncResult:
    with engine.connect() as conn:
        credentials = load_credentials(conn, KEY, integration.id)
    async with RecruClient(integration.tenant_url, credentials.login, credentials.password, retry=FAST_RETRIES) as c:
        run = SyncRun(engine, c, reload(engine, integration.id), overlap=timedelta(seconds=60), progress=progress)
        return await run.run(kind)


def kill_full_run_once_listing(engine: Engine, integration: Integration, model: ModelName) -> None:
    """Start a FULL run and cancel it as soon as it reports progress on ``model``; the run ends cancelled."""

    async def killed() -> None:
        started = asyncio.Event()

        def on_progress(listed: ModelName, done: int, total: int | None) -> None:
            if listed is model:
                started.set()

        task = asyncio.create_task(run_async(engine, integration, "FULL", on_progress))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(killed())


@pytest.fixture
def sync(engine: Engine, integration: Integration) -> Sync:
    """``sync("FULL" | "DELTA", progress=None, integration=...)`` runs one sync to its end."""

    def run(kind: str = "FULL", progress: ProgressCallback | None = None, **kwargs: Any) -> SyncResult:
        target = kwargs.get("integration", integration)
        return asyncio.run(run_async(engine, target, kind, progress))

    return run
