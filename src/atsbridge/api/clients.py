"""RECRU clients of the API process: one per integration, created on first use and kept, so that concurrent
requests share its connection pool and its single login.

They serve requests someone is waiting for (actions, live attachments), so they retry briefly: a few attempts, and
a ``Retry-After`` waited for only up to 2 s (a longer one is answered at once), then the client gets
``REMOTE.RATE_LIMIT_EXCEEDED`` or ``REMOTE.SERVICE_UNAVAILABLE``, with RECRU's ``Retry-After`` where it gave one, and
may retry itself. (A sync's patient policy would hold the request, and one of
the integration's 30 action slots, for up to half an hour while RECRU rate-limits.)"""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine

from atsbridge.api.errors import ApiError
from atsbridge.connectors.recru.client import RecruClient, RetryPolicy
from atsbridge.store.credentials import CredentialsUnreadable
from atsbridge.store.integrations import Integration, load_credentials

INTERACTIVE_RETRIES = RetryPolicy(max_attempts=3, max_rate_limited=2, backoff_cap=1.0, max_retry_after=2.0)


class ClientPool:
    def __init__(self, engine: Engine, key: bytes, retry: RetryPolicy = INTERACTIVE_RETRIES) -> None:
        self.engine = engine
        self.key = key
        self.retry = retry
        self._clients: dict[str, RecruClient] = {}
        self._lock = asyncio.Lock()

    async def client(self, integration: Integration) -> RecruClient:
        async with self._lock:
            found = self._clients.get(integration.id)
            if found is None:
                try:
                    with self.engine.connect() as conn:
                        credentials = load_credentials(conn, self.key, integration.id)
                except CredentialsUnreadable as unreadable:
                    message = str(unreadable)
                    raise ApiError("PLATFORM.UNKNOWN_ERROR", f"{message[0].upper()}{message[1:]}.") from None
                found = RecruClient(integration.tenant_url, credentials.login, credentials.password, retry=self.retry)
                self._clients[integration.id] = found
            return found

    async def forget(self, integration_id: str) -> None:
        """Drop an integration's client (its credentials changed or it was deleted)."""
        async with self._lock:
            client = self._clients.pop(integration_id, None)
        if client is not None:
            await client.aclose()

    async def close(self) -> None:
        async with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
