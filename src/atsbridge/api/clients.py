"""RECRU clients of the API process: one per integration, created on first use and kept, so that concurrent
requests share its connection pool and its single login.

They serve requests someone is waiting for (actions, live attachments), so they retry briefly: a few attempts, none
after a call timed out (a RECRU that took the whole read timeout once most likely takes it again), and
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
from atsbridge.store.integrations import Integration, load_credentials_and_digest

INTERACTIVE_RETRIES = RetryPolicy(
    max_attempts=3, max_rate_limited=2, backoff_cap=1.0, max_retry_after=2.0, retry_timeouts=False
)
STALE_CLIENT_GRACE = 300.0
"""How long a client whose credentials were replaced stays open for the requests using it: longer than an action
may take (its 4-minute deadline)."""


class ClientPool:
    def __init__(self, engine: Engine, key: bytes, retry: RetryPolicy = INTERACTIVE_RETRIES) -> None:
        self.engine = engine
        self.key = key
        self.retry = retry
        self._clients: dict[str, tuple[str, RecruClient]] = {}
        self._lock = asyncio.Lock()
        self._retiring: set[asyncio.Task[None]] = set()

    async def client(self, integration: Integration) -> RecruClient:
        """The integration's client, made anew once its credentials were replaced (a reconnection, through any
        process: ``credentials_digest`` changes with them)."""
        async with self._lock:
            digest, found = self._clients.get(integration.id, ("", None))
            if found is not None and digest == integration.credentials_digest:
                return found
            try:  # the credentials stored now (a request's view of the integration may be older than the client)
                with self.engine.connect() as conn:
                    credentials, stored = load_credentials_and_digest(conn, self.key, integration.id)
            except CredentialsUnreadable as unreadable:
                message = str(unreadable)
                raise ApiError("PLATFORM.UNKNOWN_ERROR", f"{message[0].upper()}{message[1:]}.") from None
            if found is not None and digest == stored:
                return found
            fresh = RecruClient(integration.tenant_url, credentials.login, credentials.password, retry=self.retry)
            self._clients[integration.id] = (stored, fresh)
        if found is not None:  # requests still using it finish with it, then it is closed
            retiring = asyncio.create_task(_close_after(found, STALE_CLIENT_GRACE))
            self._retiring.add(retiring)
            retiring.add_done_callback(self._retiring.discard)
        return fresh

    async def forget(self, integration_id: str) -> None:
        """Drop an integration's client (it was deleted)."""
        async with self._lock:
            _digest, client = self._clients.pop(integration_id, ("", None))
        if client is not None:
            await client.aclose()

    async def close(self) -> None:
        async with self._lock:
            clients, self._clients = [client for _digest, client in self._clients.values()], {}
        for client in clients:
            await client.aclose()
        for retiring in list(self._retiring):  # closes its client at once
            retiring.cancel()
        await asyncio.gather(*self._retiring, return_exceptions=True)


async def _close_after(client: RecruClient, seconds: float) -> None:
    try:
        await asyncio.sleep(seconds)
    finally:
        await client.aclose()
