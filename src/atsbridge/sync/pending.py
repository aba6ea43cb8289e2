"""At the start of every sync, the applications whose create ended with its outcome unknown
(``store.pending_applications``) are looked for in RECRU: one found joins the tracked set (the run then reads it, as
any tracked application) and stays pending for a retry of the create to adopt, unless another integration on the
tenant tracks it (it made it: the create is settled); one pending for longer than ``PENDING_FOR`` is forgotten.
Best effort: a look-up RECRU fails is tried again by the next sync."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from sqlalchemy import Connection

from atsbridge.connectors.recru import actions as recru
from atsbridge.connectors.recru.client import RecruClient
from atsbridge.connectors.recru.errors import RecruError
from atsbridge.store import pending_applications
from atsbridge.store.integrations import track_application
from atsbridge.store.pending_applications import PENDING_FOR, PendingApplication
from atsbridge.sync.store_worker import StoreWorker

log = logging.getLogger("atsbridge.sync")


async def adopt_pending(client: RecruClient, store: StoreWorker, integration_id: str, now: datetime) -> None:
    for waiting in await store.call(lambda conn: pending_applications.pending(conn, integration_id, now)):
        if now - waiting.created_at > PENDING_FOR:
            await store.call(partial(_forget, integration_id=integration_id, waiting=waiting))
            continue
        if waiting.application_remote_id is not None:
            continue
        try:
            found = await recru.application_of(client, waiting.email, int(waiting.project_remote_id))
        except RecruError:
            log.warning("a pending application of %s could not be looked for in RECRU", integration_id, exc_info=True)
            continue
        if found is not None:
            application_id, jobseeker_id = found
            await store.call(
                partial(
                    _track,
                    integration_id=integration_id,
                    waiting=waiting,
                    application_id=application_id,
                    jobseeker_id=jobseeker_id,
                )
            )


def _track(
    conn: Connection, *, integration_id: str, waiting: PendingApplication, application_id: int, jobseeker_id: int
) -> None:
    """Track the application found for the pending create, unless another integration on the tenant made it (then
    the create is settled: it made nothing)."""
    if pending_applications.taken_elsewhere(conn, integration_id, str(application_id)):
        _forget(conn, integration_id=integration_id, waiting=waiting)
        return
    track_application(conn, integration_id, str(application_id), str(jobseeker_id))
    pending_applications.found(conn, integration_id, waiting, str(application_id))


def _forget(conn: Connection, *, integration_id: str, waiting: PendingApplication) -> None:
    pending_applications.forget(conn, integration_id, waiting.project_remote_id, waiting.email)
