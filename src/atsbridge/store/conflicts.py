"""Writes done again when PostgreSQL ends them for a conflict with another writer.

Two transactions that lock rows in opposite orders (a sync's batch moves the candidates of the applications it
writes, while an action's write-through writes a candidate, then its application, which moves the candidate) wait
on each other; PostgreSQL ends one of them with a deadlock error (SQLSTATE 40P01; a serialization failure, 40001,
likewise). Nothing it did remains, so doing the same work again is safe and, the other one having gone on,
succeeds: ``in_transaction`` does so for a transaction of its own, ``in_savepoint`` for part of a longer one (a
sync's transaction spans several batches: only the batch ended is done again, once the ones before it are
committed). SQLite serialises writers with its write lock, so it never ends one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

T = TypeVar("T")

ATTEMPTS = 8
_ENDED_FOR_A_CONFLICT = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure
log = logging.getLogger("atsbridge.store")


def ended_for_a_conflict(error: BaseException) -> bool:
    """Whether ``error`` is PostgreSQL ending the transaction for a conflict with another one."""
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) in _ENDED_FOR_A_CONFLICT


def in_transaction(engine: Engine, work: Callable[[Connection], T]) -> T:
    """``work`` in a transaction of its own, done again in a new one if PostgreSQL ends it for a conflict."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with engine.begin() as conn:
                return work(conn)
        except DBAPIError as error:
            if attempt == ATTEMPTS or not ended_for_a_conflict(error):
                raise
            _pause(attempt, error)
    raise AssertionError("unreachable")


def in_savepoint(conn: Connection, work: Callable[[Connection], T], before_again: Callable[[], None]) -> T:
    """``work`` within ``conn``'s transaction, in a savepoint: rolled back to it if PostgreSQL ends it for a
    conflict, then, after ``before_again``, done again. The transaction keeps what it did before the savepoint,
    and the row locks that took: the other writer may be waiting on one of them, so ``before_again`` commits it
    (or the same conflict would end the work again)."""
    if conn.dialect.name != "postgresql":
        return work(conn)
    for attempt in range(1, ATTEMPTS + 1):
        savepoint = conn.begin_nested()
        try:
            result = work(conn)
        except DBAPIError as error:
            savepoint.rollback()
            if attempt == ATTEMPTS or not ended_for_a_conflict(error):
                raise
            before_again()
            _pause(attempt, error)
            continue
        savepoint.commit()
        return result
    raise AssertionError("unreachable")


def _pause(attempt: int, error: DBAPIError) -> None:
    """A growing pause before doing the work again (0.1 s, 0.2 s, … at most 2 s): the other writer, whose
    transaction may run on for a while (a sync commits every few seconds), gets ahead meanwhile."""
    log.info("a write ended for a conflict with another writer (%s); doing it again", error.orig)
    time.sleep(min(2.0, 0.05 * 2**attempt))
