"""Sync runs in the store: one row per run with its state, counts per model, errors and timings.

A RUNNING run's process stamps ``heartbeat_at`` every ``HEARTBEAT_EVERY``; one not stamped for ``STALE_AFTER`` was
left by a process that died (``live_run``, ``abandon_stale``), whichever process looks at it. (On SQLite a stamp
waits for the run's own write transaction, which the run commits within ``COMMIT_WITHIN`` seconds, see
``sync.store_worker``: far within ``STALE_AFTER``.) A run also records its process (``runner``): one whose process
is known gone (``store.run_owner``: killed on this machine, say) is dead at once, without waiting for its stamp
to go stale. On PostgreSQL the run's store session carries the run's name (``session_name``): a run given up for
dead has it ended, so the rows its process may still lock (stopped, not dead) are free for the run after it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, exists, func, insert, select, update

from atsbridge.store.db import end_named_sessions
from atsbridge.store.run_owner import known_dead, this_process
from atsbridge.store.tables import syncs
from atsbridge.unified.ids import BASE58_ALPHABET, ID_LENGTH

QUEUED = "QUEUED"
RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
CANCELLED = "CANCELLED"
ACTIVE_STATES = (QUEUED, RUNNING)
FULL = "FULL"
DELTA = "DELTA"
RUN_HISTORY = timedelta(days=90)
HEARTBEAT_EVERY = timedelta(seconds=30)
STALE_AFTER = timedelta(minutes=3)
PROCESS_GONE = "the run's process stopped answering"


@dataclass(frozen=True)
class SyncRow:
    id: str
    integration_id: str
    type: str
    state: str
    queued_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    counts: dict[str, Any]
    errors: list[dict[str, Any]]
    timings: dict[str, float]


def run_note(message: str, level: str = "error") -> dict[str, Any]:
    """An entry of a run's ``errors``, shaped as its warnings are: why it failed (``error``) or was cancelled
    (``info``)."""
    return {"level": level, "message": message, "count": 1}


def new_sync_id() -> str:
    return "".join(secrets.choice(BASE58_ALPHABET) for _ in range(ID_LENGTH))


def session_name(sync_id: str) -> str:
    """The name of the run's store session on PostgreSQL (``store.db.named_session``)."""
    return f"atsbridge sync {sync_id}"


def claim_sync(conn: Connection, integration_id: str, sync_id: str, now: datetime) -> bool:
    """Take the queued run ``sync_id`` (QUEUED → RUNNING); False if it is no longer queued (another runner took it,
    or it was cancelled), so a stale look at the queue never runs a sync twice, or if another run of the
    integration is alive (``atsbridge sync`` in another process, say): it then stays queued for a later look.
    (Runs a dead process left RUNNING are not alive: ``live_run``.)"""
    other = live_run(conn, integration_id, now)
    if other is not None and other.id != sync_id:
        return False
    claimed = conn.execute(
        update(syncs)
        .where(syncs.c.id == sync_id, syncs.c.state == QUEUED)
        .values(state=RUNNING, started_at=now, heartbeat_at=now, runner=this_process())
    )
    return claimed.rowcount == 1


def start_sync(conn: Connection, integration_id: str, sync_type: str, now: datetime) -> str:
    """Start the queued run of this type if there is one, else a new run; returns its id. The caller has made sure
    no other run of the integration is alive (``live_run``)."""
    queued = conn.execute(
        select(syncs.c.id).where(
            syncs.c.integration_id == integration_id, syncs.c.type == sync_type, syncs.c.state == QUEUED
        )
    ).scalar()
    if queued is not None:
        conn.execute(
            update(syncs)
            .where(syncs.c.id == queued)
            .values(state=RUNNING, started_at=now, heartbeat_at=now, runner=this_process())
        )
        return str(queued)
    sync_id = new_sync_id()
    conn.execute(
        insert(syncs).values(
            id=sync_id,
            integration_id=integration_id,
            type=sync_type,
            state=RUNNING,
            queued_at=now,
            started_at=now,
            heartbeat_at=now,
            runner=this_process(),
        )
    )
    return sync_id


def beat(conn: Connection, sync_id: str, now: datetime) -> None:
    """The run ``sync_id`` is alive (its process stamps this every ``HEARTBEAT_EVERY``)."""
    conn.execute(update(syncs).where(syncs.c.id == sync_id, syncs.c.state == RUNNING).values(heartbeat_at=now))


def record_progress(
    conn: Connection,
    sync_id: str,
    counts: dict[str, Any],
    timings: dict[str, float],
    warnings: list[dict[str, Any]],
) -> None:
    """The running run's counts, timings and warnings so far, written in the transaction that commits what they
    count: a run whose process dies keeps them (``abandon_stale`` adds why it failed), and a reader of a RUNNING run
    sees its progress."""
    running = (syncs.c.id == sync_id) & (syncs.c.state == RUNNING)
    conn.execute(update(syncs).where(running).values(counts=counts, timings=timings, errors=warnings))


def _last_sign_of_life() -> Any:
    return func.coalesce(syncs.c.heartbeat_at, syncs.c.started_at, syncs.c.queued_at)


def live_run(conn: Connection, integration_id: str, now: datetime) -> SyncRow | None:
    """A RUNNING run of the integration whose process stamped it within ``STALE_AFTER`` and is not known gone, if
    there is one."""
    rows = conn.execute(
        select(syncs).where(
            syncs.c.integration_id == integration_id,
            syncs.c.state == RUNNING,
            _last_sign_of_life() >= now - STALE_AFTER,
        )
    )
    return next((_row(row) for row in rows if not known_dead(row.runner)), None)


def abandon_stale(conn: Connection, integration_id: str | None, now: datetime) -> list[SyncRow]:
    """RUNNING runs of the integration (``None``: of every one) not stamped for ``STALE_AFTER``, or whose process is
    known gone, become FAILED: their process died, or was stopped, and then its store session is ended (PostgreSQL).
    Returns them (their ``sync-finished`` is the caller's: ``sync.scheduler.fail_stale_runs``)."""
    running = syncs.c.state == RUNNING
    if integration_id is not None:
        running &= syncs.c.integration_id == integration_id
    owners = conn.execute(select(syncs.c.id, syncs.c.runner).where(running, syncs.c.runner.is_not(None)))
    gone = [row.id for row in owners if known_dead(row.runner)]
    rows = conn.execute(
        update(syncs)
        .where(running, (_last_sign_of_life() < now - STALE_AFTER) | syncs.c.id.in_(gone))
        .values(state=FAILED, ended_at=now)
        .returning(*syncs.c)
    )
    abandoned = []
    for row in rows.all():  # the warnings it recorded so far (``record_progress``), and why it failed
        errors = [*(row.errors or []), run_note(PROCESS_GONE)]
        conn.execute(update(syncs).where(syncs.c.id == row.id).values(errors=errors))
        abandoned.append(replace(_row(row), errors=errors))
    end_named_sessions(conn, [session_name(run.id) for run in abandoned])
    return abandoned


def finish_sync(
    conn: Connection,
    sync_id: str,
    *,
    state: str,
    now: datetime,
    server_time: datetime | None,
    counts: dict[str, Any],
    errors: list[dict[str, Any]],
    timings: dict[str, float],
) -> datetime | None:
    """Record the run's end; returns when it started, as recorded (what its ``sync-finished`` event tells). None if
    the run is no longer RUNNING: another process gave it up for dead meanwhile (``abandon_stale``: its process was
    stopped, not killed, and went on) and recorded its end already."""
    started_at: datetime | None = conn.execute(
        update(syncs)
        .where(syncs.c.id == sync_id, syncs.c.state == RUNNING)
        .values(
            state=state,
            ended_at=now,
            server_time_at_start=server_time,
            counts=counts,
            errors=errors,
            timings=timings,
        )
        .returning(syncs.c.started_at)
    ).scalar()
    return started_at


def is_running(conn: Connection, sync_id: str, *, lock: bool = False) -> bool:
    """Whether the run is still RUNNING (not given up for dead by another process, see ``finish_sync``); with
    ``lock``, its row stays so until the transaction ends (PostgreSQL; SQLite's writer holds the whole store)."""
    query = select(syncs.c.state).where(syncs.c.id == sync_id)
    return conn.execute(query.with_for_update() if lock else query).scalar() == RUNNING


def forget_old_runs(conn: Connection, now: datetime) -> int:
    """Delete the runs that ended over ``RUN_HISTORY`` ago (``/v1/integrations/{id}/syncs`` then lists the last 90
    days); returns how many."""
    ended_long_ago = syncs.c.state.not_in(ACTIVE_STATES) & (syncs.c.ended_at < now - RUN_HISTORY)
    return conn.execute(delete(syncs).where(ended_long_ago)).rowcount


def load_sync(conn: Connection, sync_id: str) -> SyncRow | None:
    row = conn.execute(select(syncs).where(syncs.c.id == sync_id)).one_or_none()
    return None if row is None else _row(row)


def recent_syncs(conn: Connection, integration_id: str, limit: int = 50, after: str | None = None) -> list[SyncRow]:
    """The integration's syncs, the most recently queued first; ``after``: those listed after that sync (a keyset:
    runs queued meanwhile do not shift the pages)."""
    query = select(syncs).where(syncs.c.integration_id == integration_id)
    if after is not None:
        last = select(syncs.c.queued_at).where(syncs.c.id == after, syncs.c.integration_id == integration_id)
        queued_at = last.scalar_subquery()
        query = query.where(
            exists(last), (syncs.c.queued_at < queued_at) | ((syncs.c.queued_at == queued_at) & (syncs.c.id > after))
        )
    return [_row(row) for row in conn.execute(query.order_by(syncs.c.queued_at.desc(), syncs.c.id).limit(limit))]


def latest_syncs(conn: Connection) -> dict[str, SyncRow]:
    """The most recently queued sync of every integration that has one, by integration id (one query)."""
    rank = func.row_number().over(partition_by=syncs.c.integration_id, order_by=(syncs.c.queued_at.desc(), syncs.c.id))
    ranked = select(syncs, rank.label("rank")).subquery()
    query = select(*(ranked.c[column.name] for column in syncs.columns)).where(ranked.c.rank == 1)
    return {row.integration_id: _row(row) for row in conn.execute(query)}


def _row(row: Any) -> SyncRow:
    return SyncRow(
        id=row.id,
        integration_id=row.integration_id,
        type=row.type,
        state=row.state,
        queued_at=row.queued_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
        counts=row.counts or {},
        errors=row.errors or [],
        timings=row.timings or {},
    )
