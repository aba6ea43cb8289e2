"""Integration endpoints and syncs on schedule: a live API over HTTP on a synced store (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kombo import Kombo
from sqlalchemy import Engine

from atsbridge.store.api_keys import create_api_key
from atsbridge.store.integrations import Integration
from integration.sync.conftest import KEY, Sync, integration, make_integration, recru, recru_process, sync
from support.api_server import ApiServer, serve_api

__all__ = ["integration", "make_integration", "recru", "recru_process", "sync"]


@dataclass(frozen=True)
class Live:
    server: ApiServer
    key: str
    integration: Integration

    def sdk(self, integration_id: str | None = None) -> Kombo:
        return Kombo(api_key=self.key, integration_id=integration_id or self.integration.id, server_url=self.server.v1)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", "X-Integration-Id": self.integration.id}


@pytest.fixture
def live(engine: Engine, integration: Integration, sync: Sync, tmp_path: Path) -> Iterator[Live]:
    """The API (with the embedded scheduler) over a store with one FULL-synced integration."""
    sync("FULL")
    with engine.begin() as conn:
        key = create_api_key(conn, integration.environment_id)
    with serve_api(engine, KEY, tmp_path, run_syncs=True) as server:
        yield Live(server, key, integration)
