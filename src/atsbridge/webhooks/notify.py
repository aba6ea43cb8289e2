"""The events of the product, each emitted on the connection (so in the transaction) of the change it reports.

Events about an integration belong to its environment; ``connection-flow-failed`` comes before any integration and
belongs to the connect link's environment, with the link's end user.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Connection

from atsbridge.store.connect_links import ConnectLink
from atsbridge.store.integrations import load_integration
from atsbridge.unified.ids import ModelName
from atsbridge.webhooks import events
from atsbridge.webhooks.events import EndUser, EventType
from atsbridge.webhooks.outbox import end_user_of, enqueue


def _emit(conn: Connection, integration_id: str, event_type: EventType, data: events.JsonObject) -> None:
    """Enqueue an event about an integration; an ``integration-deleted`` event keeps no link to it (so no row of
    the deleted integration remains)."""
    found = load_integration(conn, integration_id)
    if found is None:
        raise LookupError(integration_id)
    linked = None if event_type is EventType.INTEGRATION_DELETED else integration_id
    enqueue(conn, environment_id=found.environment_id, integration_id=linked, type=event_type, data=data)


def data_changed(conn: Connection, integration_id: str, models: Iterable[ModelName]) -> None:
    """``data-changed`` for the models that really changed (nothing when none did)."""
    changed = set(models)
    if changed:
        _emit(conn, integration_id, EventType.DATA_CHANGED, events.data_changed(integration_id, changed))


def sync_finished(
    conn: Connection, integration_id: str, sync_id: str, state: str, started_at: datetime, ended_at: datetime
) -> None:
    data = events.sync_finished(
        integration_id=integration_id,
        end_user=end_user_of(conn, integration_id),
        sync_id=sync_id,
        sync_state=state,
        started_at=started_at,
        ended_at=ended_at,
        log_url=f"/v1/integrations/{integration_id}/syncs",
    )
    _emit(conn, integration_id, EventType.SYNC_FINISHED, data)


def integration_created(conn: Connection, integration_id: str) -> None:
    data = events.integration_created(integration_id=integration_id, end_user=end_user_of(conn, integration_id))
    _emit(conn, integration_id, EventType.INTEGRATION_CREATED, data)


def integration_state_changed(conn: Connection, integration_id: str) -> None:
    """The integration's state as it is now (call it after changing ``status``, ``enabled`` or setup status)."""
    found = load_integration(conn, integration_id)
    if found is None:
        raise LookupError(integration_id)
    data = events.integration_state_changed(
        integration_id=integration_id,
        end_user=end_user_of(conn, integration_id),
        state=found.state,
        setup_status=found.setup_status,
        updated_at=datetime.now(UTC),
    )
    _emit(conn, integration_id, EventType.INTEGRATION_STATE_CHANGED, data)


def integration_deleted(conn: Connection, integration_id: str) -> None:
    """Call before deleting the integration; the event keeps no link to it (so no row of it remains)."""
    data = events.integration_deleted(
        integration_id=integration_id, end_user=end_user_of(conn, integration_id), deleted_at=datetime.now(UTC)
    )
    _emit(conn, integration_id, EventType.INTEGRATION_DELETED, data)


def connection_flow_failed(conn: Connection, link: ConnectLink) -> None:
    """An attempt through the connect link failed (record it with the failure it reports). ``log_url`` is the link's
    state in the API: its failed attempts, the last one's reason, whether it is locked."""
    data = events.connection_flow_failed(
        end_user=EndUser(link.end_user_organization_name, link.end_user_email, link.end_user_origin_id),
        log_url=f"/v1/connect/links/{link.token_hash}",
    )
    enqueue(
        conn, environment_id=link.environment_id, integration_id=None, type=EventType.CONNECTION_FLOW_FAILED, data=data
    )
