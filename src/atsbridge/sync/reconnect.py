"""Reconnecting an integration: replacing its RECRU credentials (the API user, or its password, changed) through a
reconnection link or ``atsbridge integration relink``. The integration keeps its id, tenant, data and settings."""

from __future__ import annotations

from sqlalchemy import Connection

from atsbridge.store.credentials import RecruCredentials
from atsbridge.store.integrations import (
    claim_integration,
    load_integration,
    replace_credentials,
    set_integration_fields,
)
from atsbridge.store.syncs import DELTA, FULL
from atsbridge.sync.scheduler import queue_sync
from atsbridge.webhooks import notify


class IntegrationGone(Exception):
    """The integration to reconnect no longer exists."""


def reconnect(
    conn: Connection, key: bytes, integration_id: str, credentials: RecruCredentials
) -> tuple[str, str] | None:
    """Store ``credentials`` (checked with a real login already) for the integration; an INVALID one becomes ACTIVE
    (with ``integration-state-changed``), and an enabled one gets a sync queued to catch up (a DELTA, or a FULL if
    its first sync has not completed). Returns that sync's id and type."""
    if not claim_integration(conn, integration_id):
        raise IntegrationGone
    integration = load_integration(conn, integration_id)
    assert integration is not None  # its row is locked
    replace_credentials(conn, key, integration_id, credentials)
    if integration.status == "INVALID":
        set_integration_fields(conn, integration_id, status="ACTIVE")
        notify.integration_state_changed(conn, integration_id)
    if not integration.enabled:
        return None
    sync_type = DELTA if integration.setup_status == "COMPLETED" else FULL
    sync_id, _already = queue_sync(conn, integration_id, sync_type)
    return sync_id, sync_type
