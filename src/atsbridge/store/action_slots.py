"""The slots of the actions in flight per integration, kept in the store so that every API process sharing it
counts the same actions (unified-api §5: at most 30 per integration).

A slot is a row taken under the integration's row lock (``claim_integration``: on SQLite the write lock), so two
processes cannot both take the last one; it is given back when its action ends. A slot whose process died before
giving it back lapses at its ``expires_at``, set past the longest an action can hold one.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import Connection, delete, func, insert, select

from atsbridge.store.integrations import claim_integration
from atsbridge.store.tables import action_slots


class NoSlot(Enum):
    FULL = "full"
    INTEGRATION_GONE = "integration gone"


def take_slot(conn: Connection, integration_id: str, *, limit: int, now: datetime, lease: timedelta) -> str | NoSlot:
    """A slot's id for an action of the integration, held until ``now + lease`` at the latest; or why there is none
    (``limit`` slots are taken, or the integration is gone). Call it in its own transaction: it holds the
    integration's row lock to its end."""
    if not claim_integration(conn, integration_id):
        return NoSlot.INTEGRATION_GONE
    of_integration = action_slots.c.integration_id == integration_id
    conn.execute(delete(action_slots).where(of_integration, action_slots.c.expires_at <= now))
    taken = conn.execute(select(func.count()).select_from(action_slots).where(of_integration)).scalar_one()
    if taken >= limit:
        return NoSlot.FULL
    slot_id = secrets.token_hex(16)
    conn.execute(insert(action_slots).values(integration_id=integration_id, id=slot_id, expires_at=now + lease))
    return slot_id


def give_back(conn: Connection, integration_id: str, slot_id: str) -> None:
    """Free the slot (nothing if it lapsed and was taken away meanwhile)."""
    conn.execute(
        delete(action_slots).where(action_slots.c.integration_id == integration_id, action_slots.c.id == slot_id)
    )
