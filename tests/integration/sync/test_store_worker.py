"""The sync's store worker on real SQLite and PostgreSQL: one connection, commits of whole jobs, failures."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, insert, select

from atsbridge.store import db
from atsbridge.store.tables import environments
from atsbridge.sync import store_worker
from atsbridge.sync.store_worker import StoreWorker
from support.store import fresh_store

T0 = datetime(2024, 6, 1, tzinfo=UTC)


def add(name: str) -> Callable[[Connection], None]:
    def job(conn: Connection) -> None:
        conn.execute(insert(environments).values(id=name, name=name, created_at=T0))

    return job


def fail_after(name: str) -> Callable[[Connection], None]:
    def job(conn: Connection) -> None:
        add(name)(conn)
        raise ValueError("bad page")

    return job


def stored(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(environments.c.id).order_by(environments.c.id)).scalars())


async def test_jobs_are_committed_every_so_many_records_and_the_rest_on_close(engine: Engine) -> None:
    worker = StoreWorker(engine, commit_every=2)
    await worker.submit(add("a"), 1)
    await worker.submit(add("b"), 1)
    await worker.submit(add("c"), 1)
    await worker.drain()
    assert stored(engine) == ["a", "b"]
    worker.close()
    assert stored(engine) == ["a", "b", "c"]


async def test_calls_see_the_uncommitted_writes(engine: Engine) -> None:
    worker = StoreWorker(engine, commit_every=100)
    await worker.submit(add("a"), 1)
    ids = await worker.call(lambda conn: list(conn.execute(select(environments.c.id)).scalars()))
    worker.close()
    assert ids == ["a"]


async def test_a_failed_job_is_raised_by_the_next_submit_and_its_transaction_rolled_back(engine: Engine) -> None:
    worker = StoreWorker(engine, commit_every=2)
    await worker.submit(add("a"), 1)
    await worker.submit(add("b"), 1)
    await worker.submit(add("c"), 1)
    await worker.submit(fail_after("d"), 1)
    with pytest.raises(ValueError, match="bad page"):
        await worker.submit(add("e"), 1)
    worker.close()
    assert stored(engine) == ["a", "b"]


async def test_a_failed_job_never_drained_is_not_reported_again_by_asyncio(engine: Engine) -> None:
    """A run stopped before it drained its last job (its integration deleted under it) ends by its own verdict;
    asyncio must not log the job's failure later as "Future exception was never retrieved"."""
    reported: list[dict[str, object]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _, context: reported.append(context))
    worker = StoreWorker(engine, commit_every=100)
    await worker.submit(fail_after("x"), 1)
    pending = worker._pending
    assert pending is not None
    await asyncio.wait([pending])  # the job failed; nobody drains it
    worker.close()
    del worker
    gc.collect()
    await asyncio.sleep(0)
    assert reported == []


async def test_writes_are_committed_once_no_job_came_for_a_moment(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RECRU answering slowly leaves the last jobs' writes uncommitted no longer than ``COMMIT_WHEN_IDLE``: others see
    them, and the store's other writers (the heartbeat, the API's actions) are not kept waiting for SQLite's write
    lock while the run waits for RECRU. A busy run keeps its transaction."""
    monkeypatch.setattr(store_worker, "COMMIT_WHEN_IDLE", 1.0)
    worker = StoreWorker(engine, commit_every=100)
    for name in "abcdef":
        await worker.submit(add(name), 1)
        await asyncio.sleep(0.05)  # jobs keep coming: busy
    await worker.drain()
    assert stored(engine) == []
    await asyncio.sleep(1.6)  # no job comes
    assert stored(engine) == list("abcdef")
    with engine.begin() as conn:  # another writer is not locked out
        add("g")(conn)
    worker.close()
    assert stored(engine) == list("abcdefg")


async def test_a_busy_run_commits_within_commit_within(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_worker, "COMMIT_WITHIN", 0.3)
    monkeypatch.setattr(store_worker, "COMMIT_WHEN_IDLE", 60.0)
    worker = StoreWorker(engine, commit_every=100)
    for name in "abcdefgh":
        await worker.submit(add(name), 1)
        await asyncio.sleep(0.1)
    await worker.drain()
    assert stored(engine), "committed while jobs kept coming"
    worker.close()
    assert stored(engine) == list("abcdefgh")


@pytest.mark.postgres
async def test_a_read_leaves_no_transaction_idling_while_the_run_waits_for_recru(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL ends a session idle in a transaction (``store.db``): a run's read followed by a long wait for
    RECRU must not have left one open, or its next write would find its connection gone."""
    monkeypatch.setattr(db, "PG_IDLE_IN_TRANSACTION_TIMEOUT_MS", 500)
    with fresh_store("postgres", tmp_path) as engine:
        worker = StoreWorker(engine, commit_every=100)
        try:
            assert await worker.call(lambda conn: conn.execute(select(environments.c.id)).all()) == []
            await asyncio.sleep(1.5)  # RECRU answers slowly
            await worker.submit(add("a"), 1)
            await worker.drain()
        finally:
            worker.close()
        assert stored(engine) == ["a"]
