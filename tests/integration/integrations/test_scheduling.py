"""When syncs run: what is due, queueing once, one run per integration at a time, and the procrastinate worker."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from procrastinate.exceptions import ConnectorException
from procrastinate.jobs import Status
from sqlalchemy import Engine, func, insert, inspect, select, text, update

from atsbridge.config import Settings
from atsbridge.store import syncs as sync_rows
from atsbridge.store import tables
from atsbridge.store.integrations import Integration, set_integration_fields
from atsbridge.store.syncs import STALE_AFTER, claim_sync, load_sync
from atsbridge.sync import engine as engine_module
from atsbridge.sync import runner as runner_module
from atsbridge.sync import worker as worker_module
from atsbridge.sync.engine import PROCESS_STOPPING
from atsbridge.sync.scheduler import FULL_RETRY_AFTER, EmbeddedScheduler, due_syncs, queue_sync
from atsbridge.sync.service import SyncService
from atsbridge.sync.worker import SyncQueue
from atsbridge.unified.ids import ModelName
from atsbridge.webhooks.endpoint import set_webhook
from atsbridge.webhooks.events import EventType
from atsbridge.webhooks.outbox import enqueue
from integration.sync.conftest import KEY, Sync, make_integration
from integration.webhooks.conftest import Receiver
from support.emulator_process import EmulatorProcess
from support.recru import Recru
from support.store import fresh_store

FULL_EVERY, DELTA_EVERY = timedelta(hours=10), timedelta(minutes=15)
KILLED_WORKERS_JOB = text(
    "UPDATE procrastinate_jobs SET status = 'doing', worker_id = NULL WHERE args->>'sync_id' = :id"
)
JOB_STATUS = text("SELECT status FROM procrastinate_jobs WHERE args->>'sync_id' = :id")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def queue_settings(engine: Engine, tmp_path: Path) -> Settings:
    """Settings of the scale-out mode on ``engine``'s PostgreSQL store."""
    return Settings(
        data_dir=tmp_path, secret_key=KEY.hex(), database_url=engine.url.render_as_string(False), sync_runner="queue"
    )


@contextmanager
def queue_on_postgres(
    recru_process: EmulatorProcess, tmp_path: Path
) -> Iterator[tuple[Engine, Integration, SyncQueue]]:
    """A PostgreSQL store with an integration of the emulator's tenant, and the scale-out mode's job queue on it."""
    with fresh_store("postgres", tmp_path) as engine:
        integration = make_integration(engine, recru_process)
        yield engine, integration, SyncQueue(engine, queue_settings(engine, tmp_path))


@asynccontextmanager
async def opened(sync_queue: SyncQueue) -> AsyncIterator[None]:
    """The queue opened, its tables made, as a worker starts."""
    async with sync_queue.app.open_async():
        await sync_queue.ensure_schema()
        yield


def backdate(engine: Engine, sync_id: str, when: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(update(tables.syncs).where(tables.syncs.c.id == sync_id).values(queued_at=when, state="SUCCEEDED"))


def due(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return due_syncs(conn, NOW, FULL_EVERY, DELTA_EVERY)


def queue(engine: Engine, integration_id: str, sync_type: str) -> tuple[str, bool]:
    with engine.begin() as conn:
        return queue_sync(conn, integration_id, sync_type)


def test_full_every_ten_hours_delta_every_fifteen_minutes(engine: Engine, integration: Integration) -> None:
    assert due(engine) == [(integration.id, "FULL")]  # never synced
    full, _ = queue(engine, integration.id, "FULL")
    backdate(engine, full, NOW - timedelta(hours=1))
    assert due(engine) == [(integration.id, "DELTA")]  # FULL recent, no DELTA for an hour
    delta, _ = queue(engine, integration.id, "DELTA")
    backdate(engine, delta, NOW - timedelta(minutes=5))
    assert due(engine) == []
    backdate(engine, full, NOW - timedelta(hours=10, minutes=1))
    assert due(engine) == [(integration.id, "FULL")]


def test_a_full_that_failed_is_tried_again_within_the_hour(engine: Engine, integration: Integration) -> None:
    """A FULL whose worker was killed (or RECRU was down) must not leave deletions unseen for ten more hours; one
    that keeps failing is tried once an hour (DELTAs go on meanwhile)."""
    good, _ = queue(engine, integration.id, "FULL")
    backdate(engine, good, NOW - timedelta(hours=11))
    failed, _ = queue(engine, integration.id, "FULL")
    with engine.begin() as conn:
        conn.execute(
            update(tables.syncs)
            .where(tables.syncs.c.id == failed)
            .values(queued_at=NOW - timedelta(minutes=5), state="FAILED")
        )
    assert due(engine) == []  # just tried: not hammered every tick
    with engine.begin() as conn:
        conn.execute(update(tables.syncs).where(tables.syncs.c.id == failed).values(queued_at=NOW - DELTA_EVERY))
    assert due(engine) == [(integration.id, "DELTA")]
    with engine.begin() as conn:
        conn.execute(update(tables.syncs).where(tables.syncs.c.id == failed).values(queued_at=NOW - FULL_RETRY_AFTER))
    assert due(engine) == [(integration.id, "FULL")]


def test_a_run_queued_just_after_a_tick_counts_as_queued_at_it(engine: Engine, integration: Integration) -> None:
    """A worker looks once a minute and queues half a second after its tick: without slack each DELTA would wait
    one more tick, every period (a 15-minute cadence becoming 16)."""
    full, _ = queue(engine, integration.id, "FULL")
    backdate(engine, full, NOW - timedelta(hours=1))
    delta, _ = queue(engine, integration.id, "DELTA")
    backdate(engine, delta, NOW - DELTA_EVERY + timedelta(seconds=0.5))
    with engine.connect() as conn:
        assert due_syncs(conn, NOW, FULL_EVERY, DELTA_EVERY) == []
        assert due_syncs(conn, NOW, FULL_EVERY, DELTA_EVERY, timedelta(minutes=1)) == [(integration.id, "DELTA")]
        assert due_syncs(conn, NOW - timedelta(minutes=1), FULL_EVERY, DELTA_EVERY, timedelta(minutes=1)) == []


def test_the_cadence_counts_from_when_a_run_started_not_from_when_it_waited_in_the_queue(
    engine: Engine, integration: Integration
) -> None:
    """A DELTA forced while a stalled run held the integration started minutes after it was queued: the next one
    is due ``DELTA_EVERY`` after it started, not a tick later."""
    full, _ = queue(engine, integration.id, "FULL")
    backdate(engine, full, NOW - timedelta(hours=1))
    delta, _ = queue(engine, integration.id, "DELTA")
    with engine.begin() as conn:
        conn.execute(
            update(tables.syncs)
            .where(tables.syncs.c.id == delta)
            .values(queued_at=NOW - DELTA_EVERY - timedelta(minutes=5), started_at=NOW - timedelta(minutes=2))
        )
    assert due(engine) == []
    with engine.begin() as conn:
        conn.execute(update(tables.syncs).where(tables.syncs.c.id == delta).values(started_at=NOW - DELTA_EVERY))
    assert due(engine) == [(integration.id, "DELTA")]


def test_disabled_and_invalid_integrations_are_not_synced_on_schedule(engine: Engine, integration: Integration) -> None:
    with engine.begin() as conn:
        set_integration_fields(conn, integration.id, enabled=False)
    assert due(engine) == []
    with engine.begin() as conn:
        set_integration_fields(conn, integration.id, enabled=True, status="INVALID")
    assert due(engine) == []


def test_a_sync_is_queued_once_per_integration_and_type(engine: Engine, integration: Integration) -> None:
    first, first_queued = queue(engine, integration.id, "FULL")
    again, again_queued = queue(engine, integration.id, "FULL")
    delta, delta_queued = queue(engine, integration.id, "DELTA")
    assert (first_queued, again, again_queued) == (False, first, True)
    assert delta != first
    assert not delta_queued
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tables.syncs)).scalar_one() == 2


def queued_of(engine: Engine, integration_id: str) -> list[tuple[str, bool]]:
    """(type, whether it is a run not started yet) of the integration's queued syncs."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(tables.syncs.c.type, tables.syncs.c.started_at).where(
                tables.syncs.c.integration_id == integration_id, tables.syncs.c.state == "QUEUED"
            )
        )
        return [(row.type, row.started_at is None) for row in rows]


def test_a_sync_stopped_with_the_embedded_scheduler_is_queued_again(
    engine: Engine, integration: Integration, recru: Recru, tmp_path: Path
) -> None:
    """``serve`` stopped (a deploy, Ctrl-C) while it runs an integration's first FULL: the run ends CANCELLED and a
    FULL is queued again, which the next ``serve`` runs at once (the integration is not left unreadable until its
    next scheduled sync)."""
    recru.control("POST", "/faults", {"kind": "slow", "method": "JobseekerService.list", "delaySeconds": 60})
    settings = Settings(data_dir=tmp_path, secret_key=KEY.hex(), database_url=engine.url.render_as_string(False))
    sync_id, _ = queue(engine, integration.id, "FULL")

    async def stopped_while_it_syncs() -> None:
        service = SyncService(engine, settings, run_syncs=True)
        await service.start()
        try:
            for _ in range(300):
                if getattr(load_sync_now(engine, sync_id), "state", None) == "RUNNING":
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)  # waiting on RECRU's slow answer
        finally:
            await service.stop()

    asyncio.run(stopped_while_it_syncs())
    run = load_sync_now(engine, sync_id)
    assert run is not None and (run.state, run.errors) == (
        "CANCELLED",
        [{"level": "info", "message": PROCESS_STOPPING, "count": 1}],
    )
    assert queued_of(engine, integration.id) == [("FULL", True)]


def test_a_delta_stopped_with_its_process_is_not_queued_again_beside_a_queued_full(
    engine: Engine, integration: Integration
) -> None:
    """Its run ending saw the setting switched to serving everything and queued a FULL: that FULL does the DELTA's
    work, so the stop queues no DELTA beside it (it would run a needless listing after the FULL)."""
    stopped, _ = queue(engine, integration.id, "DELTA")
    with engine.begin() as conn:
        assert claim_sync(conn, integration.id, stopped, datetime.now(UTC))
        conn.execute(update(tables.syncs).where(tables.syncs.c.id == stopped).values(state="CANCELLED"))
    queue(engine, integration.id, "FULL")
    runner_module._queue_again(engine, integration.id, stopped, "DELTA")
    assert queued_of(engine, integration.id) == [("FULL", True)]
    with engine.begin() as conn:
        conn.execute(update(tables.syncs).where(tables.syncs.c.state == "QUEUED").values(state="CANCELLED"))
    runner_module._queue_again(engine, integration.id, stopped, "DELTA")  # without a FULL: queued again
    assert queued_of(engine, integration.id) == [("DELTA", True)]


def test_a_run_a_dead_process_left_running_does_not_block_the_next_one(
    engine: Engine, integration: Integration
) -> None:
    dead, _ = queue(engine, integration.id, "FULL")
    killed_at = datetime.now(UTC) - STALE_AFTER - timedelta(seconds=1)
    with engine.begin() as conn:
        assert claim_sync(conn, integration.id, dead, killed_at)  # RUNNING, and then its process was killed

    async def starts_and_stops() -> None:
        scheduler = EmbeddedScheduler(
            engine, never_called, full_every=FULL_EVERY, delta_every=DELTA_EVERY, schedule=False
        )
        task = asyncio.create_task(scheduler.run())
        await asyncio.sleep(0.2)
        await scheduler.stop()
        await task

    async def never_called(sync_id: str, integration_id: str, sync_type: str) -> None:
        raise AssertionError("nothing is queued")

    asyncio.run(starts_and_stops())
    with engine.connect() as conn:
        left = load_sync(conn, dead)
    assert left is not None and left.state == "FAILED"
    fresh, already_queued = queue(engine, integration.id, "FULL")
    assert (fresh != dead, already_queued) == (True, False)


def test_the_embedded_scheduler_never_runs_two_syncs_of_one_integration_at_once(
    engine: Engine, integration: Integration
) -> None:
    queue(engine, integration.id, "FULL")
    queue(engine, integration.id, "DELTA")
    running: list[str] = []
    overlaps: list[int] = []
    finished: list[str] = []

    async def fake_run(sync_id: str, integration_id: str, sync_type: str) -> None:
        with engine.begin() as conn:
            if not claim_sync(conn, integration_id, sync_id, datetime.now(UTC)):
                return  # as the real runner: a stale look at the queue never runs a sync twice
        running.append(integration_id)
        overlaps.append(running.count(integration_id))
        await asyncio.sleep(0.2)
        with engine.begin() as conn:
            conn.execute(update(tables.syncs).where(tables.syncs.c.id == sync_id).values(state="SUCCEEDED"))
        running.remove(integration_id)
        finished.append(sync_type)

    async def scenario() -> None:
        scheduler = EmbeddedScheduler(engine, fake_run, full_every=FULL_EVERY, delta_every=DELTA_EVERY, schedule=False)
        task = asyncio.create_task(scheduler.run())
        for _ in range(100):
            if len(finished) == 2:
                break
            scheduler.wake()
            await asyncio.sleep(0.05)
        await scheduler.stop()
        await task

    asyncio.run(scenario())
    assert sorted(finished) == ["DELTA", "FULL"]
    assert max(overlaps) == 1


def test_a_queued_sync_waits_while_another_process_runs_one_of_the_integration(
    engine: Engine, integration: Integration
) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:  # as `atsbridge sync` in another process: RUNNING, its heartbeat fresh
        other = sync_rows.start_sync(conn, integration.id, "FULL", now)
    queued, _ = queue(engine, integration.id, "DELTA")
    with engine.begin() as conn:
        assert not claim_sync(conn, integration.id, queued, now)
        states = [getattr(load_sync(conn, sync_id), "state", None) for sync_id in (other, queued)]
        assert states == ["RUNNING", "QUEUED"]
        conn.execute(update(tables.syncs).where(tables.syncs.c.id == other).values(state="SUCCEEDED"))
        assert claim_sync(conn, integration.id, queued, now)  # the other run ended: now it runs


@pytest.mark.postgres
def test_workers_starting_together_on_a_new_database_make_the_queue_tables_once(tmp_path: Path) -> None:
    with fresh_store("postgres", tmp_path) as engine:
        settings = queue_settings(engine, tmp_path)

        def start() -> None:  # as a worker process: its own queue app and connections
            async def ensure() -> None:
                sync_queue = SyncQueue(engine, settings)
                async with sync_queue.app.open_async():
                    await sync_queue.ensure_schema()

            asyncio.run(ensure())

        with ThreadPoolExecutor(4) as pool:
            for started in [pool.submit(start) for _ in range(4)]:
                started.result()  # none failed
        assert inspect(engine).has_table("procrastinate_jobs")


@pytest.mark.postgres
def test_procrastinate_worker_runs_queued_syncs(recru: Recru, recru_process: EmulatorProcess, tmp_path: Path) -> None:
    with queue_on_postgres(recru_process, tmp_path) as (engine, integration, sync_queue):
        sync_id, _ = queue(engine, integration.id, "FULL")

        async def work() -> None:
            async with opened(sync_queue):
                await sync_queue.defer(sync_id, integration.id, "FULL")
                await sync_queue.defer(sync_id, integration.id, "FULL")  # queueing lock: the second is a no-op
            await sync_queue.work(wait=False, install_signal_handlers=False)

        asyncio.run(work())
        with engine.connect() as conn:
            run = load_sync(conn, sync_id)
            candidates = conn.execute(select(func.count()).select_from(tables.candidates)).scalar_one()
    assert run is not None
    assert run.state == "SUCCEEDED"
    assert candidates == len(recru.all("jobseekers"))


@pytest.mark.postgres
def test_the_procrastinate_tick_defers_a_job_for_every_queued_sync(
    recru_process: EmulatorProcess, tmp_path: Path
) -> None:
    """A queued sync with no job waiting (its job found another run of the integration alive and left it queued)
    is run after the next tick."""
    with queue_on_postgres(recru_process, tmp_path) as (engine, integration, sync_queue):
        sync_id, _ = queue(engine, integration.id, "DELTA")  # queued, never deferred

        async def tick_then_work() -> None:
            async with opened(sync_queue):
                await sync_queue._tick(0)
            await sync_queue.work(wait=False, install_signal_handlers=False)

        asyncio.run(tick_then_work())
        with engine.connect() as conn:
            run = load_sync(conn, sync_id)
    assert run is not None and run.state == "SUCCEEDED"


@pytest.mark.postgres
def test_a_worker_killed_in_a_run_does_not_block_its_integration(
    recru: Recru, recru_process: EmulatorProcess, tmp_path: Path
) -> None:
    """SIGKILL (or a second SIGTERM) leaves the worker's job ``doing`` with the integration's lock: the next tick
    ends it and fails the dead run (with its ``sync-finished``), and the syncs queued behind it run."""
    with queue_on_postgres(recru_process, tmp_path) as (engine, integration, sync_queue):
        dead, _ = queue(engine, integration.id, "FULL")
        with engine.begin() as conn:  # its worker claimed it, stamped it, and was killed long ago
            assert claim_sync(conn, integration.id, dead, datetime.now(UTC) - STALE_AFTER - timedelta(seconds=1))
        waiting, _ = queue(engine, integration.id, "DELTA")

        async def killed_then_tick_then_work() -> None:
            async with opened(sync_queue):
                await sync_queue.defer(dead, integration.id, "FULL")
                with engine.begin() as conn:  # the job the killed worker was running: doing, no live worker
                    conn.execute(KILLED_WORKERS_JOB, {"id": dead})
                await sync_queue.defer(waiting, integration.id, "DELTA")  # behind the dead job's lock
                await sync_queue._tick(0)
            await sync_queue.work(wait=False, install_signal_handlers=False)

        asyncio.run(killed_then_tick_then_work())
        with engine.connect() as conn:
            states = {sync_id: getattr(load_sync(conn, sync_id), "state", None) for sync_id in (dead, waiting)}
            finished = (
                conn.execute(
                    select(tables.webhook_outbox.c.payload).where(tables.webhook_outbox.c.type == "sync-finished")
                )
                .scalars()
                .all()
            )
    assert states == {dead: "FAILED", waiting: "SUCCEEDED"}
    assert {(p["sync_id"], p["sync_state"]) for p in finished} >= {(dead, "FAILED"), (waiting, "SUCCEEDED")}


@pytest.mark.postgres
def test_a_worker_resuming_after_its_job_was_released_elsewhere_lets_it_go_with_a_warning(
    recru_process: EmulatorProcess, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A worker paused past its run's staleness finds, when it resumes and ends the job, that another worker's tick
    released it: one warning, not an error raised in a task nobody awaits. Other queue failures still raise."""
    with queue_on_postgres(recru_process, tmp_path) as (engine, integration, sync_queue):
        sync_id, _ = queue(engine, integration.id, "FULL")

        async def released_while_paused() -> None:
            async with opened(sync_queue):
                await sync_queue.defer(sync_id, integration.id, "FULL")
                job = await sync_queue.app.job_manager.fetch_job(queues=["syncs"], worker_id=None)
                assert job is not None
                with engine.begin() as conn:  # the other worker's tick: ended as failed
                    conn.execute(text("UPDATE procrastinate_jobs SET status = 'failed' WHERE id = :id"), {"id": job.id})
                with caplog.at_level(logging.WARNING, logger="atsbridge.worker"):
                    await sync_queue.app.job_manager.finish_job(job, Status.SUCCEEDED, delete_job=False)
                with engine.begin() as conn:  # any other failure of the queue's
                    conn.execute(
                        text("DROP FUNCTION procrastinate_finish_job_v1(bigint, procrastinate_job_status, boolean)")
                    )
                with pytest.raises(ConnectorException):
                    await sync_queue.app.job_manager.finish_job(job, Status.SUCCEEDED, delete_job=False)

        asyncio.run(released_while_paused())
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "atsbridge.worker"]
    assert "was ended by another process while this one was paused" in warning


@pytest.mark.postgres
def test_a_paused_workers_job_is_kept_while_its_run_is_alive(recru_process: EmulatorProcess, tmp_path: Path) -> None:
    """A worker stopped (SIGSTOP) sends no heartbeat, but its run was stamped within 3 minutes: the tick leaves its
    job (it goes on with it when it resumes), and releases it only once the run is given up for dead."""
    with queue_on_postgres(recru_process, tmp_path) as (engine, integration, sync_queue):
        paused, _ = queue(engine, integration.id, "FULL")
        with engine.begin() as conn:
            assert claim_sync(conn, integration.id, paused, datetime.now(UTC) - timedelta(seconds=60))

        async def tick() -> str:
            async with opened(sync_queue):
                await sync_queue._tick(0)
            with engine.connect() as conn:
                return str(conn.execute(JOB_STATUS, {"id": paused}).scalar_one())

        async def paused_then_tick() -> str:
            async with opened(sync_queue):
                await sync_queue.defer(paused, integration.id, "FULL")
                with engine.begin() as conn:  # the job its worker runs: doing, no heartbeat from that worker
                    conn.execute(KILLED_WORKERS_JOB, {"id": paused})
            return await tick()

        assert asyncio.run(paused_then_tick()) == "doing"
        assert getattr(load_sync_now(engine, paused), "state", None) == "RUNNING"
        with engine.begin() as conn:  # its heartbeat now 3 minutes old: given up for dead
            conn.execute(
                update(tables.syncs)
                .where(tables.syncs.c.id == paused)
                .values(heartbeat_at=datetime.now(UTC) - STALE_AFTER - timedelta(seconds=1))
            )
        assert asyncio.run(tick()) == "failed"
        assert getattr(load_sync_now(engine, paused), "state", None) == "FAILED"


@pytest.mark.postgres
def test_a_worker_asked_to_stop_cancels_its_sync_after_a_grace_period(
    recru: Recru,
    recru_process: EmulatorProcess,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Not waiting for the whole FULL (a deploy's stop timeout would kill it): the run is recorded CANCELLED, with
    its ``sync-finished``, as the embedded scheduler's run is."""
    monkeypatch.setattr(worker_module, "STOP_GRACE_SECONDS", 0.5)
    caplog.set_level(logging.INFO)
    recru.control("POST", "/faults", {"kind": "slow", "method": "JobseekerService.list", "delaySeconds": 60})
    with queue_on_postgres(recru_process, tmp_path) as (engine, integration, sync_queue):
        sync_id, _ = queue(engine, integration.id, "FULL")

        async def stopped_while_it_syncs() -> float:
            async with opened(sync_queue):
                await sync_queue.defer(sync_id, integration.id, "FULL")
            working = asyncio.create_task(sync_queue.work(install_signal_handlers=False))
            for _ in range(300):
                if getattr(load_sync_now(engine, sync_id), "state", None) == "RUNNING":
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1)  # waiting on RECRU's slow answer
            asked = time.monotonic()
            working.cancel()  # as SIGTERM asks procrastinate's worker to stop
            await asyncio.gather(working, return_exceptions=True)
            return time.monotonic() - asked

        took = asyncio.run(stopped_while_it_syncs())
        run = load_sync_now(engine, sync_id)
        with engine.connect() as conn:
            finished = conn.execute(
                select(tables.webhook_outbox.c.payload["sync_state"]).where(
                    tables.webhook_outbox.c.type == "sync-finished"
                )
            ).scalars()
            told = list(finished)
        queued = queued_of(engine, integration.id)
    assert took < 30
    assert run is not None and run.state == "CANCELLED"
    assert run.errors == [{"level": "info", "message": PROCESS_STOPPING, "count": 1}]
    assert told == ["CANCELLED"]
    assert queued == [("FULL", True)]  # queued again: the next worker's tick runs it
    assert any(f"sync {sync_id}" in r.getMessage() and "CANCELLED" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], asyncio.CancelledError)]


@pytest.mark.postgres
def test_a_worker_whose_registration_was_removed_while_it_was_paused_registers_again_and_goes_on(
    recru_process: EmulatorProcess, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A worker starting removes the registrations of workers silent for 30 s, a paused one's too: on resuming,
    that one's next job fetch named a worker no longer registered, and the process ended with a traceback."""
    caplog.set_level(logging.WARNING)
    with queue_on_postgres(recru_process, tmp_path) as (engine, integration, sync_queue):

        def registered() -> int:
            with engine.connect() as conn:
                if not inspect(conn).has_table("procrastinate_workers"):  # the worker makes the queue's tables first
                    return 0
                return int(conn.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar_one())

        for sync_type in ("FULL", "DELTA"):  # synced just now: the worker's first tick queues no sync of its own,
            done, _ = queue(engine, integration.id, sync_type)  # which it could take before the registration goes
            backdate(engine, done, datetime.now(UTC))

        async def removed_then_given_a_sync() -> str:
            working = asyncio.create_task(sync_queue.work(install_signal_handlers=False))
            try:
                for _ in range(300):
                    if registered():
                        break
                    await asyncio.sleep(0.1)
                with engine.begin() as conn:  # as a worker starting removes one it finds stalled
                    conn.execute(text("DELETE FROM procrastinate_workers"))
                sync_id, _ = queue(engine, integration.id, "FULL")
                deferring = SyncQueue(engine, queue_settings(engine, tmp_path))  # as an API process defers it
                async with opened(deferring):
                    await deferring.defer(sync_id, integration.id, "FULL")
                for _ in range(600):
                    if getattr(load_sync_now(engine, sync_id), "state", None) == "SUCCEEDED" or working.done():
                        break
                    await asyncio.sleep(0.1)
                assert not working.done(), working.exception()
                return sync_id
            finally:
                working.cancel()
                await asyncio.gather(working, return_exceptions=True)

        sync_id = asyncio.run(removed_then_given_a_sync())
        run = load_sync_now(engine, sync_id)
    assert run is not None and run.state == "SUCCEEDED"
    assert worker_module.WORKER_REGISTERED_AGAIN in caplog.text


@pytest.mark.postgres
def test_a_worker_stopped_by_sigterm_takes_no_event_after_it_and_exits_within_a_deploys_timeout(
    recru: Recru, recru_process: EmulatorProcess, tmp_path: Path
) -> None:
    """The sync in flight gets its grace; an event told during it is left for the next process (one taken then
    would have had a grace of its own after the sync's: past Docker's 10 s, a kill mid-send)."""
    receiver = Receiver(delay=20).start()  # a slow receiver: a send it got would use up the whole grace
    recru.control("POST", "/faults", {"kind": "slow", "method": "JobseekerService.list", "delaySeconds": 60})
    try:
        with queue_on_postgres(recru_process, tmp_path) as (engine, integration, sync_queue):
            with engine.begin() as conn:
                set_webhook(conn, KEY, integration.environment_id, receiver.url)
            with worker_running_a_full(engine, integration, sync_queue, tmp_path) as (worker, sync_id):
                time.sleep(1)  # waiting on RECRU's slow answer
                asked = time.monotonic()
                worker.send_signal(signal.SIGTERM)
                time.sleep(1)
                with engine.begin() as conn:  # told while the sync has its grace
                    told = enqueue(
                        conn,
                        environment_id=integration.environment_id,
                        integration_id=integration.id,
                        type=EventType.DATA_CHANGED,
                        data={"note": "told after the worker was asked to stop"},
                    )
                worker.wait(30)
                took = time.monotonic() - asked
            stderr = worker.stderr.read().decode() if worker.stderr else ""
            with engine.connect() as conn:  # a send cut off is recorded as an attempt (not counted)
                attempts = conn.execute(
                    select(func.count()).where(tables.webhook_attempts.c.event_id == told)
                ).scalar_one()
            run = load_sync_now(engine, sync_id)
    finally:
        recru.control("DELETE", "/faults")
        receiver.stop()
    assert worker.returncode == 0, stderr
    assert took < 9.5, stderr
    assert run is not None and run.state == "CANCELLED"
    assert attempts == 0  # left whole for the next process


@pytest.mark.postgres
@pytest.mark.parametrize("second", [signal.SIGINT, signal.SIGTERM], ids=["double Ctrl-C", "double SIGTERM"])
def test_a_second_signal_ends_a_worker_at_once_with_one_line(
    recru: Recru, recru_process: EmulatorProcess, tmp_path: Path, second: signal.Signals
) -> None:
    """During the sync's grace a second signal ended the process with the tracebacks of a shutdown cut halfway."""
    recru.control("POST", "/faults", {"kind": "slow", "method": "JobseekerService.list", "delaySeconds": 60})
    try:
        with queue_on_postgres(recru_process, tmp_path) as (engine, integration, sync_queue):
            with worker_running_a_full(engine, integration, sync_queue, tmp_path) as (worker, _):
                worker.send_signal(second)
                time.sleep(1)  # within the sync's 5 s of grace
                worker.send_signal(second)
                worker.wait(5)
            stderr = worker.stderr.read().decode() if worker.stderr else ""
    finally:
        recru.control("DELETE", "/faults")
    assert worker.returncode == 128 + second, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == f"error: {worker_module.ENDED_AT_ONCE}"


@contextmanager
def worker_running_a_full(
    engine: Engine, integration: Integration, sync_queue: SyncQueue, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`atsbridge worker` as its own process, running a FULL sync of the integration that was deferred to it (RECRU
    held slow by the caller): the process and the run. The process is killed on the way out."""
    sync_id, _ = queue(engine, integration.id, "FULL")

    async def deferred() -> None:
        async with opened(sync_queue):
            await sync_queue.defer(sync_id, integration.id, "FULL")

    asyncio.run(deferred())
    worker = subprocess.Popen(
        [sys.executable, "-m", "atsbridge.cli", "worker"],
        env=worker_environment(engine, tmp_path),
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(600):
            if getattr(load_sync_now(engine, sync_id), "state", None) == "RUNNING":
                break
            time.sleep(0.1)
        yield worker, sync_id
    finally:
        worker.kill()


def worker_environment(engine: Engine, tmp_path: Path) -> dict[str, str]:
    """What `atsbridge worker` is started with: the test's store and key, nothing of the environment's own."""
    settings = queue_settings(engine, tmp_path)
    return {
        **{name: value for name, value in os.environ.items() if not name.startswith("ATSBRIDGE_")},
        "ATSBRIDGE_DATABASE_URL": str(settings.database_url),
        "ATSBRIDGE_SECRET_KEY": KEY.hex(),
        "ATSBRIDGE_DATA_DIR": str(tmp_path / "data"),
    }


@pytest.mark.postgres
def test_the_queues_finished_jobs_are_forgotten_after_a_day(recru_process: EmulatorProcess, tmp_path: Path) -> None:
    with queue_on_postgres(recru_process, tmp_path) as (engine, integration, sync_queue):
        old, _ = queue(engine, integration.id, "FULL")
        recent, _ = queue(engine, integration.id, "DELTA")

        async def housekeeping_after_two_finished_jobs() -> None:
            async with opened(sync_queue):
                for sync_id, sync_type in ((old, "FULL"), (recent, "DELTA")):
                    await sync_queue.defer(sync_id, integration.id, sync_type)
                with engine.begin() as conn:
                    conn.execute(text("UPDATE procrastinate_jobs SET status = 'succeeded'"))
                    conn.execute(
                        text(
                            "UPDATE procrastinate_events SET at = now() - interval '25 hours' WHERE job_id IN"
                            " (SELECT id FROM procrastinate_jobs WHERE args->>'sync_id' = :id)"
                        ),
                        {"id": old},
                    )
                await sync_queue._housekeeping(0)

        asyncio.run(housekeeping_after_two_finished_jobs())
        with engine.connect() as conn:
            left = conn.execute(text("SELECT args->>'sync_id' FROM procrastinate_jobs")).scalars().all()
    assert left == [recent]


def load_sync_now(engine: Engine, sync_id: str) -> sync_rows.SyncRow | None:
    with engine.connect() as conn:
        return load_sync(conn, sync_id)


@pytest.mark.postgres
def test_an_api_process_without_syncs_defers_a_forced_sync_to_the_workers_at_once(
    recru_process: EmulatorProcess, tmp_path: Path
) -> None:
    with fresh_store("postgres", tmp_path) as engine:
        integration = make_integration(engine, recru_process)
        settings = queue_settings(engine, tmp_path)
        sync_id, _ = queue(engine, integration.id, "FULL")

        async def forced_by_an_api_process() -> None:
            service = SyncService(engine, settings, run_syncs=False)  # `atsbridge serve --no-syncs`
            await service.start()
            try:
                await service.dispatch(sync_id, integration.id, "FULL")
            finally:
                await service.stop()

        asyncio.run(forced_by_an_api_process())
        with engine.connect() as conn:
            deferred = conn.execute(
                text("SELECT count(*) FROM procrastinate_jobs WHERE args->>'sync_id' = :id"), {"id": sync_id}
            ).scalar_one()
    assert deferred == 1  # a worker takes it now, not at its next minute's tick


def one_embedded_tick(engine: Engine) -> None:
    """The embedded scheduler's first tick (its housekeeping included), running no sync."""

    async def no_runs(sync_id: str, integration_id: str, sync_type: str) -> None:
        return None

    async def one_tick() -> None:
        scheduler = EmbeddedScheduler(engine, no_runs, full_every=FULL_EVERY, delta_every=DELTA_EVERY)
        task = asyncio.create_task(scheduler.run())
        await asyncio.sleep(0.3)
        await scheduler.stop()
        await task

    asyncio.run(one_tick())


def test_the_scheduler_anonymises_records_deleted_over_fourteen_days_ago(
    engine: Engine, integration: Integration, sync: Sync
) -> None:
    sync("FULL")
    long_ago, lately = datetime.now(UTC) - timedelta(days=15), datetime.now(UTC) - timedelta(days=13)
    with engine.begin() as conn:
        ids = list(conn.execute(select(tables.candidates.c.id).order_by(tables.candidates.c.id).limit(2)).scalars())
        for candidate_id, deleted_at in zip(ids, (long_ago, lately), strict=True):
            conn.execute(
                update(tables.candidates)
                .where(tables.candidates.c.id == candidate_id)
                .values(remote_deleted_at=deleted_at)
            )

    one_embedded_tick(engine)
    with engine.connect() as conn:
        rows = {
            row.id: row
            for row in conn.execute(
                select(
                    tables.candidates.c.id, tables.candidates.c.first_name, tables.candidates.c.email_addresses
                ).where(tables.candidates.c.id.in_(ids))
            )
        }
    assert (rows[ids[0]].first_name, rows[ids[0]].email_addresses) == (None, [])
    assert rows[ids[1]].first_name is not None


def test_the_scheduler_forgets_old_finished_events_and_runs(engine: Engine, integration: Integration) -> None:
    """Finished webhook events (and their attempts) after 30 days, ended runs after 90; what is due or running stays."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        environment_id = conn.execute(select(tables.integrations.c.environment_id)).scalar_one()
        events = {}
        for name, age, finished in (("old", 31, True), ("recent", 29, True), ("old but due", 31, False)):
            events[name] = enqueue(
                conn,
                environment_id=environment_id,
                integration_id=integration.id,
                type=EventType.DATA_CHANGED,
                data={},
                now=now - timedelta(days=age),
            )
            conn.execute(
                update(tables.webhook_outbox)
                .where(tables.webhook_outbox.c.id == events[name])
                .values(
                    next_attempt_at=None if finished else now,
                    delivered_at=now - timedelta(days=age) if finished else None,
                )
            )
            conn.execute(
                insert(tables.webhook_attempts).values(
                    event_id=events[name], attempted_at=now - timedelta(days=age), status_code=200, duration_ms=5
                )
            )
    runs = {}
    for name, age in (("old", 91), ("recent", 89)):
        runs[name], _ = queue(engine, integration.id, "FULL")
        with engine.begin() as conn:
            conn.execute(
                update(tables.syncs)
                .where(tables.syncs.c.id == runs[name])
                .values(state="SUCCEEDED", queued_at=now - timedelta(days=age), ended_at=now - timedelta(days=age))
            )

    one_embedded_tick(engine)
    with engine.connect() as conn:
        kept_events = set(conn.execute(select(tables.webhook_outbox.c.id)).scalars())
        attempted = set(conn.execute(select(tables.webhook_attempts.c.event_id)).scalars())
        kept_runs = set(conn.execute(select(tables.syncs.c.id)).scalars())
    assert {events["recent"], events["old but due"]} <= kept_events and events["old"] not in kept_events
    assert events["old"] not in attempted and events["recent"] in attempted
    assert runs["recent"] in kept_runs and runs["old"] not in kept_runs


def test_a_running_sync_not_stamped_for_minutes_gives_way_but_a_live_one_does_not(
    engine: Engine, integration: Integration
) -> None:
    now = datetime.now(UTC)
    running, _ = queue(engine, integration.id, "FULL")
    with engine.begin() as conn:
        assert claim_sync(conn, integration.id, running, now)
    assert queue(engine, integration.id, "FULL") == (running, True)  # alive: its place is kept
    with engine.begin() as conn:  # its process stopped stamping it (killed) long ago
        conn.execute(
            update(tables.syncs)
            .where(tables.syncs.c.id == running)
            .values(heartbeat_at=now - STALE_AFTER - timedelta(seconds=1))
        )
    fresh, already_queued = queue(engine, integration.id, "FULL")
    assert (fresh != running, already_queued) == (True, False)
    with engine.connect() as conn:
        left = load_sync(conn, running)
        told = (
            conn.execute(select(tables.webhook_outbox.c.payload).where(tables.webhook_outbox.c.type == "sync-finished"))
            .scalars()
            .all()
        )
    assert left is not None and left.state == "FAILED"
    assert [(p["sync_id"], p["sync_state"]) for p in told] == [(running, "FAILED")]  # whoever waits learns it


def test_a_run_stamps_its_heartbeat_while_it_runs(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync_rows, "HEARTBEAT_EVERY", timedelta(milliseconds=50))
    monkeypatch.setattr(engine_module, "COMMIT_EVERY", 1)  # SQLite: a stamp waits for the run's write transaction
    recru.control("POST", "/faults", {"kind": "slow", "method": "JobseekerService.list", "delaySeconds": 0.5})
    stamps: list[datetime] = []

    def look(model: ModelName, done: int, total: int | None) -> None:
        if model is ModelName.CANDIDATES:
            with engine.connect() as conn:
                heartbeat = conn.execute(select(tables.syncs.c.heartbeat_at)).scalars().all()
            stamps.extend(h for h in heartbeat if h is not None)

    result = sync("FULL", progress=look)
    assert result.state == "SUCCEEDED", result.errors
    with engine.connect() as conn:
        started = load_sync(conn, result.sync_id)
    assert started is not None and started.started_at is not None
    assert stamps and max(stamps) > started.started_at  # stamped again after the run began
