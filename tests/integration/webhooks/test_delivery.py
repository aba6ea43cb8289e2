"""Delivery: at least once, retried with backoff, given up after the last attempt, never twice from two workers.

Time is the injected ``now``: backoff needs no sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select, update

from atsbridge.store.db import create_engine
from atsbridge.store.integrations import ensure_environment
from atsbridge.store.tables import environments, webhook_attempts, webhook_outbox
from atsbridge.webhooks import delivery, events
from atsbridge.webhooks.delivery import DEFAULT_POLICY, UNREADABLE_SECRET, URL_REMOVED, DeliveryLoop, RetryPolicy
from atsbridge.webhooks.events import EventType
from atsbridge.webhooks.outbox import NO_WEBHOOK_URL, enqueue
from integration.webhooks.conftest import KEY, T0, Environment, Receiver, deliver, make_environment


def emit(engine: Engine, environment: Environment | str, count: int = 1, start: datetime = T0) -> list[str]:
    """``count`` data-changed events, created one millisecond apart from ``start``."""
    environment_id = environment if isinstance(environment, str) else environment.id
    with engine.begin() as conn:
        return [
            enqueue(
                conn,
                environment_id=environment_id,
                integration_id="recruhr:x",
                type=EventType.DATA_CHANGED,
                data=events.data_changed("recruhr:x", []),
                now=start + timedelta(milliseconds=index),
            )
            for index in range(count)
        ]


def outbox_row(engine: Engine, event_id: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(webhook_outbox).where(webhook_outbox.c.id == event_id)).one()


def attempts_of(engine: Engine, event_id: str) -> list[Any]:
    query = select(webhook_attempts).where(webhook_attempts.c.event_id == event_id).order_by(webhook_attempts.c.id)
    with engine.connect() as conn:
        return list(conn.execute(query))


def undelivered(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(webhook_outbox.c.id).where(webhook_outbox.c.delivered_at.is_(None))).scalars())


def test_backoff_doubles_and_spans_about_a_day() -> None:
    delays = [DEFAULT_POLICY.delay_after(attempt) for attempt in range(1, DEFAULT_POLICY.max_attempts)]
    assert delays[:4] == [timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert max(delays) == timedelta(hours=4)
    assert timedelta(hours=20) < sum(delays, timedelta()) < timedelta(hours=30)


async def test_a_receiver_that_is_down_loses_nothing(engine: Engine, down_receiver: Receiver) -> None:
    environment = make_environment(engine, down_receiver.url)
    sent = emit(engine, environment, 3)

    assert await deliver(engine, T0 + timedelta(seconds=1)) == 3
    for event_id in sent:
        row = outbox_row(engine, event_id)
        assert (row.delivered_at, row.attempts, row.next_attempt_at) == (None, 1, T0 + timedelta(seconds=31))
        assert "ConnectError" in row.last_error
        (attempt,) = attempts_of(engine, event_id)
        assert attempt.status_code is None
        assert "ConnectError" in attempt.error
        assert attempt.attempted_at == T0 + timedelta(seconds=1)
    assert await deliver(engine, T0 + timedelta(seconds=30)) == 0, "not due before the backoff has passed"

    down_receiver.start()
    assert await deliver(engine, T0 + timedelta(seconds=31)) == 3
    assert down_receiver.ids == sent, "all delivered, oldest first"
    for event_id in sent:
        row = outbox_row(engine, event_id)
        assert (row.delivered_at, row.attempts, row.next_attempt_at, row.last_error) == (
            T0 + timedelta(seconds=31),
            2,
            None,
            None,
        )
        assert [attempt.status_code for attempt in attempts_of(engine, event_id)] == [None, 200]
    assert await deliver(engine, T0 + timedelta(days=30)) == 0, "delivered events are never sent again"


async def test_an_event_deleted_while_it_is_sent_is_let_go_quietly(
    engine: Engine, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Its integration deleted while the receiver had it (only ``integration-deleted`` stays): no attempt to
    record, and nothing gone wrong to log."""
    environment = make_environment(engine, receiver.url)
    (event_id,) = emit(engine, environment)
    answer = receiver._answer

    def deleting_first(headers: dict[str, str], body: bytes) -> int:
        with engine.begin() as conn:
            conn.execute(delete(webhook_outbox).where(webhook_outbox.c.id == event_id))
        return answer(headers, body)

    monkeypatch.setattr(receiver, "_answer", deleting_first)
    with caplog.at_level(logging.WARNING, logger="atsbridge.webhooks"):
        assert await deliver(engine, T0) == 1
    assert receiver.ids == [event_id]
    assert attempts_of(engine, event_id) == []
    assert caplog.records == []


async def test_a_round_claims_one_batch_oldest_first(engine: Engine, down_receiver: Receiver) -> None:
    environment = make_environment(engine, down_receiver.url)
    sent = emit(engine, environment, 10)
    assert await deliver(engine, T0 + timedelta(seconds=1), batch_size=4) == 4
    assert [outbox_row(engine, event_id).attempts for event_id in sent] == [1] * 4 + [0] * 6


async def test_error_answers_are_retried(engine: Engine, receiver: Receiver) -> None:
    environment = make_environment(engine, receiver.url)
    receiver.answers = [503, 500, 302]
    (event_id,) = emit(engine, environment)

    now = T0
    for status in (503, 500, 302):
        assert await deliver(engine, now) == 1
        row = outbox_row(engine, event_id)
        assert row.delivered_at is None
        assert row.last_error.startswith(f"HTTP {status}")
        assert await deliver(engine, row.next_attempt_at - timedelta(microseconds=1)) == 0
        now = row.next_attempt_at
    assert await deliver(engine, now) == 1

    assert outbox_row(engine, event_id).delivered_at == now
    assert [attempt.status_code for attempt in attempts_of(engine, event_id)] == [503, 500, 302, 200]
    assert receiver.ids == [event_id] * 4, "the same event id each time: receivers de-duplicate on it"
    assert now - T0 == timedelta(seconds=30 + 60 + 120)


async def test_the_next_attempt_counts_from_the_end_of_the_failed_one(engine: Engine, receiver: Receiver) -> None:
    """An event that waited behind a slow one of its batch, and took long itself, is not due again at once."""
    environment = make_environment(engine, receiver.url)
    receiver.status, receiver.delay = 500, 1.0
    first, second = emit(engine, environment, count=2)
    started = time.monotonic()

    def clock() -> datetime:  # T0, moving on in real time
        return T0 + timedelta(seconds=time.monotonic() - started)

    assert await deliver(engine, T0 + timedelta(milliseconds=1), clock=clock) == 2
    (first_attempt,), (second_attempt,) = attempts_of(engine, first), attempts_of(engine, second)
    # it began once the first (1 s at the receiver) had ended, however late a loaded machine began the first
    assert second_attempt.attempted_at >= first_attempt.attempted_at + timedelta(seconds=1)
    retry_at = outbox_row(engine, second).next_attempt_at
    assert retry_at >= T0 + timedelta(seconds=2) + DEFAULT_POLICY.delay_after(1)
    ended = second_attempt.attempted_at + timedelta(milliseconds=second_attempt.duration_ms)
    assert abs(retry_at - (ended + DEFAULT_POLICY.delay_after(1))) < timedelta(milliseconds=20)  # two clocks


async def test_gives_up_after_the_last_attempt(engine: Engine, receiver: Receiver) -> None:
    environment = make_environment(engine, receiver.url)
    receiver.status = 500
    (event_id,) = emit(engine, environment)

    now = T0
    for _ in range(DEFAULT_POLICY.max_attempts):
        assert await deliver(engine, now) == 1
        row = outbox_row(engine, event_id)
        now = row.next_attempt_at or now
    assert row.next_attempt_at is None
    assert row.delivered_at is None
    assert row.attempts == DEFAULT_POLICY.max_attempts
    assert (
        row.last_error == f"gave up after {DEFAULT_POLICY.max_attempts} attempts; last: HTTP 500 Internal Server Error"
    )
    attempts = attempts_of(engine, event_id)
    assert len(attempts) == DEFAULT_POLICY.max_attempts
    assert timedelta(hours=20) < attempts[-1].attempted_at - attempts[0].attempted_at < timedelta(hours=30)
    assert await deliver(engine, now + timedelta(days=30)) == 0


async def test_events_without_a_webhook_url_are_recorded_but_never_sent(engine: Engine, receiver: Receiver) -> None:
    with engine.begin() as conn:
        environment_id = ensure_environment(conn, "no-hook")
    (event_id,) = emit(engine, environment_id)
    row = outbox_row(engine, event_id)
    assert (row.next_attempt_at, row.last_error) == (None, NO_WEBHOOK_URL)

    make_environment(engine, receiver.url, name="no-hook")
    assert await deliver(engine, T0 + timedelta(days=1)) == 0
    assert receiver.received == []


async def test_a_removed_url_stops_retries_and_an_unreadable_secret_uses_up_none(
    engine: Engine, receiver: Receiver
) -> None:
    """A process whose secret key cannot open the environment's secret (another key than the store's) leaves the
    event to another process, without using up its attempts; a removed URL gives it up."""
    first = make_environment(engine, receiver.url, name="first")
    second = make_environment(engine, receiver.url, name="second")
    (removed,) = emit(engine, first)
    (unreadable,) = emit(engine, second)
    with engine.begin() as conn:
        conn.execute(update(environments).where(environments.c.id == first.id).values(webhook_url=None))

    assert await deliver(engine, T0, key=bytes(32)) == 2

    assert (outbox_row(engine, removed).next_attempt_at, outbox_row(engine, removed).last_error) == (None, URL_REMOVED)
    assert attempts_of(engine, removed) == []
    row = outbox_row(engine, unreadable)
    assert (row.last_error, row.next_attempt_at, row.attempts) == (UNREADABLE_SECRET, T0 + timedelta(seconds=30), 0)
    assert attempts_of(engine, unreadable) == []
    assert receiver.received == []
    assert await deliver(engine, T0 + timedelta(seconds=30)) == 1  # a process with the right key
    assert receiver.ids == [unreadable]


@pytest.mark.parametrize(
    ("stored_url", "error"),
    [
        ("http://127.0.0.1:99999/hook", "OverflowError"),  # the exception's own words vary with the library
        ("http://xn--a/hook", "InvalidCodepoint"),
    ],
    ids=["port-out-of-range", "host-idna-refuses"],
)
async def test_a_url_that_cannot_be_sent_to_fails_attempts_as_a_refused_connection(
    engine: Engine, receiver: Receiver, stored_url: str, error: str
) -> None:
    """A URL stored by an older version, which no longer passes ``set_webhook``: each event's attempt fails (recorded,
    backed off, given up in the end), instead of an exception left to the lease, retried for ever unrecorded."""
    environment = make_environment(engine, receiver.url)
    with engine.begin() as conn:
        conn.execute(update(environments).where(environments.c.id == environment.id).values(webhook_url=stored_url))
    sent = emit(engine, environment, 2)

    assert await deliver(engine, T0 + timedelta(seconds=1)) == 2
    for event_id in sent:
        row = outbox_row(engine, event_id)
        assert (row.delivered_at, row.attempts, row.next_attempt_at) == (None, 1, T0 + timedelta(seconds=31))
        assert row.last_error.startswith(error)
        (attempt,) = attempts_of(engine, event_id)
        assert (attempt.status_code, attempt.attempted_at) == (None, T0 + timedelta(seconds=1))
        assert attempt.error.startswith(error)

    make_environment(engine, receiver.url)  # the URL put right
    assert await deliver(engine, T0 + timedelta(seconds=31)) == 2
    assert receiver.ids == sent


def test_an_event_commits_or_rolls_back_with_its_change(engine: Engine) -> None:
    environment = make_environment(engine, "https://example.invalid/hook")
    (committed,) = emit(engine, environment)

    def change_that_fails() -> None:
        with engine.begin() as conn:
            enqueue(
                conn,
                environment_id=environment.id,
                integration_id="recruhr:x",
                type=EventType.DATA_CHANGED,
                data=events.data_changed("recruhr:x", []),
            )
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change_that_fails()
    with engine.connect() as conn:
        assert conn.execute(select(webhook_outbox.c.id)).scalars().all() == [committed]


def test_two_workers_never_deliver_one_event_twice(engine: Engine, receiver: Receiver) -> None:
    environment = make_environment(engine, receiver.url)
    receiver.delay = 0.01
    sent = emit(engine, environment, 60)
    url = engine.url.render_as_string(hide_password=False)
    start = threading.Barrier(2)
    claimed: list[int] = []

    def worker() -> None:
        own_engine = create_engine(url)
        total = 0

        async def drain() -> None:
            # A claim racing the other worker's may come back empty: drain until nothing is left undelivered.
            nonlocal total
            while undelivered(own_engine):
                batch = await deliver(own_engine, T0 + timedelta(minutes=1), batch_size=4)
                total += batch
                await asyncio.sleep(0 if batch else 0.01)

        start.wait()
        try:
            asyncio.run(drain())
        finally:
            own_engine.dispose()
            claimed.append(total)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert sorted(receiver.ids) == sorted(sent), "every event exactly once"
    assert sum(claimed) == len(sent)
    assert min(claimed) > 0, "both workers took part"
    assert undelivered(engine) == []


async def test_the_delivery_loop_delivers_until_stopped(engine: Engine, receiver: Receiver) -> None:
    environment = make_environment(engine, receiver.url)
    loop = DeliveryLoop(engine, KEY, interval=0.05, batch_size=2, policy=RetryPolicy(max_attempts=3))
    task = asyncio.create_task(loop.run())
    sent = emit(engine, environment, 5, start=datetime.now(UTC))
    for _ in range(1000):
        if len(receiver.received) == len(sent):
            break
        await asyncio.sleep(0.02)
    loop.stop()
    await asyncio.wait_for(task, 10)
    assert receiver.ids == sent


async def test_a_slow_receiver_holds_up_only_its_own_environment(engine: Engine, receiver: Receiver) -> None:
    slow = Receiver(delay=1.0).start()
    try:
        slow_environment = make_environment(engine, slow.url, name="slow")
        quick_environment = make_environment(engine, receiver.url, name="quick")
        loop = DeliveryLoop(engine, KEY, interval=0.05, batch_size=20)
        task = asyncio.create_task(loop.run())
        emit(engine, slow_environment, 6, start=datetime.now(UTC))  # six seconds of answers
        await asyncio.sleep(0.5)  # its batch is being sent
        quick = emit(engine, quick_environment, 1, start=datetime.now(UTC))
        started = asyncio.get_running_loop().time()
        for _ in range(400):
            if receiver.received:
                break
            await asyncio.sleep(0.02)
        took = asyncio.get_running_loop().time() - started
        loop.stop()
        await asyncio.wait_for(task, 30)
    finally:
        slow.stop()
    assert receiver.ids == quick
    assert took < 3, f"the quick environment waited {took:.1f} s for the slow one"


async def test_a_stopping_loop_gives_up_a_slow_receivers_batch_after_a_grace(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process's stop is not held up for a slow receiver's whole batch; what it did not send is sent later."""
    monkeypatch.setattr(delivery, "STOP_GRACE_SECONDS", 0.5)
    slow = Receiver(delay=2.0).start()
    try:
        environment = make_environment(engine, slow.url, name="slow")
        sent = emit(engine, environment, 6, start=datetime.now(UTC))  # twelve seconds of answers
        loop = DeliveryLoop(engine, KEY, interval=0.05, batch_size=20)
        task = asyncio.create_task(loop.run())
        await asyncio.sleep(0.5)  # its batch is being sent
        stopping = asyncio.get_running_loop().time()
        loop.stop()
        await asyncio.wait_for(task, 30)
        took = asyncio.get_running_loop().time() - stopping
    finally:
        slow.stop()
    assert took < 5, f"the stop waited {took:.1f} s"
    left = undelivered(engine)
    assert len(left) >= len(sent) - 2
    stopped_at = datetime.now(UTC)
    rows = [outbox_row(engine, event_id) for event_id in left]
    assert all(row.next_attempt_at <= stopped_at for row in rows), "due again at once, not when the lease ends"
    assert all(row.attempts == 0 for row in rows)  # a cut-off send uses up no attempt
    (cut_off,) = [a for event_id in left for a in attempts_of(engine, event_id)]  # the one on its way is recorded
    assert (cut_off.status_code, cut_off.error) == (None, delivery.CUT_OFF)
    # the one on its way says so; the others, never tried, do not
    assert sorted(row.last_error or "" for row in rows) == [""] * (len(rows) - 1) + [delivery.CUT_OFF]


async def test_a_stopping_loop_begins_no_further_event_of_a_batch(engine: Engine) -> None:
    """The sends in flight get their grace; one begun during it would be cut off (sent twice) or outlast it."""
    slow = Receiver(delay=1.0).start()
    try:
        environment = make_environment(engine, slow.url, name="slow")
        sent = emit(engine, environment, 6, start=datetime.now(UTC))
        loop = DeliveryLoop(engine, KEY, interval=0.05, batch_size=20)
        task = asyncio.create_task(loop.run())
        await asyncio.sleep(0.5)  # the first is on its way
        loop.stop()
        await asyncio.wait_for(task, 30)
    finally:
        slow.stop()
    assert len(slow.received) == 1  # the one on its way ended (well within the grace), and no other began
    assert len(undelivered(engine)) == len(sent) - 1


@pytest.mark.parametrize(
    ("public_url", "sent_log_url"),
    [(None, "/v1/connect/links/0f1e"), ("https://ats.example.com", "https://ats.example.com/v1/connect/links/0f1e")],
)
async def test_a_public_url_makes_the_log_url_absolute(
    engine: Engine, receiver: Receiver, public_url: str | None, sent_log_url: str
) -> None:
    environment = make_environment(engine, receiver.url)
    end_user = events.EndUser("Acme GmbH", "hr@acme.example", None)
    with engine.begin() as conn:
        event_id = enqueue(
            conn,
            environment_id=environment.id,
            integration_id=None,
            type=EventType.CONNECTION_FLOW_FAILED,
            data=events.connection_flow_failed(end_user=end_user, log_url="/v1/connect/links/0f1e"),
            now=T0,
        )
    assert await deliver(engine, T0, public_url=public_url) == 1
    (delivery,) = receiver.received
    assert delivery.json()["data"]["log_url"] == sent_log_url
    assert outbox_row(engine, event_id).payload["log_url"] == "/v1/connect/links/0f1e", "stored as a path"


async def test_an_attempt_ends_after_its_timeout_though_the_receiver_trickles_bytes(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """httpx's timeout is per read: a receiver sending a byte now and then held an attempt open past its batch's lease,
    when another process sent the event again. The whole attempt ends after ``TIMEOUT_SECONDS``, recorded failed."""
    monkeypatch.setattr(delivery, "TIMEOUT_SECONDS", 1.0)
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))

    def trickle() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nX-Pad: ")
            while not stop.wait(0.2):
                with contextlib.suppress(OSError):
                    connection.sendall(b"a")

    server = threading.Thread(target=trickle, daemon=True)
    server.start()
    try:
        environment = make_environment(engine, f"http://127.0.0.1:{listener.getsockname()[1]}/hooks")
        (event_id,) = emit(engine, environment, 1, start=datetime.now(UTC))
        started = time.monotonic()
        await asyncio.wait_for(deliver(engine, datetime.now(UTC) + timedelta(seconds=1)), 10)  # not for ever
        took = time.monotonic() - started
    finally:
        stop.set()
        listener.close()
        server.join(5)
    assert took < 3, f"the attempt took {took:.1f} s"
    (attempt,) = attempts_of(engine, event_id)
    assert attempt.error == "no complete answer within 1 s"
    assert outbox_row(engine, event_id).delivered_at is None
