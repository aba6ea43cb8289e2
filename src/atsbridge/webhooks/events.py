"""Webhook events as Kombo sends them: the envelope ``{id, type, data}`` and one builder per event type for ``data``.

The shapes follow the ``kombo`` SDK's webhook payload models (``DataChangedWebhookPayload``,
``SyncFinishedWebhookPayload``, ``IntegrationCreatedWebhookPayload``, ``IntegrationDeletedWebhookPayload``,
``IntegrationStateChangedWebhookPayload``, ``ConnectionFlowFailedWebhookPayload``): every key present (``null``
where allowed), datetimes as ISO 8601 UTC with ``Z``, closed enums checked here so that a wrong value fails at the
source rather than in a client's parser.
Builders are pure: they return JSON-ready dicts for ``outbox.enqueue``; the event id is given there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from atsbridge.store.integrations import new_id
from atsbridge.unified.ids import ModelName
from atsbridge.unified.models import format_datetime

INTEGRATION_TOOL = "recruhr"
INTEGRATION_CATEGORY = "ATS"
INTEGRATION_STATES = ("ACTIVE", "INVALID", "INACTIVE")
SETUP_STATUSES = ("INCOMPLETE", "FINAL_SYNC_PENDING", "COMPLETED")
QA_STATUSES = ("PENDING", "FAILED", "PASSED")

JsonObject = dict[str, Any]


class EventType(StrEnum):
    """The ``type`` of an event."""

    DATA_CHANGED = "data-changed"
    SYNC_FINISHED = "sync-finished"
    INTEGRATION_CREATED = "integration-created"
    INTEGRATION_DELETED = "integration-deleted"
    INTEGRATION_STATE_CHANGED = "integration-state-changed"
    CONNECTION_FLOW_FAILED = "connection-flow-failed"


@dataclass(frozen=True)
class EndUser:
    """The organisation that connected an integration, or that a connect link is for (``end_user`` in events)."""

    organization_name: str
    creator_email: str | None
    origin_id: str | None

    def as_json(self) -> JsonObject:
        return {
            "organization_name": self.organization_name,
            "creator_email": self.creator_email or None,
            "origin_id": self.origin_id or None,
        }


def new_event_id() -> str:
    """A fresh random event id (24 base58 characters); receivers de-duplicate on it."""
    return new_id()


def envelope(event_id: str, event_type: EventType | str, data: JsonObject) -> JsonObject:
    """The body posted to the receiver."""
    return {"id": event_id, "type": str(event_type), "data": data}


def _one_of(value: str, allowed: tuple[str, ...], field: str) -> str:
    if value not in allowed:
        raise ValueError(f"{field} {value!r} is not one of {', '.join(allowed)}")
    return value


def _integration_fields(integration_id: str) -> JsonObject:
    return {
        "integration_id": integration_id,
        "integration_tool": INTEGRATION_TOOL,
        "integration_category": INTEGRATION_CATEGORY,
    }


def data_changed(integration_id: str, changed_models: Iterable[ModelName]) -> JsonObject:
    """``data-changed``: records of these models or joins were created, updated or deleted (each named once)."""
    names = sorted({model.value for model in changed_models})
    return {**_integration_fields(integration_id), "changed_models": [{"name": name} for name in names]}


def sync_finished(
    *,
    integration_id: str,
    end_user: EndUser,
    sync_id: str,
    sync_state: str,
    started_at: datetime,
    ended_at: datetime,
    log_url: str,
) -> JsonObject:
    """``sync-finished``: a sync run ended (``sync_state`` e.g. ``SUCCEEDED`` or ``FAILED``)."""
    return {
        "sync_id": sync_id,
        "sync_state": sync_state,
        "sync_started_at": format_datetime(started_at),
        "sync_ended_at": format_datetime(ended_at),
        "sync_duration_seconds": max(0, round((ended_at - started_at).total_seconds())),
        **_integration_fields(integration_id),
        "end_user": end_user.as_json(),
        "log_url": log_url,
    }


def integration_created(*, integration_id: str, end_user: EndUser) -> JsonObject:
    """``integration-created``: an end user connected a RECRU tenant."""
    return {
        "id": integration_id,
        "tool": INTEGRATION_TOOL,
        "category": INTEGRATION_CATEGORY,
        "end_user": end_user.as_json(),
    }


def integration_deleted(*, integration_id: str, end_user: EndUser, deleted_at: datetime) -> JsonObject:
    """``integration-deleted``: the integration and its data are gone (build it before deleting the row)."""
    return {
        **integration_created(integration_id=integration_id, end_user=end_user),
        "deleted_at": format_datetime(deleted_at),
    }


def integration_state_changed(
    *,
    integration_id: str,
    end_user: EndUser,
    state: str,
    setup_status: str,
    updated_at: datetime,
    qa_status: str = "PASSED",
) -> JsonObject:
    """``integration-state-changed``: ``state`` (ACTIVE|INVALID|INACTIVE) or ``setup_status`` moved."""
    return {
        **_integration_fields(integration_id),
        "end_user": end_user.as_json(),
        "qa_status": _one_of(qa_status, QA_STATUSES, "qa_status"),
        "setup_status": _one_of(setup_status, SETUP_STATUSES, "setup_status"),
        "state": _one_of(state, INTEGRATION_STATES, "state"),
        "updated_at": format_datetime(updated_at),
    }


def connection_flow_failed(*, end_user: EndUser, log_url: str) -> JsonObject:
    """``connection-flow-failed``: an end user's attempt on the hosted connect page failed (no integration exists)."""
    return {
        "integration_tool": INTEGRATION_TOOL,
        "integration_category": INTEGRATION_CATEGORY,
        "end_user": end_user.as_json(),
        "log_url": log_url,
    }
