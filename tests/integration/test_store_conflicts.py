"""Writes PostgreSQL ends for a deadlock with another writer are done again (``store.conflicts``): two transactions
that lock the same two rows in opposite orders both end done, in a transaction of their own or in a savepoint."""

from __future__ import annotations

import threading
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


def test_a_savepoint_ended_for_a_deadlock_is_done_again_keeping_the_work_before_it(rows: Engine) -> None:
    runs: list[str] = []
    first, second = crossing_writes(runs)

    def longer_transaction(work: Callable[[Connection], None], before: str) -> None:
        with rows.begin() as conn:  # written before the savepoint: kept when the savepoint is done again
            conn.execute(insert(environments).values(id=before, name=before, created_at=datetime.now(UTC)))
            in_savepoint(conn, work)

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(longer_transaction, work, f"before {n}") for n, work in enumerate((first, second))]:
            future.result(timeout=60)
    assert len(runs) == 3
    with rows.connect() as conn:
        kept = conn.execute(select(environments.c.id).where(environments.c.id.like("before %"))).scalars()
        assert sorted(kept) == ["before 0", "before 1"]
