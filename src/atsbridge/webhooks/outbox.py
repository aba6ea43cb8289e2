"""The webhook outbox: events are written in the transaction of the change that caused them, delivered later.

``enqueue`` inserts one ``webhook_outbox`` row on the caller's connection, so the event commits or rolls back with
the change. The row keeps the event's ``data`` in ``payload``; the envelope is assembled from ``id``, ``type`` and
``payload`` when it is sent.

State of a row: *due* while ``delivered_at`` is NULL and ``next_attempt_at`` is set; *delivered* once
``delivered_at`` is set; *dead* when both are NULL, with ``last_error`` saying why. An event of an environment
without a webhook URL is recorded dead at once ("no webhook URL"): it is kept for inspection but never sent, not even
after a URL is set later, so nothing waits on it and nothing retries it (as with Kombo, only events that happen while
an endpoint is configured are delivered). Delivered and dead events are forgotten, with their attempts, after
``EVENT_HISTORY`` (``forget_old_events``: the hourly housekeeping); they hold personal data (an end user's e-mail).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, insert, select

from atsbridge.store.tables import environments, integrations, webhook_outbox
from atsbridge.webhooks.events import EndUser, EventType, JsonObject, new_event_id

NO_WEBHOOK_URL = "not delivered: the environment had no webhook URL when the event occurred"
EVENT_HISTORY = timedelta(days=30)


def forget_old_events(conn: Connection, now: datetime) -> int:
    """Delete the events delivered or given up (nothing left to send) that occurred over ``EVENT_HISTORY`` ago, with
    their attempts; returns how many."""
    outbox = webhook_outbox.c
    finished = outbox.next_attempt_at.is_(None)
    return conn.execute(delete(webhook_outbox).where(finished, outbox.created_at < now - EVENT_HISTORY)).rowcount


def enqueue(
    conn: Connection,
    *,
    environment_id: str,
    integration_id: str | None,
    type: EventType,
    data: JsonObject,
    now: datetime | None = None,
) -> str:
    """Record event ``type`` with ``data`` (from a builder in ``webhooks.events``) for delivery; returns its id.
    ``integration_id`` is ``None`` for an event that outlives its integration (``integration-deleted``) or comes
    before there is one (``connection-flow-failed``)."""
    now = now or datetime.now(UTC)
    url = conn.execute(select(environments.c.webhook_url).where(environments.c.id == environment_id)).scalar()
    event_id = new_event_id()
    conn.execute(
        insert(webhook_outbox).values(
            id=event_id,
            environment_id=environment_id,
            integration_id=integration_id,
            type=EventType(type).value,
            payload=data,
            created_at=now,
            attempts=0,
            next_attempt_at=now if url else None,
            last_error=None if url else NO_WEBHOOK_URL,
        )
    )
    return event_id


def end_user_of(conn: Connection, integration_id: str) -> EndUser:
    """The ``end_user`` of an integration's events (read it before deleting the integration)."""
    row = conn.execute(
        select(
            integrations.c.end_user_organization_name,
            integrations.c.end_user_email,
            integrations.c.end_user_origin_id,
        ).where(integrations.c.id == integration_id)
    ).one()
    return EndUser(row.end_user_organization_name, row.end_user_email, row.end_user_origin_id)
