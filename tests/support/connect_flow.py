"""The connection flow in tests: the real app served over HTTP with a tenant setting that lets the emulator's plain
``http://127.0.0.1:PORT`` be typed in as the RECRU tenant, an API key, and what the store says about the flow."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kombo import Kombo
from sqlalchemy import Engine, select, update

from atsbridge.store import tables
from atsbridge.store.api_keys import create_api_key
from atsbridge.store.connect_links import ConnectLink, find_link
from atsbridge.store.integrations import ensure_environment
from support.api_server import ApiServer, serve_api

KEY = bytes(range(32))


@dataclass(frozen=True)
class ConnectSite:
    engine: Engine
    server: ApiServer
    api_key: str
    environment_id: str

    def sdk(self, api_key: str | None = None, integration_id: str | None = None) -> Kombo:
        return Kombo(api_key=api_key or self.api_key, integration_id=integration_id, server_url=self.server.v1)

    def create_link(self, **options: Any) -> str:
        """A link made by the official SDK, as a customer's backend makes it."""
        with self.sdk() as sdk:
            response = sdk.connect.create_connection_link(
                end_user_email=options.pop("end_user_email", "hr@acme.example"),
                end_user_organization_name=options.pop("end_user_organization_name", "Acme s.r.o."),
                **options,
            )
        return response.data.link

    def other_api_key(self) -> str:
        with self.engine.begin() as conn:
            return create_api_key(conn, ensure_environment(conn, "someone-else"))

    def integrations(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(select(tables.integrations))]

    def syncs(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(select(tables.syncs))]

    def events(self) -> list[dict[str, Any]]:
        """The webhook outbox (events recorded for delivery)."""
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(select(tables.webhook_outbox))]

    def link(self, link: str) -> ConnectLink:
        with self.engine.connect() as conn:
            found = find_link(conn, token_of(link))
        assert found is not None
        return found

    def expire_in(self, link: str, seconds: float) -> None:
        """Make ``link`` expire ``seconds`` from now (negative: expired already)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(tables.connect_links)
                .where(tables.connect_links.c.token_hash == self.link(link).token_hash)
                .values(expires_at=datetime.now(UTC) + timedelta(seconds=seconds))
            )


def token_of(link: str) -> str:
    """The link's token: its last path segment (also the exchange token once the link has been used)."""
    return link.rsplit("/", 1)[1]


@contextmanager
def connect_site(
    engine: Engine, data_dir: Path, *, run_syncs: bool = False, **more_settings: Any
) -> Iterator[ConnectSite]:
    """The app on ``engine`` (running syncs itself with ``run_syncs``; ``more_settings``: further ``Settings``
    fields) and an API key of a fresh environment."""
    with engine.begin() as conn:
        environment_id = ensure_environment(conn, "connect")
        api_key = create_api_key(conn, environment_id)
    with serve_api(
        engine, KEY, data_dir, run_syncs=run_syncs, allow_custom_tenant_urls=True, **more_settings
    ) as server:
        yield ConnectSite(engine, server, api_key, environment_id)
