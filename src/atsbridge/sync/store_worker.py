"""The store side of one sync run: one connection on one worker thread, writing behind the fetching and mapping.

- **Overlap.** ``submit`` hands a batch's store work (a job) to the worker and returns as soon as the job before it
  is done, so the run fetches and maps batch n + 1 while batch n is written: at most one batch is in the worker's
  hands and one in the run's (flat memory). The database releases the GIL while it works, so its share runs in
  parallel.
- **Transactions** span whole jobs, about ``commit_every`` records each, and are committed at most
  ``COMMIT_WITHIN`` seconds after their first uncommitted write, and as soon as no job came for ``COMMIT_WHEN_IDLE``
  seconds (RECRU answers slowly or rate-limits: a timer commits): others see the progress, and on SQLite the
  store's other writers (the run's heartbeat, the API's actions and settings) wait for the write lock only while
  the run is busy writing, never while it waits for RECRU. A commit never holds half a batch (a record without its
  join rows), and fewer commits write each index page to the WAL fewer times.
- **Conflicts.** A writing job runs in a savepoint: one PostgreSQL ends for a deadlock with another writer (an
  action's write-through) is rolled back to it, the jobs before it are committed (releasing the rows the other
  writer waits for) and it is done again (``store.conflicts``), not a failed run.
- **Progress.** ``before_commit`` runs in each commit of written jobs, on the same connection: the run records
  there what it has written, so its record tells it whatever stops the run after that commit (its process killed).
- **Failures.** The failure of a job is raised by the next ``submit``, ``call`` or ``drain``; the worker then writes
  nothing more, and ``close`` rolls its transaction back. Otherwise ``close`` commits what was written: like a run
  killed between two commits, a failed or cancelled run leaves a consistent store, and deletes nothing.
- **Reads** the run makes on the way (``call``) use the same connection and so see its uncommitted writes; one
  made with nothing uncommitted ends its transaction at once, so the connection never idles in a transaction
  while the run waits for RECRU (PostgreSQL ends such sessions: ``store.db.PG_IDLE_IN_TRANSACTION_TIMEOUT_MS``).
- The connection is tuned for bulk writes (``store.db.bulk_writes``) while the run holds it, and on PostgreSQL
  carries the run's name (``session_name``, ``store.db.named_session``): a run given up for dead has its session
  ended, so the locks its stopped process holds do not block the run after it (``store.syncs.abandon_stale``).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import TypeVar

from sqlalchemy import Connection, Engine

from atsbridge.store.conflicts import in_savepoint
from atsbridge.store.db import bulk_writes, named_session

T = TypeVar("T")

COMMIT_WITHIN = 10.0  # seconds
COMMIT_WHEN_IDLE = 0.25  # seconds; a busy run submits a job every ~0.1 s


class StoreWorker:
    """The run's store connection on a thread of its own; ``close`` it on every way out of the run."""

    def __init__(
        self,
        engine: Engine,
        *,
        commit_every: int,
        session_name: str = "atsbridge store worker",
        before_commit: Callable[[Connection], None] | None = None,
    ) -> None:
        self._engine = engine
        self._before_commit = before_commit
        self._session_name = session_name
        self._commit_every = commit_every
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="atsbridge-store")
        self._conn: Connection | None = None
        self._resources = ExitStack()
        self._uncommitted = 0
        self._last_commit = self._last_job = time.monotonic()
        self._commit_timer: threading.Timer | None = None
        self._failed = False
        self._pending: asyncio.Future[None] | None = None

    async def submit(self, job: Callable[[Connection], None], records: int) -> None:
        """Queue ``job`` (which writes ``records`` records) behind the jobs before it, once the last one is done."""
        await self.drain()
        self._pending = asyncio.get_running_loop().run_in_executor(self._executor, self._run, job, records)
        # a run that stops before draining it (its integration deleted under its writes) ends by its own verdict:
        # retrieved here, the job's failure is not logged again as "Future exception was never retrieved"
        self._pending.add_done_callback(_retrieved)

    async def call(self, job: Callable[[Connection], T]) -> T:
        """Run ``job`` after the jobs before it and return its result."""
        await self.drain()
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._run, job, 0)

    async def drain(self) -> None:
        """Wait until the submitted jobs are done; raises the failure of the last one."""
        pending, self._pending = self._pending, None
        if pending is not None:
            await pending

    def close(self) -> None:
        """Wait for the job in hand, commit (or, after a failed job, roll back) and release connection and thread."""
        self._executor.submit(self._end).result()
        self._executor.shutdown()
        if self._commit_timer is not None:
            self._commit_timer.cancel()

    def _run(self, job: Callable[[Connection], T], records: int) -> T:
        if self._conn is None:
            conn = self._resources.enter_context(self._engine.connect())
            conn = self._resources.enter_context(named_session(conn, self._session_name))
            self._conn = self._resources.enter_context(bulk_writes(conn))
        try:
            result = in_savepoint(self._conn, job, self._commit) if records else job(self._conn)
            if not records and not self._uncommitted:
                self._conn.commit()  # a read ends its transaction: none idles while the run waits for RECRU
                self._last_commit = time.monotonic()
            self._uncommitted += records
            self._last_job = time.monotonic()
            overdue = self._uncommitted and self._last_job - self._last_commit >= COMMIT_WITHIN
            if self._uncommitted >= self._commit_every or overdue:
                self._commit()
            elif self._uncommitted and self._commit_timer is None:
                self._commit_in(COMMIT_WHEN_IDLE)
        except BaseException:
            self._failed = True
            raise
        return result

    def _commit(self) -> None:
        assert self._conn is not None
        if self._before_commit is not None:
            self._before_commit(self._conn)
        self._conn.commit()
        self._uncommitted = 0
        self._last_commit = time.monotonic()

    def _commit_in(self, seconds: float) -> None:
        self._commit_timer = threading.Timer(seconds, self._commit_later)
        self._commit_timer.daemon = True
        self._commit_timer.start()

    def _commit_later(self) -> None:
        """The timer's turn: commit on the worker's thread, after the job in hand (if the worker still runs)."""
        with contextlib.suppress(RuntimeError):  # closed meanwhile: close committed
            self._executor.submit(self._commit_if_pending)

    def _commit_if_pending(self) -> None:
        """Commit if no job came for ``COMMIT_WHEN_IDLE`` (or the transaction is overdue); else look again then."""
        self._commit_timer = None
        if self._conn is None or not self._uncommitted or self._failed:
            return
        now = time.monotonic()
        idle = now - self._last_job
        if idle >= COMMIT_WHEN_IDLE or now - self._last_commit >= COMMIT_WITHIN:
            self._commit()
        else:
            self._commit_in(COMMIT_WHEN_IDLE - idle)

    def _end(self) -> None:
        if self._conn is None:
            return
        try:
            if self._failed:
                self._conn.rollback()
            else:
                self._commit()
        finally:
            self._conn = None
            self._resources.close()


def _retrieved(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()
