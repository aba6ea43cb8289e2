"""At-least-once delivery of the outbox: claim due events, POST them signed, record every attempt, back off.

``deliver_due`` handles one batch: in one statement it picks up to ``batch_size`` due events, oldest first
(``SELECT … FOR UPDATE SKIP LOCKED … LIMIT n`` in a CTE, materialised so that PostgreSQL runs it once: as a plain
``IN (subquery)`` the planner may rescan it and claim far more than n rows), and moves their ``next_attempt_at`` past
the time the batch can take (the lease), re-checking ``next_attempt_at <= now``. A second process (or a second
call) therefore never claims the same events: on PostgreSQL locked rows are skipped and rows claimed meanwhile fail
the re-check; on SQLite writers are serialised. If a process dies mid-batch, its events fall due again when the
lease ends and are sent again: receivers de-duplicate on the event id.

Events of one environment claimed together are sent one after the other, oldest first; environments are served
concurrently, each on its own (``DeliveryLoop``: a slow receiver holds up only its own environment). Retried events
come after newer ones, and several processes delivering (workers, API processes) claim separate batches, so
receivers may get one environment's events out of order (they de-duplicate on the event id). A 2xx
answer delivers the event; anything else (another status, a redirect, a timeout, a refused connection, a stored URL
that cannot be sent to) is a failed attempt, retried ``RetryPolicy.delay_after`` (30 s, 1 min, 2 min, …
capped at 4 h: 15 attempts span about a day) after it ended (one that waited out a timeout, or behind others of its
batch, is not due again at once) and given up after the last one, with ``last_error`` saying so. Each
attempt is a ``webhook_attempts`` row with its status code or error and duration; an event deleted with its
integration while it was being sent leaves no attempt behind.

``now`` and the clock drive the scheduling (which events are due; ``attempted_at``, the next attempt), so tests can
move them freely; the ``webhook-timestamp`` header is the wall clock at sending, as receivers check it against theirs.
An event's ``log_url`` is stored as a path on the API's host; with a ``public_url`` it is sent as an absolute URL.
Database work runs in worker threads so that the event loop of an API process sharing the loop is never blocked.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Collection
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cryptography.exceptions import InvalidTag
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from atsbridge import __version__
from atsbridge.store.tables import environments, webhook_attempts, webhook_outbox
from atsbridge.webhooks.endpoint import open_secret
from atsbridge.webhooks.events import envelope
from atsbridge.webhooks.signing import signature_headers

log = logging.getLogger("atsbridge.webhooks")

BATCH_SIZE = 20
TIMEOUT_SECONDS = 10.0
POLL_SECONDS = 2.0
URL_REMOVED = "not delivered: the environment has no webhook URL any more"
UNREADABLE_SECRET = "cannot decrypt the webhook secret: was the store's secret key changed?"
UNREADABLE_RETRY = timedelta(seconds=30)
STOP_GRACE_SECONDS = 5.0  # how long a stopping process lets its sends in flight finish
CUT_OFF = "the sending process stopped before the receiver answered: due again at once"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a failing event is retried."""

    max_attempts: int = 15
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=4)

    def delay_after(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt: doubling from ``first_delay``, at most ``max_delay``."""
        return min(self.first_delay * (1 << min(attempts - 1, 32)), self.max_delay)


DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True)
class _Claimed:
    id: str
    environment_id: str
    type: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class _Attempt:
    """One try: the receiver's status code (if it answered) and, unless it answered 2xx, what went wrong."""

    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.error is None


def _claim(
    engine: Engine, now: datetime, batch_size: int, lease: timedelta, busy: Collection[str] = ()
) -> list[_Claimed]:
    """Claim up to ``batch_size`` due events, none of the ``busy`` environments (this process is sending theirs)."""
    outbox = webhook_outbox.c
    due = (
        select(outbox.id)
        .where(outbox.delivered_at.is_(None), outbox.next_attempt_at <= now, outbox.environment_id.not_in(busy))
        .order_by(outbox.next_attempt_at, outbox.created_at, outbox.id)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
        .cte("due")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    claim = (
        update(webhook_outbox)
        .where(outbox.id.in_(select(due.c.id)), outbox.delivered_at.is_(None), outbox.next_attempt_at <= now)
        .values(next_attempt_at=now + lease)
        .returning(outbox.id, outbox.environment_id, outbox.type, outbox.payload, outbox.attempts, outbox.created_at)
    )
    with engine.begin() as conn:
        claimed = [_Claimed(*row) for row in conn.execute(claim)]
    return sorted(claimed, key=lambda event: (event.created_at, event.id))


def _endpoints(engine: Engine, environment_ids: set[str]) -> dict[str, tuple[str | None, bytes | None]]:
    query = select(environments.c.id, environments.c.webhook_url, environments.c.webhook_secret_encrypted)
    with engine.connect() as conn:
        rows = conn.execute(query.where(environments.c.id.in_(environment_ids)))
        return {row.id: (row.webhook_url, row.webhook_secret_encrypted) for row in rows}


def _record(
    engine: Engine, event: _Claimed, attempt: _Attempt, began: datetime, ended: datetime, policy: RetryPolicy
) -> None:
    """Record ``attempt``, made from ``began`` to ``ended``; the next one, if any, is due its delay after ``ended``."""
    attempts = event.attempts + 1
    if attempt.delivered:
        outcome: dict[str, Any] = {"delivered_at": ended, "next_attempt_at": None, "last_error": None}
    elif attempts >= policy.max_attempts:
        outcome = {"next_attempt_at": None, "last_error": f"gave up after {attempts} attempts; last: {attempt.error}"}
    else:
        outcome = {"next_attempt_at": ended + policy.delay_after(attempts), "last_error": attempt.error}
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(webhook_attempts).values(
                    event_id=event.id,
                    attempted_at=began,
                    status_code=attempt.status_code,
                    error=attempt.error,
                    duration_ms=attempt.duration_ms,
                )
            )
            conn.execute(
                update(webhook_outbox)
                .where(webhook_outbox.c.id == event.id, webhook_outbox.c.delivered_at.is_(None))
                .values(attempts=attempts, **outcome)
            )
    except IntegrityError:
        if _exists(engine, event.id):
            raise
        # its integration was deleted while it was on its way (with its events): nothing is left to record


def _exists(engine: Engine, event_id: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(webhook_outbox.c.id).where(webhook_outbox.c.id == event_id)).first() is not None


def _put_back(engine: Engine, events: list[_Claimed], when: datetime, reason: str | None) -> None:
    """Leave the claimed ``events`` due again at ``when``, without counting an attempt; ``reason`` (if any) is
    their ``last_error`` (none: the one they had stays, as none of them was tried)."""
    why = {} if reason is None else {"last_error": reason}
    with engine.begin() as conn:
        conn.execute(
            update(webhook_outbox)
            .where(webhook_outbox.c.id.in_([event.id for event in events]), webhook_outbox.c.delivered_at.is_(None))
            .values(next_attempt_at=when, **why)
        )


def _cut_off(engine: Engine, events: list[_Claimed], began: datetime, now: datetime) -> None:
    """The first of ``events`` was being sent when the process stopped (the receiver may have it: at least once):
    its attempt is recorded, not counted; all are due again ``now``, for whichever process delivers next (those
    after it, never tried, keep their ``last_error``)."""
    duration_ms = round((now - began).total_seconds() * 1000)
    try:
        with engine.begin() as conn:
            attempt = {"attempted_at": began, "status_code": None, "error": CUT_OFF, "duration_ms": duration_ms}
            conn.execute(insert(webhook_attempts).values(event_id=events[0].id, **attempt))
    except IntegrityError:  # deleted with its integration meanwhile
        pass
    _put_back(engine, events[:1], now, CUT_OFF)
    if events[1:]:
        _put_back(engine, events[1:], now, None)


def _mark_dead(engine: Engine, event_ids: list[str], reason: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(webhook_outbox)
            .where(webhook_outbox.c.id.in_(event_ids), webhook_outbox.c.delivered_at.is_(None))
            .values(next_attempt_at=None, last_error=reason)
        )


def _open_secret(key: bytes, environment_id: str, sealed: bytes) -> str | None:
    try:
        return open_secret(key, environment_id, sealed)
    except InvalidTag:
        return None


def _describe(error: Exception) -> str:
    """``Type: message``; for an exception group (anyio's, around a connect error) that of each exception inside."""
    if isinstance(error, ExceptionGroup):
        return "; ".join(_describe(inner) for inner in error.exceptions)
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _as_sent(payload: dict[str, Any], public_url: str | None) -> dict[str, Any]:
    log_url = payload.get("log_url")
    if public_url and isinstance(log_url, str) and log_url.startswith("/"):
        return {**payload, "log_url": public_url + log_url}
    return payload


async def _post(
    http_client: httpx.AsyncClient, url: str, secret: str, event: _Claimed, public_url: str | None
) -> _Attempt:
    data = _as_sent(event.payload, public_url)
    body = json.dumps(envelope(event.id, event.type, data), ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"atsbridge-webhooks/{__version__}",
        **signature_headers(secret, event.id, int(time.time()), body),
    }
    started = time.monotonic()
    status: int | None = None
    try:
        # the whole attempt: httpx's timeout is per read, and a receiver trickling a byte at a time held one open
        # past its batch's lease, when another process claimed the event again and sent it a second time
        async with asyncio.timeout(TIMEOUT_SECONDS):
            response = await http_client.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
    except TimeoutError:
        failure: str | None = f"no complete answer within {TIMEOUT_SECONDS:g} s"
    # Not only httpx's errors: a URL stored by an older version may fail otherwise (a port out of range is an
    # OverflowError, a host IDNA refuses a UnicodeError), and a failure escaping would leave the event to its lease,
    # retried for ever without an attempt recorded. Cancellation is no Exception: it still stops the send.
    except Exception as error:
        failure = _describe(error)
    else:
        status = response.status_code
        failure = None if 200 <= status < 300 else f"HTTP {status} {response.reason_phrase}".strip()
    return _Attempt(status, failure, round((time.monotonic() - started) * 1000))


async def deliver_due(
    engine: Engine,
    http_client: httpx.AsyncClient,
    key: bytes,
    now: datetime,
    *,
    batch_size: int = BATCH_SIZE,
    policy: RetryPolicy = DEFAULT_POLICY,
    public_url: str | None = None,
    clock: Callable[[], datetime] | None = None,
) -> int:
    """Claim and send one batch of events due at ``now``; returns how many were claimed (``batch_size``: maybe more).

    ``key`` is the store's encryption key (``Settings.encryption_key``), which opens the environments' secrets;
    ``public_url`` is ``Settings.public_url``; ``clock`` tells when each attempt begins and ends (default: ``now``).
    """
    sending = _Sending(engine, http_client, key, policy, public_url, clock or (lambda: now))
    batches = await sending.claim(now, batch_size)
    await asyncio.gather(*(sending.send(events, now) for events in batches.values()))
    return sum(map(len, batches.values()))


@dataclass
class _Sending:
    """What sending events takes: the store, the HTTP client, the key that opens the environments' secrets."""

    engine: Engine
    http_client: httpx.AsyncClient
    key: bytes
    policy: RetryPolicy
    public_url: str | None
    clock: Callable[[], datetime]  # when each attempt begins and ends (``deliver_due``'s ``now``, if none is given)
    stopping: Callable[[], bool] = lambda: False  # the process stops: no further event of a claimed batch is begun

    async def claim(self, now: datetime, batch_size: int, busy: Collection[str] = ()) -> dict[str, list[_Claimed]]:
        """Claim a batch of due events (none of the ``busy`` environments), by environment, oldest first."""
        lease = timedelta(seconds=TIMEOUT_SECONDS * batch_size + 60)
        claimed = await asyncio.to_thread(_claim, self.engine, now, batch_size, lease, busy)
        by_environment: dict[str, list[_Claimed]] = {}
        for event in claimed:
            by_environment.setdefault(event.environment_id, []).append(event)
        return by_environment

    async def send(self, events: list[_Claimed], now: datetime) -> None:
        """Send one environment's claimed ``events``, one after the other, recording every attempt."""
        environment_id = events[0].environment_id
        endpoints = await asyncio.to_thread(_endpoints, self.engine, {environment_id})
        url, sealed = endpoints.get(environment_id, (None, None))
        if url is None or sealed is None:
            await asyncio.to_thread(_mark_dead, self.engine, [event.id for event in events], URL_REMOVED)
            return
        secret = _open_secret(self.key, environment_id, sealed)
        if not secret:  # this process's key is wrong, not the receiver: no attempt is used up, another may send
            log.error("webhooks of environment %s: %s (left for another process)", environment_id, UNREADABLE_SECRET)
            await asyncio.to_thread(_put_back, self.engine, events, now + UNREADABLE_RETRY, UNREADABLE_SECRET)
            return
        for index, event in enumerate(events):
            if self.stopping():  # the rest is due at once, for the next process (a send begun now may be cut off)
                await asyncio.to_thread(_put_back, self.engine, events[index:], self.clock(), None)
                return
            began = self.clock()
            try:
                attempt = await _post(self.http_client, url, secret, event, self.public_url)
            except asyncio.CancelledError:  # the process stops: the rest is due at once, not when the lease ends
                await asyncio.to_thread(_cut_off, self.engine, events[index:], began, self.clock())
                raise
            await asyncio.to_thread(_record, self.engine, event, attempt, began, self.clock(), self.policy)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DeliveryLoop:
    """Claims due events every ``interval`` seconds (at once again while batches come back full) until ``stop``,
    and sends each environment's on a task of its own: an environment whose receiver is slow holds up only its own
    events (its next ones are claimed once its task is done), never another environment's.

    Start it as a task in the process's event loop (``asyncio.create_task(loop.run())``) and call ``stop()`` from that
    loop to end it after the events in flight, or ``STOP_GRACE_SECONDS`` (a slow receiver's claimed batch does not
    hold up a process's stop; the events it did not finish are due again at once, the one cut off with its attempt
    recorded, not counted); an error in one round is logged and the next round goes on.
    """

    def __init__(
        self,
        engine: Engine,
        key: bytes,
        *,
        interval: float = POLL_SECONDS,
        batch_size: int = BATCH_SIZE,
        policy: RetryPolicy = DEFAULT_POLICY,
        clock: Callable[[], datetime] = _utc_now,
        public_url: str | None = None,
    ) -> None:
        self.engine = engine
        self.key = key
        self.public_url = public_url
        self.interval = interval
        self.batch_size = batch_size
        self.policy = policy
        self.clock = clock
        self._stopping = asyncio.Event()
        self._sending: dict[str, asyncio.Task[None]] = {}  # environment id → the task sending its events

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as http_client:
            sending = _Sending(
                self.engine, http_client, self.key, self.policy, self.public_url, self.clock, self._stopping.is_set
            )
            try:
                while not self._stopping.is_set():
                    try:
                        batch_was_full = await self._round(sending)
                    except Exception:
                        log.exception("webhook delivery round failed; next round in %s s", self.interval)
                        batch_was_full = False
                    if not batch_was_full:
                        with suppress(TimeoutError):
                            await asyncio.wait_for(self._stopping.wait(), self.interval)
            finally:  # sends still running after a grace are given up: what they did not send is due again at once
                in_flight = list(self._sending.values())
                if in_flight:
                    _, unfinished = await asyncio.wait(in_flight, timeout=STOP_GRACE_SECONDS)
                    for task in unfinished:
                        task.cancel()
                    await asyncio.gather(*in_flight, return_exceptions=True)

    async def _round(self, sending: _Sending) -> bool:
        now = self.clock()
        batches = await sending.claim(now, self.batch_size, busy=set(self._sending))
        for environment_id, events in batches.items():
            self._sending[environment_id] = asyncio.create_task(self._send(sending, events, now))
        return sum(map(len, batches.values())) == self.batch_size

    async def _send(self, sending: _Sending, events: list[_Claimed], now: datetime) -> None:
        environment_id = events[0].environment_id
        try:
            await sending.send(events, now)
        except Exception:  # their lease ends and they fall due again
            log.exception("webhook delivery to environment %s failed", environment_id)
        finally:
            self._sending.pop(environment_id, None)
