"""Writes PostgreSQL ends for a deadlock with another writer are done again (``store.conflicts``): two transactions
that lock the same two rows in opposite orders both end done, in a transaction of their own or in a savepoint."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, Engine, insert, select, update

from atsbridge.store.conflicts import in_savepoint, in_transaction
from atsbridge.store.tables import environments

NAMES = ("first", "second")


@pytest.fixture
def rows(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers with its write lock: it never ends one for a deadlock")
    with engine.begin() as conn:
        for name in NAMES:
            conn.execute(insert(environments).values(id=name, name=name, created_at=datetime.now(UTC)))
    return engine


def crossing_writes(runs: list[str]) -> tuple[Callable[[Connection], None], Callable[[Connection], None]]:
    """Two works locking the two rows in opposite orders, meeting in between on their first attempt: a deadlock."""
    met = threading.Barrier(2, timeout=10)

    def locking(order: tuple[str, str], mark: str) -> Callable[[Connection], None]:
        def work(conn: Connection) -> None:
            runs.append(mark)
            conn.execute(update(environments).where(environments.c.id == order[0]).values(name=f"{mark} {order[0]}"))
            if runs.count(mark) == 1:
                met.wait()
            conn.execute(update(environments).where(environments.c.id == order[1]).values(name=f"{mark} {order[1]}"))

        return work

    return locking(NAMES, "a"), locking(NAMES[::-1], "b")


def test_transactions_ended_for_a_deadlock_are_done_again(rows: Engine) -> None:
    runs: list[str] = []
    first, second = crossing_writes(runs)
    with ThreadPoolExecutor(2) as pool:
        done = [pool.submit(in_transaction, rows, work) for work in (first, second)]
        for future in done:
            future.result(timeout=60)
    assert len(runs) == 3  # one of them ended once, and was done again after the other
    with rows.connect() as conn:
        names = set(conn.execute(select(environments.c.name).where(environments.c.id.in_(NAMES))).scalars())
    assert names in ({"a first", "a second"}, {"b first", "b second"})  # the one done again came last


def test_a_savepoint_ended_for_a_deadlock_is_done_again_once_the_work_before_it_is_committed(rows: Engine) -> None:
    """As a sync's batch meets an action's write-through: the sync's transaction locked a row in an earlier batch,
    which the action waits for, while the batch waits for a row the action locked. PostgreSQL ends the batch (it
    waited first); done again at once it would wait again; the batches before it are committed first."""
    first, second = NAMES
    sync_has_first, action_has_second = threading.Event(), threading.Event()
    batches: list[str] = []

    def sync() -> None:
        with rows.connect() as conn:  # as the store worker holds it: committed by hand, batches apart
            conn.execute(update(environments).where(environments.c.id == first).values(name="sync first"))
            sync_has_first.set()
            action_has_second.wait(10)

            def batch(conn: Connection) -> None:
                batches.append("tried")
                conn.execute(update(environments).where(environments.c.id == second).values(name="sync second"))

            in_savepoint(conn, batch, conn.commit)
            conn.commit()

    def action(conn: Connection) -> None:
        conn.execute(update(environments).where(environments.c.id == second).values(name="action second"))
        action_has_second.set()
        time.sleep(0.3)  # the sync's batch waits for that row first
        conn.execute(update(environments).where(environments.c.id == first).values(name="action first"))

    with ThreadPoolExecutor(2) as pool:
        syncing = pool.submit(sync)
        sync_has_first.wait(10)
        acting = pool.submit(in_transaction, rows, action)
        syncing.result(timeout=60)
        acting.result(timeout=60)
    with rows.connect() as conn:
        query = select(environments.c.id, environments.c.name).where(environments.c.id.in_(NAMES))
        names = {row.id: row.name for row in conn.execute(query)}
    assert batches == ["tried", "tried"]
    assert names == {first: "action first", second: "sync second"}  # each done once the other had committed
