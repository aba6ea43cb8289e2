"""When syncs run: queueing (``queue_sync``), what is due (``due_syncs``) and the runners.

- A sync is first a ``QUEUED`` row in ``syncs``; at most one queued or running sync per integration and type (a
  unique partial index guards it, so two processes racing to queue get the same run back).
- **Embedded** (SQLite, one process): ``EmbeddedScheduler`` is an asyncio task of the ``serve``/``demo`` process.
  Every tick it queues what is due (FULL every ``full_sync_every_hours``, DELTA every ``delta_sync_every_minutes``
  per enabled, valid integration) and runs queued syncs, never two of one integration at once. When it starts and
  then every minute (housekeeping) runs a dead process left RUNNING (no heartbeat for ``store.syncs.STALE_AFTER``)
  become FAILED with their ``sync-finished``, and records deleted more than 14 days ago are anonymised.
- **Scale-out** (PostgreSQL): the same queueing, but the runs are procrastinate jobs (see ``sync.worker``), locked
  per integration, executed by ``atsbridge worker`` processes on any machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, case, func, insert, select
from sqlalchemy.exc import IntegrityError

from atsbridge.store.db import savepoint
from atsbridge.store.deletions import anonymise_expired
from atsbridge.store.nested_marks import models_changed_since
from atsbridge.store.syncs import (
    ACTIVE_STATES,
    DELTA,
    FAILED,
    FULL,
    QUEUED,
    SUCCEEDED,
    abandon_stale,
    forget_old_runs,
    new_sync_id,
)
from atsbridge.store.tables import integrations, syncs
from atsbridge.webhooks import notify
from atsbridge.webhooks.outbox import forget_old_events

log = logging.getLogger("atsbridge.scheduler")
TICK_SECONDS = 2.0
TICK = timedelta(seconds=TICK_SECONDS)
FULL_RETRY_AFTER = timedelta(hours=1)
HOUSEKEEPING_EVERY = timedelta(minutes=1)


def active_sync(conn: Connection, integration_id: str, sync_type: str) -> str | None:
    """The integration's queued or running sync of ``sync_type``, if there is one."""
    found = conn.execute(
        select(syncs.c.id).where(
            syncs.c.integration_id == integration_id, syncs.c.type == sync_type, syncs.c.state.in_(ACTIVE_STATES)
        )
    ).scalar()
    return None if found is None else str(found)


def fail_stale_runs(conn: Connection, integration_id: str | None, now: datetime) -> None:
    """Runs a dead process left RUNNING (not stamped for ``STALE_AFTER``), of the integration or (``None``) of every
    one, become FAILED, each with its ``sync-finished``: whoever waits for the run learns how it ended. Before it, the
    ``data-changed`` its run would have sent for what it committed (a worker killed mid-run: its batches stay, and
    ``updated_after`` serves them), once the integration's data is readable (its first sync succeeded)."""
    for run in abandon_stale(conn, integration_id, now):
        started_at = run.started_at or run.queued_at
        readable = conn.execute(
            select(integrations.c.setup_status).where(integrations.c.id == run.integration_id)
        ).scalar_one_or_none()
        if readable == "COMPLETED":
            notify.data_changed(conn, run.integration_id, models_changed_since(conn, run.integration_id, started_at))
        notify.sync_finished(conn, run.integration_id, run.id, FAILED, started_at, now)


def keep_house(conn: Connection, now: datetime) -> None:
    """What keeps the store from growing without end and personal data from outstaying its purpose: records deleted
    in RECRU over 14 days ago anonymised (a ``data-changed`` tells each integration's: they move under
    ``updated_after``, and a client holding their personal data learns to clear it), webhook events finished over
    30 days ago and runs ended over 90 days ago forgotten (the embedded scheduler's housekeeping, and the workers'
    hourly one)."""
    for integration_id in anonymise_expired(conn, now=now):  # named as served: maybe none, in tracked mode
        notify.data_changed(conn, integration_id, models_changed_since(conn, integration_id, now))
    forget_old_events(conn, now)
    forget_old_runs(conn, now)


def queue_sync(conn: Connection, integration_id: str, sync_type: str) -> tuple[str, bool]:
    """(sync id, already_queued): the queued or running sync of this integration and type, or a new queued one (a
    RUNNING run whose process stopped stamping it is FAILED first, so it cannot hold the place)."""
    fail_stale_runs(conn, integration_id, datetime.now(UTC))
    existing = active_sync(conn, integration_id, sync_type)
    if existing is not None:
        return existing, True
    sync_id = new_sync_id()
    try:
        with savepoint(conn):
            conn.execute(
                insert(syncs).values(
                    id=sync_id,
                    integration_id=integration_id,
                    type=sync_type,
                    state=QUEUED,
                    queued_at=datetime.now(UTC),
                )
            )
    except IntegrityError:
        raced = active_sync(conn, integration_id, sync_type)
        if raced is None:
            raise
        return raced, True
    return sync_id, False


def due_syncs(
    conn: Connection, now: datetime, full_every: timedelta, delta_every: timedelta, tick: timedelta = timedelta(0)
) -> list[tuple[str, str]]:
    """(integration id, type) of every sync that is due. FULL: when the last FULL that succeeded began
    ``full_every`` ago (or there is none), and the last FULL of any outcome ``FULL_RETRY_AFTER`` ago (at most
    ``full_every``, at least ``delta_every``): a FULL that failed (RECRU down, its process killed) is tried again
    within the hour, not 10 hours later, and one that keeps failing costs one try an hour. Else DELTA: when the
    last run of any type began ``delta_every`` ago. A run began when it started, or, not started yet, when it was
    queued: one that waited in the queue (behind a stalled run) is not followed by another a tick after it started.
    A run queued just after a tick (by that tick) counts as queued at it: with ``tick`` (how often the caller
    looks), half of it is allowed, so the cadence does not slip a tick each period. Disabled and INVALID
    integrations are not synced on schedule."""
    slack = tick / 2
    began = func.coalesce(syncs.c.started_at, syncs.c.queued_at)
    succeeded = case((syncs.c.state == SUCCEEDED, began))
    last = (
        select(
            syncs.c.integration_id,
            syncs.c.type,
            func.max(began).label("last"),
            func.max(succeeded).label("last_succeeded"),
        )
        .group_by(syncs.c.integration_id, syncs.c.type)
        .subquery()
    )
    rows = conn.execute(
        select(integrations.c.id, last.c.type, last.c.last, last.c.last_succeeded)
        .select_from(integrations.outerjoin(last, last.c.integration_id == integrations.c.id))
        .where(integrations.c.enabled.is_(True), integrations.c.status == "ACTIVE")
    )
    latest: dict[str, dict[str, tuple[datetime, datetime | None]]] = {}
    for integration_id, sync_type, queued_at, succeeded_at in rows:
        entry = latest.setdefault(integration_id, {})
        if sync_type is not None:
            entry[sync_type] = (queued_at, succeeded_at)

    def waited(since: datetime | None, every: timedelta) -> bool:
        return since is None or now - since >= every - slack

    retry_after = min(full_every, max(delta_every, FULL_RETRY_AFTER))
    due: list[tuple[str, str]] = []
    for integration_id, by_type in latest.items():
        last_full, last_full_succeeded = by_type.get(FULL, (None, None))
        last_any = max((queued_at for queued_at, _ in by_type.values()), default=None)
        if waited(last_full_succeeded, full_every) and waited(last_full, retry_after):
            due.append((integration_id, FULL))
        elif waited(last_any, delta_every):
            due.append((integration_id, DELTA))
    return due


def queued_syncs(conn: Connection) -> list[tuple[str, str, str]]:
    """(sync id, integration id, type) of queued syncs, oldest first."""
    query = (
        select(syncs.c.id, syncs.c.integration_id, syncs.c.type)
        .where(syncs.c.state == QUEUED)
        .order_by(syncs.c.queued_at)
    )
    return [(row.id, row.integration_id, row.type) for row in conn.execute(query)]


RunSync = Callable[[str, str, str], Awaitable[None]]


class EmbeddedScheduler:
    """The in-process scheduler: queue what is due, run what is queued; one run per integration at a time."""

    def __init__(
        self,
        engine: Engine,
        run_sync: RunSync,
        *,
        full_every: timedelta,
        delta_every: timedelta,
        max_parallel: int = 2,
        schedule: bool = True,
    ) -> None:
        self.engine = engine
        self.run_sync = run_sync
        self.full_every = full_every
        self.delta_every = delta_every
        self.schedule = schedule
        self._running: dict[str, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(max_parallel)
        self._wake = asyncio.Event()
        self._stopped = False
        self._last_housekeeping: datetime | None = None

    def wake(self) -> None:
        """Look at the queue now (a sync was just queued)."""
        self._wake.set()

    async def run(self) -> None:
        await asyncio.to_thread(self._abandon_stale)
        while not self._stopped:
            try:
                await asyncio.to_thread(self._queue_due)
                for sync_id, integration_id, sync_type in await asyncio.to_thread(self._queued):
                    if integration_id not in self._running and not self._stopped:  # stopped while it looked
                        self._running[integration_id] = asyncio.create_task(
                            self._run_one(sync_id, integration_id, sync_type)
                        )
            except Exception:
                log.exception("scheduler tick failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_SECONDS)

    async def stop(self) -> None:
        self._stopped = True
        self._wake.set()
        for task in list(self._running.values()):
            task.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)

    def _abandon_stale(self) -> None:
        """Runs a process that died left RUNNING (no heartbeat for ``STALE_AFTER``) become FAILED when the scheduler
        starts and at every housekeeping, so they no longer hold their place (force-sync would answer
        ``already_queued`` with them); a run another live process holds (``atsbridge sync``) is left alone.
        ``queue_sync`` does the same per integration."""
        with self.engine.begin() as conn:
            fail_stale_runs(conn, None, datetime.now(UTC))

    def _queue_due(self) -> None:
        if not self.schedule:
            return
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            for integration_id, sync_type in due_syncs(conn, now, self.full_every, self.delta_every, TICK):
                queue_sync(conn, integration_id, sync_type)
            if self._last_housekeeping is None or now - self._last_housekeeping >= HOUSEKEEPING_EVERY:
                keep_house(conn, now)
                fail_stale_runs(conn, None, now)
                self._last_housekeeping = now

    def _queued(self) -> list[tuple[str, str, str]]:
        with self.engine.connect() as conn:
            return queued_syncs(conn)

    async def _run_one(self, sync_id: str, integration_id: str, sync_type: str) -> None:
        try:
            async with self._slots:
                await self.run_sync(sync_id, integration_id, sync_type)
        except Exception:
            log.exception("sync %s of %s failed", sync_id, integration_id)
        finally:
            self._running.pop(integration_id, None)
            self._wake.set()
