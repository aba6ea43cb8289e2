"""Syncs on PostgreSQL's job queue (procrastinate), for scale-out: ``atsbridge worker`` processes on any machine.

``run_sync`` jobs carry a lock per integration, so two workers never sync one integration at once, and a queueing
lock per integration and type, so a burst of requests queues one job. A periodic ``tick`` (every minute) ends the
jobs of workers that died (their locks would block the integration for good) and fails their runs, queues the syncs
that are due and defers a job for every queued sync; an hourly ``housekeeping`` anonymises long-deleted records
and deletes the queue's finished jobs after ``JOB_HISTORY_HOURS`` (with their events). API processes defer a job
when a sync is forced (with or without ``--syncs``). A worker asked to stop (SIGTERM) gives the sync it runs
``STOP_GRACE_SECONDS`` to end, then cancels it (recorded CANCELLED, as the embedded scheduler's are), so a deploy's
stop timeout does not turn it into a kill.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import procrastinate
import psycopg
from procrastinate import exceptions as procrastinate_errors
from procrastinate import jobs as procrastinate_jobs
from procrastinate import manager as procrastinate_manager
from sqlalchemy import Engine, inspect, text

from atsbridge.config import Settings
from atsbridge.store.db import normalise_url
from atsbridge.store.syncs import RUNNING, load_sync
from atsbridge.sync.runner import execute_sync
from atsbridge.sync.scheduler import due_syncs, fail_stale_runs, keep_house, queue_sync, queued_syncs
from atsbridge.webhooks.delivery import DeliveryLoop

TICK = timedelta(minutes=1)  # the cron of ``tick``
JOB_HISTORY_HOURS = 24
STOP_GRACE_SECONDS = 5.0  # then the cancellation is recorded: all within a deploy's usual 10 s stop timeout
SCHEMA_LOCK = 0x61747362  # PostgreSQL advisory lock key of making procrastinate's tables ("atsb")
log = logging.getLogger("atsbridge.worker")


WORKER_REGISTERED_AGAIN = (
    "this worker was given up for dead while it was paused (a worker starting meanwhile removed its registration): "
    "it registers again and goes on"
)


def _registration_gone(failed: procrastinate_errors.ConnectorException) -> bool:
    """Whether procrastinate failed because this worker's row in ``procrastinate_workers`` is gone: a worker
    starting removes those whose heartbeat is older than 30 s, a paused one's too, whose next job fetch then
    names a worker that is no more."""
    cause = failed.__cause__
    return isinstance(cause, psycopg.errors.ForeignKeyViolation) and "worker_id" in str(cause)


def conninfo(database_url: str) -> str:
    """A libpq connection string for procrastinate from our SQLAlchemy URL (search_path options kept)."""
    url = normalise_url(database_url)
    parts = {
        "host": url.host,
        "port": url.port,
        "dbname": url.database,
        "user": url.username,
        "password": url.password,
        **dict(url.query),
    }
    return " ".join(f"{key}='{value}'" for key, value in parts.items() if value is not None)


RUN_SYNC_TASK = "atsbridge.run_sync"


class _NoTracebackForStoppedJobs(logging.Filter):
    """procrastinate logs a sync job cancelled ("Aborted": the worker stopping) with the ``CancelledError``'s
    traceback; the run has recorded and logged its cancellation itself, so the line stays and the traceback goes.
    Other jobs' lines (the tick, housekeeping) keep theirs: nothing else tells of their cancellation."""

    def filter(self, record: logging.LogRecord) -> bool:
        job = getattr(record, "job", None)
        sync_job = isinstance(job, dict) and job.get("task_name") == RUN_SYNC_TASK
        if sync_job and record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError):
            record.exc_info, record.exc_text = None, None
        return True


_QUIET_STOPS = _NoTracebackForStoppedJobs()


@contextlib.contextmanager
def _first_stop_signal(stop: Callable[[], None]) -> Iterator[Callable[[], bool]]:
    """Call ``stop`` on the first SIGTERM or SIGINT the process gets; a second one ends the process at once, as a
    deploy's second signal means (``_end_at_once``). Yields whether one came."""
    loop = asyncio.get_running_loop()
    came = False

    def on_signal() -> None:
        nonlocal came
        came = True
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, _end_at_once, signum)
        stop()

    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, on_signal)
    try:
        yield lambda: came
    finally:
        if not came:
            for signum in STOP_SIGNALS:
                loop.remove_signal_handler(signum)


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
ENDED_AT_ONCE = (
    "stopped at once by a second signal: the next tick of a worker releases the sync it ran (recorded FAILED if "
    "its end was not recorded yet)"
)


def _end_at_once(signum: int) -> None:
    """End the process now, with one line, not the tracebacks of a shutdown interrupted halfway (pools closed
    under the tasks using them): what it leaves, the next tick of any worker tidies (``_release_stalled_jobs``)."""
    sys.stderr.write(f"error: {ENDED_AT_ONCE}\n")
    sys.stderr.flush()
    os._exit(128 + signum)


ENDED_ELSEWHERE = "Job was not found or not in"  # procrastinate's finish_job: another process ended the job


class _JobManager(procrastinate_manager.JobManager):
    """procrastinate's, except for a job that another worker ended meanwhile: this worker was paused (SIGSTOP, a
    frozen machine) until the tick of another released its job (``SyncQueue._release_stalled_jobs``, its run
    recorded FAILED there). procrastinate would raise that in a task nobody awaits, an error with a traceback
    ("Task exception was never retrieved"); it is one warning saying what happened."""

    async def finish_job(
        self, job: procrastinate_jobs.Job, status: procrastinate_jobs.Status, delete_job: bool
    ) -> None:
        try:
            await super().finish_job(job, status, delete_job)
        except procrastinate_errors.ConnectorException as failed:
            if ENDED_ELSEWHERE not in str(failed.__cause__):
                raise
            log.warning(
                "job %s (%s) was ended by another process while this one was paused; its run was recorded there",
                job.id,
                job.task_kwargs,
            )


class SyncQueue:
    """The procrastinate app of one store, with the tasks bound to that store."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        connector = procrastinate.PsycopgConnector(conninfo=conninfo(settings.resolved_database_url))
        self.app = procrastinate.App(connector=connector)
        self.app.job_manager = _JobManager(connector)  # before the tasks: each keeps the manager it was made with
        self.run_sync = self.app.task(name=RUN_SYNC_TASK, queue="syncs")(self._run_sync)
        self.app.periodic(cron="* * * * *", periodic_id="atsbridge.tick")(
            self.app.task(name="atsbridge.tick", queue="syncs")(self._tick)
        )
        self.app.periodic(cron="17 * * * *", periodic_id="atsbridge.housekeeping")(
            self.app.task(name="atsbridge.housekeeping", queue="syncs")(self._housekeeping)
        )

    async def _run_sync(self, sync_id: str, integration_id: str, sync_type: str) -> None:
        await execute_sync(self.engine, self.settings, sync_id, integration_id, sync_type)

    async def _tick(self, timestamp: int) -> None:
        """Queue the syncs that are due, then defer a job for every queued sync: a run that could not be claimed
        while another of its integration was alive (``claim_sync``) is tried again, and the queueing lock makes a
        job already waiting a no-op."""
        with self.engine.begin() as conn:
            fail_stale_runs(conn, None, datetime.now(UTC))
        await self._release_stalled_jobs()
        full_every = timedelta(hours=self.settings.full_sync_every_hours)
        delta_every = timedelta(minutes=self.settings.delta_sync_every_minutes)
        with self.engine.begin() as conn:
            for integration_id, sync_type in due_syncs(conn, datetime.now(UTC), full_every, delta_every, TICK):
                queue_sync(conn, integration_id, sync_type)
            waiting = queued_syncs(conn)
        for sync_id, integration_id, sync_type in waiting:
            await self.defer(sync_id, integration_id, sync_type)

    async def _release_stalled_jobs(self) -> None:
        """A worker killed in a run (SIGKILL, a second SIGTERM) leaves its job ``doing`` for good, and the job's lock
        would keep every later sync of the integration from starting: jobs whose worker stopped sending heartbeats
        are ended as failed, once their run is no longer alive by its own rule (``fail_stale_runs``, run just
        before: its process gone, or its heartbeat 3 minutes old). A worker only paused (SIGSTOP, a frozen
        machine) for less keeps its job, and goes on with it when it resumes."""
        for job in await self.app.job_manager.get_stalled_jobs(queue="syncs", task_name=self.run_sync.name):
            if await asyncio.to_thread(self._run_alive, job.task_kwargs.get("sync_id")):
                continue
            log.warning("releasing sync job %s of a worker that stopped: %s", job.id, job.task_kwargs)
            await self.app.job_manager.finish_job(job, status=procrastinate_jobs.Status.FAILED, delete_job=False)

    def _run_alive(self, sync_id: object) -> bool:
        with self.engine.connect() as conn:
            run = load_sync(conn, sync_id) if isinstance(sync_id, str) else None
        return run is not None and run.state == RUNNING

    async def _housekeeping(self, timestamp: int) -> None:
        """The store's housekeeping (``scheduler.keep_house``), and forget the queue's jobs finished more than
        ``JOB_HISTORY_HOURS`` ago (hourly; the runs themselves stay in ``syncs``)."""
        with self.engine.begin() as conn:
            keep_house(conn, datetime.now(UTC))
        try:
            await self.app.job_manager.delete_old_jobs(
                JOB_HISTORY_HOURS, include_failed=True, include_cancelled=True, include_aborted=True
            )
        except procrastinate_errors.ConnectorException:  # a job a periodic task's last defer still names, say
            log.warning("the queue's finished jobs could not be deleted; trying again in an hour", exc_info=True)

    async def defer(self, sync_id: str, integration_id: str, sync_type: str) -> None:
        with contextlib.suppress(procrastinate_errors.AlreadyEnqueued):
            await self.run_sync.configure(
                lock=integration_id, queueing_lock=f"{integration_id}:{sync_type}"
            ).defer_async(sync_id=sync_id, integration_id=integration_id, sync_type=sync_type)

    async def ensure_schema(self) -> None:
        """Procrastinate's tables, made once: processes starting together on a new database take turns (under an
        advisory lock), so one makes them and the others find them made."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:  # idles in no transaction
            await asyncio.to_thread(conn.execute, text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK})
            try:
                if not inspect(conn).has_table("procrastinate_jobs"):
                    await self.app.schema_manager.apply_schema_async()
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK})

    async def work(self, *, install_signal_handlers: bool = True, **options: Any) -> None:
        """Run a worker, and webhook delivery beside it, until stopped (``wait=False``: until the queue is empty).

        The first SIGTERM or SIGINT stops both at once: the sync in flight gets ``STOP_GRACE_SECONDS``, the sends in
        flight theirs (``webhooks.delivery.STOP_GRACE_SECONDS``) in the same seconds, and no event is taken after it
        (one taken while the sync had its grace would have had its own after, past a deploy's 10 s); a second one
        ends the process at once. Cancelling this coroutine stops the worker so too (the sends after it)."""
        logging.getLogger("procrastinate.worker").addFilter(_QUIET_STOPS)
        delivery = DeliveryLoop(self.engine, self.settings.encryption_key, public_url=self.settings.public_url)
        delivering = asyncio.create_task(delivery.run())
        try:
            async with self.app.open_async():
                await self.ensure_schema()
                options = {"shutdown_graceful_timeout": STOP_GRACE_SECONDS, **options, "install_signal_handlers": False}
                working: asyncio.Task[None] | None = None

                def stop() -> None:
                    delivery.stop()
                    if working is not None:
                        working.cancel()  # procrastinate's graceful stop, as on its own signal handlers

                signals = _first_stop_signal(stop) if install_signal_handlers else contextlib.nullcontext(lambda: False)
                with signals as stopped:
                    while not stopped():
                        working = asyncio.create_task(self.app.run_worker_async(queues=["syncs"], **options))
                        try:
                            await working
                        except asyncio.CancelledError:
                            if not stopped():  # this coroutine was cancelled, not the worker stopped by a signal
                                raise
                        except procrastinate_errors.ConnectorException as failed:
                            if not _registration_gone(failed):
                                raise
                            log.warning(WORKER_REGISTERED_AGAIN)
                            continue
                        return
        finally:
            delivery.stop()
            await asyncio.gather(delivering, return_exceptions=True)
