"""API keys: shown once at creation, stored only as a SHA-256 digest (they are long random secrets, so a fast
digest is enough), each tied to one environment; listed by their id and first characters, revoked by their id."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, insert, select

from atsbridge.store.integrations import new_id
from atsbridge.store.tables import api_keys, environments
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


@dataclass(frozen=True)
class ListedKey:
    id: str
    environment: str
    prefix: str
    created_at: datetime


def list_api_keys(conn: Connection, environment_id: str | None = None) -> list[ListedKey]:
    """Every key (of one environment, if given), oldest first: its id, environment name and first characters."""
    query = (
        select(api_keys.c.id, environments.c.name, api_keys.c.prefix, api_keys.c.created_at)
        .join(environments, environments.c.id == api_keys.c.environment_id)
        .order_by(api_keys.c.created_at, api_keys.c.id)
    )
    if environment_id is not None:
        query = query.where(api_keys.c.environment_id == environment_id)
    return [ListedKey(*row) for row in conn.execute(query)]


def revoke_api_key(conn: Connection, key_id: str) -> bool:
    """Delete the key: the next request made with it is refused (401). False if there is no such key."""
    return conn.execute(delete(api_keys).where(api_keys.c.id == key_id)).rowcount == 1
