"""Running one sync to its end, whoever runs it (the embedded scheduler, a procrastinate worker or ``atsbridge
sync``): load the integration and its credentials, run the sync, and when it failed, tell a broken login apart from
a passing outage: credentials that RECRU refuses make the integration INVALID (it is then no longer synced on
schedule, and reading its data says why) instead of failing silently forever."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, update
from sqlalchemy.exc import SQLAlchemyError

from atsbridge.config import Settings
from atsbridge.connectors.recru.client import RecruClient
from atsbridge.connectors.recru.errors import RecruAuthError, RecruError
from atsbridge.store.credentials import CredentialsUnreadable, RecruCredentials
from atsbridge.store.integrations import (
    Integration,
    claim_integration,
    load_credentials,
    load_integration,
    set_integration_fields,
)
from atsbridge.store.syncs import CANCELLED, DELTA, FAILED, FULL, QUEUED, claim_sync, load_sync, run_note
from atsbridge.store.tables import syncs
from atsbridge.sync.engine import ProgressCallback, SyncResult, SyncRun
from atsbridge.sync.scheduler import active_sync, fail_stale_runs, queue_sync
from atsbridge.webhooks import notify

log = logging.getLogger("atsbridge.sync")
INVALID = "INVALID"
ACTIVE = "ACTIVE"


async def login_accepted(client: RecruClient) -> bool | None:
    """Whether RECRU accepts the integration's login now; ``None`` when RECRU cannot be reached to tell."""
    try:
        await client.login()
    except RecruAuthError:
        return False
    except RecruError:
        return None
    return True


def _fail_queued(engine: Engine, integration_id: str, sync_id: str, message: str) -> None:
    """End the queued run ``sync_id`` FAILED with ``message``, with its ``sync-finished`` event."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        failed = conn.execute(
            update(syncs)
            .where(syncs.c.id == sync_id, syncs.c.state == QUEUED)
            .values(state=FAILED, started_at=now, ended_at=now, errors=[run_note(message)])
        ).rowcount
        if failed:
            notify.sync_finished(conn, integration_id, sync_id, FAILED, now, now)


async def execute_sync(
    engine: Engine,
    settings: Settings,
    sync_id: str,
    integration_id: str,
    sync_type: str,
    progress: ProgressCallback | None = None,
) -> SyncResult | None:
    try:
        with engine.connect() as conn:
            integration = load_integration(conn, integration_id)
            credentials = (
                None if integration is None else load_credentials(conn, settings.encryption_key, integration_id)
            )
    except CredentialsUnreadable as unreadable:  # left queued, the run would be picked up again at once, for good
        log.error("sync %s of %s: %s", sync_id, integration_id, unreadable)
        _fail_queued(engine, integration_id, sync_id, str(unreadable))
        return None
    if integration is None or credentials is None:
        return None
    with engine.begin() as conn:
        if not integration.enabled:
            conn.execute(
                update(syncs)
                .where(syncs.c.id == sync_id, syncs.c.state == QUEUED)
                .values(state=CANCELLED, ended_at=datetime.now(UTC), errors=[run_note("integration disabled", "info")])
            )
            return None
        fail_stale_runs(conn, integration_id, datetime.now(UTC))
        if not claim_sync(conn, integration_id, sync_id, datetime.now(UTC)):
            return None
    try:
        return await sync_integration(
            engine, settings, integration, credentials, sync_type, claimed_sync_id=sync_id, progress=progress
        )
    except asyncio.CancelledError:
        _queue_again(engine, integration_id, sync_id, sync_type)
        raise


def _queue_again(engine: Engine, integration_id: str, sync_id: str, sync_type: str) -> None:
    """The queued run ``sync_id`` ended CANCELLED because its process was asked to stop (a deploy, Ctrl-C): a sync
    of its type is queued again, which the next process to look at the queue runs (a new integration would
    otherwise wait for its next scheduled sync to become readable, and a forced FULL would be dropped). Nothing if
    the run did not end so (it had ended already, or was stopped before it could record its end: a run left
    RUNNING is failed by the usual rule, and its sync tried again), if the integration was disabled or deleted
    meanwhile, or if it was a DELTA and a FULL is queued (its run ending saw a settings change that asks for one).
    A store failing now is logged: the process stops all the same, and the schedule brings the sync."""
    try:
        with engine.begin() as conn:
            run, found = load_sync(conn, sync_id), load_integration(conn, integration_id)
            if run is None or run.state != CANCELLED or found is None or not found.enabled:
                return
            if sync_type == DELTA and active_sync(conn, integration_id, FULL) is not None:  # it covers a DELTA's work
                return
            queued, already = queue_sync(conn, integration_id, sync_type)
    except SQLAlchemyError:
        log.warning("%s sync of %s could not be queued again", sync_type, integration_id, exc_info=True)
        return
    told = "was queued already" if already else "is queued again"
    log.info("%s sync of %s %s (%s): its run stopped with its process", sync_type, integration_id, told, queued)


async def sync_integration(
    engine: Engine,
    settings: Settings,
    integration: Integration,
    credentials: RecruCredentials,
    sync_type: str,
    *,
    claimed_sync_id: str | None = None,
    progress: ProgressCallback | None = None,
) -> SyncResult:
    """Run a sync of the integration (the queued run ``claimed_sync_id``, or one started here) and, when it failed,
    judge its login: refused → INVALID, accepted again → ACTIVE, RECRU unreachable → as it was."""
    async with RecruClient(integration.tenant_url, credentials.login, credentials.password) as client:
        overlap = timedelta(seconds=settings.delta_overlap_seconds)
        run = SyncRun(engine, client, integration, overlap=overlap, progress=progress)
        result = await run.run(sync_type, claimed_sync_id=claimed_sync_id)
        accepted: bool | None = None  # given up for dead meanwhile: what it saw is stale, another process took over
        if not run.abandoned:
            accepted = True if result.state != FAILED else await login_accepted(client)
    record_login_verdict(engine, integration, accepted)
    log.info("%s sync %s of %s: %s in %.1f s", result.type, result.sync_id, integration.id, result.state,
             result.timings.get("total", 0.0))  # fmt: skip
    return result


def record_login_verdict(engine: Engine, integration: Integration, accepted: bool | None) -> None:
    """RECRU accepted (``True``) or refused (``False``) the integration's login just now (``None``: it could not
    be told): the integration becomes ACTIVE or INVALID accordingly, with ``integration-state-changed``, unless its
    credentials were replaced since ``integration`` was read (the verdict is on the older ones)."""
    if accepted is None:
        return
    status = ACTIVE if accepted else INVALID
    with engine.connect() as conn:  # most verdicts change nothing: told without taking the write lock
        seen = load_integration(conn, integration.id)
    if seen is None or seen.status == status:
        return
    with engine.begin() as conn:
        # the row locked first, so concurrent verdicts (and a reconnection) take turns and each sees the last one
        current = load_integration(conn, integration.id) if claim_integration(conn, integration.id) else None
        # judged on credentials since replaced (reconnected meanwhile), or told already: nothing to change
        if current is None or current.credentials_digest != integration.credentials_digest or current.status == status:
            return
        set_integration_fields(conn, integration.id, status=status)
        if not current.enabled:  # shown INACTIVE whatever its login: a change no client can see, and no event
            log.warning("integration %s (disabled) has its login %s", integration.id, "back" if accepted else "refused")
            return
        notify.integration_state_changed(conn, integration.id)
    log.warning("integration %s is now %s", integration.id, status)
