"""Connection links in the store: created by ``POST /v1/connect/create-link``, opened by the hosted connect page.

A link's token is a long random secret that exists in clear only in the link; the store keeps its SHA-256 digest.
A link is used once: ``claim`` marks it used with the integration it created, in the transaction that creates the
integration, and only if it is still unused and unexpired (so two racing submissions create one integration). A
reconnection link (``relinks``) is claimed in the transaction that replaces its integration's credentials.
Afterwards the same token names that integration for ``GET /v1/connect/integration-by-token/{token}``.

Failed attempts (credentials refused, tenant unreachable or failing) are recorded by ``record_failure``, and refused
logins counted; at ``MAX_FAILED_ATTEMPTS`` of them the link is locked: the page refuses further attempts without
asking RECRU. The counting update only counts on an unused link below the cap, so concurrent failures never count
past it. One attempt at a time is checked per link (``begin_check`` / ``end_check``): otherwise parallel posts would
all ask RECRU before the first refusal was counted, guessing past the lock.

A link's public id (``GET /v1/connect/links/{id}``) is its token's digest, which does not reveal the token.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, Connection, func, insert, select, update

from atsbridge.store.tables import MODEL_TABLES, connect_links, integrations
from atsbridge.unified.ids import ModelName

TOKEN_BYTES = 32
LINK_LIFETIMES = {"EMBEDDED": timedelta(hours=1), "MAGIC_LINK": timedelta(days=365)}
MAX_FAILED_ATTEMPTS = 10
"""Refused logins after which a link is locked: room for typos, too few to guess a password through our page.
Other failures (a wrong address, RECRU unreachable or unavailable, no API access) are recorded but not counted, so
an outage never locks an honest user out."""
COUNTED_FAILURE = "LOGIN_FAILED"
CHECK_HOLD = timedelta(minutes=2)
"""How long one attempt holds its link at most: longer than a credential check can take (a retry after a 20 s read
timeout), short enough that an attempt whose process died frees the link soon."""

LinkState = Literal["OPEN", "USED", "LOCKED", "EXPIRED"]


@dataclass(frozen=True)
class ConnectLink:
    token_hash: str
    environment_id: str
    end_user_email: str
    end_user_organization_name: str
    end_user_origin_id: str | None
    language: str
    link_type: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    integration_id: str | None
    failed_attempts: int
    last_failed_at: datetime | None
    last_failure: str | None
    relinks: str | None
    """The integration whose credentials this link replaces (a reconnection link); None: it connects a new one."""
    check_until: datetime | None
    """Until when an attempt's credential check holds the link (``begin_check``); None: none does."""

    def being_checked(self, now: datetime) -> bool:
        return self.check_until is not None and self.check_until > now

    def state(self, now: datetime) -> LinkState:
        """OPEN (the form is shown) or why not: USED, LOCKED (too many failed attempts), EXPIRED."""
        if self.used_at is not None:
            return "USED"
        if self.failed_attempts >= MAX_FAILED_ATTEMPTS:
            return "LOCKED"
        return "EXPIRED" if now >= self.expires_at else "OPEN"


_LINK_COLUMNS = [connect_links.c[field.name] for field in fields(ConnectLink)]


@dataclass(frozen=True)
class ConnectedIntegration:
    """What ``integration-by-token`` answers: the integration a used link created."""

    id: str
    tool: str
    end_user_email: str | None
    end_user_organization_name: str
    end_user_origin_id: str | None
    setup_status: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_link(
    conn: Connection,
    *,
    environment_id: str,
    end_user_email: str,
    end_user_organization_name: str,
    end_user_origin_id: str | None,
    language: str,
    link_type: str,
    now: datetime,
    relinks: str | None = None,
) -> str:
    """A new link (``relinks``: to replace that integration's credentials); returns its token (the only time it
    exists in clear)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    conn.execute(
        insert(connect_links).values(
            token_hash=token_hash(token),
            environment_id=environment_id,
            end_user_email=end_user_email,
            end_user_organization_name=end_user_organization_name,
            end_user_origin_id=end_user_origin_id,
            language=language,
            link_type=link_type,
            created_at=now,
            expires_at=now + LINK_LIFETIMES[link_type],
            relinks=relinks,
        )
    )
    return token


def find_link(conn: Connection, token: str) -> ConnectLink | None:
    """The link of a token (the hosted page)."""
    return _one_link(conn, connect_links.c.token_hash == token_hash(token))


def link_of_environment(conn: Connection, link_id: str, environment_id: str) -> ConnectLink | None:
    """The link whose id (its token's digest) is ``link_id``, if it belongs to this environment (the API)."""
    if "\x00" in link_id:  # no id holds one, and PostgreSQL would refuse the query
        return None
    return _one_link(conn, connect_links.c.token_hash == link_id, connect_links.c.environment_id == environment_id)


def _one_link(conn: Connection, *where: ColumnElement[bool]) -> ConnectLink | None:
    row = conn.execute(select(*_LINK_COLUMNS).where(*where)).one_or_none()
    return None if row is None else ConnectLink(**row._asdict())


def claim(conn: Connection, link: ConnectLink, integration_id: str, now: datetime) -> bool:
    """Mark the link used by ``integration_id``; False if it was used meanwhile or has expired."""
    result = conn.execute(
        update(connect_links)
        .where(
            connect_links.c.token_hash == link.token_hash,
            connect_links.c.used_at.is_(None),
            connect_links.c.expires_at > now,
        )
        .values(used_at=now, integration_id=integration_id)
    )
    return result.rowcount == 1


def record_failure(conn: Connection, link: ConnectLink, problem: str, now: datetime) -> int | None:
    """Record a failed attempt on the link (``problem``: why it failed; only ``COUNTED_FAILURE`` counts towards the
    lock); returns the link's failed attempts now, or None if nothing was recorded because the link was used or
    locked meanwhile."""
    counted: int | None = conn.execute(
        update(connect_links)
        .where(
            connect_links.c.token_hash == link.token_hash,
            connect_links.c.used_at.is_(None),
            connect_links.c.failed_attempts < MAX_FAILED_ATTEMPTS,
        )
        .values(
            failed_attempts=connect_links.c.failed_attempts + (1 if problem == COUNTED_FAILURE else 0),
            last_failed_at=now,
            last_failure=problem,
        )
        .returning(connect_links.c.failed_attempts)
    ).scalar_one_or_none()
    return counted


def begin_check(conn: Connection, link: ConnectLink, now: datetime) -> str | None:
    """Hold the link for one attempt's credential check; the holder's token for ``end_check``, or None if another
    attempt holds it, or the link was used or locked meanwhile."""
    owner = secrets.token_hex(16)
    held = conn.execute(
        update(connect_links)
        .where(
            connect_links.c.token_hash == link.token_hash,
            connect_links.c.used_at.is_(None),
            connect_links.c.failed_attempts < MAX_FAILED_ATTEMPTS,
            (connect_links.c.check_until.is_(None)) | (connect_links.c.check_until <= now),
        )
        .values(check_owner=owner, check_until=now + CHECK_HOLD)
    ).rowcount
    return owner if held else None


def end_check(conn: Connection, link: ConnectLink, owner: str) -> None:
    """Free the link ``begin_check`` gave to ``owner`` (unless its hold ran out and another attempt has it)."""
    conn.execute(
        update(connect_links)
        .where(connect_links.c.token_hash == link.token_hash, connect_links.c.check_owner == owner)
        .values(check_owner=None, check_until=None)
    )


def integration_of_token(conn: Connection, token: str, environment_id: str) -> ConnectedIntegration | None:
    """The integration created through the link ``token`` of this environment; None if there is none (yet)."""
    row = conn.execute(
        select(
            integrations.c.id,
            integrations.c.tool,
            integrations.c.end_user_email,
            integrations.c.end_user_organization_name,
            integrations.c.end_user_origin_id,
            integrations.c.setup_status,
        )
        .join(connect_links, connect_links.c.integration_id == integrations.c.id)
        .where(
            connect_links.c.token_hash == token_hash(token),
            connect_links.c.environment_id == environment_id,
            integrations.c.environment_id == environment_id,
        )
    ).one_or_none()
    return None if row is None else ConnectedIntegration(**row._asdict())


def stored_counts(conn: Connection, integration_id: str) -> dict[ModelName, int]:
    """How many live records of each model the store holds for the integration (the first sync's progress)."""
    counts: dict[ModelName, int] = {}
    for model, table in MODEL_TABLES.items():
        query = select(func.count()).where(
            table.c.integration_id == integration_id, table.c.remote_deleted_at.is_(None)
        )
        counts[model] = int(conn.execute(query).scalar_one())
    return counts
