"""At the start of every sync, the applications whose create ended with its outcome unknown
(``store.pending_applications``) are looked for in RECRU: one found joins the tracked set (the run then reads it, as
any tracked application); one not found after ``PENDING_FOR`` is forgotten (RECRU never stored it)."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from sqlalchemy import Connection

from atsbridge.connectors.recru import actions as recru
from atsbridge.connectors.recru.client import RecruClient
from atsbridge.store import pending_applications
from atsbridge.store.integrations import track_application
from atsbridge.store.pending_applications import PENDING_FOR, PendingApplication
from atsbridge.sync.store_worker import StoreWorker


async def adopt_pending(client: RecruClient, store: StoreWorker, integration_id: str, now: datetime) -> None:
    for waiting in await store.call(lambda conn: pending_applications.pending(conn, integration_id)):
        found = await recru.application_of(client, waiting.email, int(waiting.project_remote_id))
        if found is not None or now - waiting.created_at > PENDING_FOR:
            application_id = None if found is None else found[0]
            await store.call(
                partial(_settle, integration_id=integration_id, waiting=waiting, application_id=application_id)
            )


def _settle(conn: Connection, *, integration_id: str, waiting: PendingApplication, application_id: int | None) -> None:
    if application_id is not None:
        track_application(conn, integration_id, str(application_id))
    pending_applications.forget(conn, integration_id, waiting.project_remote_id, waiting.email)
