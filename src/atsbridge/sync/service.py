"""The background work of an API process: syncs and webhook delivery.

Syncs run either in the embedded scheduler (the default: it queues what is due and runs queued syncs in this
process) or, with ``ATSBRIDGE_SYNC_RUNNER=queue`` on PostgreSQL, as procrastinate jobs run by ``atsbridge worker``
processes. ``dispatch`` tells it a sync was just queued. Webhook delivery runs beside them (it is safe with any
number of processes delivering at once)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from sqlalchemy import Engine

from atsbridge.config import Settings
from atsbridge.sync.runner import execute_sync
from atsbridge.sync.scheduler import EmbeddedScheduler, queue_sync
from atsbridge.sync.worker import SyncQueue
from atsbridge.webhooks.delivery import DeliveryLoop


class SyncService:
    def __init__(self, engine: Engine, settings: Settings, *, run_syncs: bool) -> None:
        """``run_syncs``: this process schedules and runs syncs (embedded) and delivers webhooks; off, queued syncs
        wait for a process that runs them. With the queue runner a forced sync is deferred to the workers either
        way."""
        self.engine = engine
        self.settings = settings
        self.run_syncs = run_syncs
        self.queue: SyncQueue | None = None
        self.scheduler: EmbeddedScheduler | None = None
        self._task: asyncio.Task[None] | None = None
        self.delivery = DeliveryLoop(engine, settings.encryption_key, public_url=settings.public_url)
        self._delivery_task: asyncio.Task[None] | None = None
        self._queue_context: contextlib.AbstractAsyncContextManager[object] | None = None
        self._stopping: asyncio.Task[None] | None = None

    async def _run(self, sync_id: str, integration_id: str, sync_type: str) -> None:
        await execute_sync(self.engine, self.settings, sync_id, integration_id, sync_type)

    async def start(self) -> None:
        if self.settings.sync_runner == "queue" and self.queue is None:  # forced syncs are deferred at once, always
            self.queue = SyncQueue(self.engine, self.settings)
            self._queue_context = self.queue.app.open_async()
            await self._queue_context.__aenter__()
            await self.queue.ensure_schema()
        if not self.run_syncs:
            return
        self._delivery_task = asyncio.create_task(self.delivery.run())
        if self.queue is not None:
            return
        self.scheduler = EmbeddedScheduler(
            self.engine,
            self._run,
            full_every=timedelta(hours=self.settings.full_sync_every_hours),
            delta_every=timedelta(minutes=self.settings.delta_sync_every_minutes),
        )
        self._task = asyncio.create_task(self.scheduler.run())

    async def enable(self) -> None:
        """Start running syncs in this process now (the demo runs the first sync itself, then this)."""
        if not self.run_syncs:
            self.run_syncs = True
            await self.start()

    @property
    def stopping(self) -> bool:
        """Whether the process was asked to stop (``begin_stopping``)."""
        return self._stopping is not None

    def begin_stopping(self) -> asyncio.Task[None]:
        """Stop taking syncs and events now (the process was asked to stop); ``stop`` waits for it to end."""
        if self._stopping is None:
            self._stopping = asyncio.create_task(self._stop())
        return self._stopping

    async def stop(self) -> None:
        await self.begin_stopping()

    async def _stop(self) -> None:
        """The runs in flight cancelled (recorded CANCELLED) and the sends in flight given their grace, at once."""
        await asyncio.gather(self._stop_delivery(), self._stop_scheduler())
        if self._queue_context is not None:
            await self._queue_context.__aexit__(None, None, None)

    async def _stop_delivery(self) -> None:
        if self._delivery_task is not None:
            self.delivery.stop()
            await asyncio.gather(self._delivery_task, return_exceptions=True)

    async def _stop_scheduler(self) -> None:
        if self.scheduler is not None and self._task is not None:
            await self.scheduler.stop()
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def request(self, integration_id: str, sync_type: str) -> tuple[str, bool]:
        """Queue a sync (``queue_sync``, on a worker thread: a sync's open transaction may hold SQLite's write lock
        for a moment, and the event loop must not wait for it) and dispatch it; (sync id, already queued)."""
        sync_id, already = await asyncio.to_thread(self._queue, integration_id, sync_type)
        if not already:
            await self.dispatch(sync_id, integration_id, sync_type)
        return sync_id, already

    def _queue(self, integration_id: str, sync_type: str) -> tuple[str, bool]:
        with self.engine.begin() as conn:
            return queue_sync(conn, integration_id, sync_type)

    async def dispatch(self, sync_id: str, integration_id: str, sync_type: str) -> None:
        if self.queue is not None:
            await self.queue.defer(sync_id, integration_id, sync_type)
        elif self.scheduler is not None:
            self.scheduler.wake()
