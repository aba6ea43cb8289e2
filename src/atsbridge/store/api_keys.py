"""API keys: shown once at creation, stored only as a SHA-256 digest (they are long random secrets, so a fast
digest is enough), each tied to one environment."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select

from atsbridge.store.integrations import new_id
from atsbridge.store.tables import api_keys
from atsbridge.unified.ids import BASE58_ALPHABET

KEY_PREFIX = "atsb_"
KEY_LENGTH = 40


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(conn: Connection, environment_id: str) -> str:
    """A new key for the environment; the only time the clear key exists is this return value."""
    key = KEY_PREFIX + "".join(secrets.choice(BASE58_ALPHABET) for _ in range(KEY_LENGTH))
    conn.execute(
        insert(api_keys).values(
            id=new_id(),
            environment_id=environment_id,
            key_hash=digest(key),
            prefix=key[: len(KEY_PREFIX) + 6],
            created_at=datetime.now(UTC),
        )
    )
    return key


def environment_of_key(conn: Connection, key: str) -> str | None:
    found = conn.execute(select(api_keys.c.environment_id).where(api_keys.c.key_hash == digest(key))).scalar()
    return None if found is None else str(found)
