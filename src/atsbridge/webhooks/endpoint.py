"""Each environment's webhook endpoint: its URL and its signing secret, stored sealed with the environment id as
associated data (``store.credentials.seal``). The secret is made on the first ``set_webhook`` and kept when only the
URL changes; ``rotate_secret`` replaces it (deliveries from then on, retries included, are signed with the new one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
from sqlalchemy import Connection, select, update

from atsbridge.store.credentials import seal, unseal
from atsbridge.store.tables import environments
from atsbridge.webhooks.signing import new_secret

MAX_URL_LENGTH = 2048
MAX_PORT = 65535


@dataclass(frozen=True)
class WebhookEndpoint:
    url: str
    secret: str


class InvalidWebhookUrl(ValueError):
    """The URL is not an absolute http(s) URL with a host and a port in 1..65535."""


def validate_url(url: str) -> None:
    """Raise ``InvalidWebhookUrl`` unless ``url`` is an absolute ``http``/``https`` URL with a host (any host:
    loopback and private addresses too, for a receiver on the same network) and, if it names one, a port in 1..65535.
    """
    if not url or len(url) > MAX_URL_LENGTH or any(char.isspace() for char in url):
        raise InvalidWebhookUrl(f"the webhook URL must be 1 to {MAX_URL_LENGTH} characters without spaces")
    try:
        parsed = httpx.URL(url)
        host = parsed.host  # decoded only now: a host IDNA refuses (``xn--a``) raises a UnicodeError here
    except (httpx.InvalidURL, UnicodeError) as error:
        raise InvalidWebhookUrl(_invalid_url_message(url, error)) from error
    if parsed.scheme not in ("http", "https") or not host:
        raise InvalidWebhookUrl("the webhook URL must be an absolute http:// or https:// URL with a host")
    # httpx takes any number as the port; sending to one out of range would fail every attempt.
    if parsed.port is not None and not 1 <= parsed.port <= MAX_PORT:
        raise InvalidWebhookUrl(f"the webhook URL's port must be 1 to {MAX_PORT}, not {parsed.port}")


def _invalid_url_message(url: str, error: Exception) -> str:
    """Why ``url`` is not valid; for an IPv6 address outside brackets (or unclosed), say so rather than httpx's
    "Invalid port" (it takes everything after the first ``:`` for the port)."""
    host_and_port = re.split(r"[/?#]", url.partition("//")[2], maxsplit=1)[0].rpartition("@")[2]
    unclosed = "[" in host_and_port and "]" not in host_and_port
    if unclosed or ("[" not in host_and_port and host_and_port.count(":") > 1):
        return (
            f"the webhook URL's host {host_and_port!r} is not valid: "
            "an IPv6 address goes in square brackets, as in http://[::1]:8080/"
        )
    return f"the webhook URL is not valid: {error}"


def set_webhook(conn: Connection, key: bytes, environment_id: str, url: str, *, rotate_secret: bool = False) -> str:
    """Point the environment's webhooks at ``url``; returns the secret (new on the first call or when rotating).

    Raises ``InvalidWebhookUrl`` for a bad URL and ``LookupError`` for an unknown environment.
    """
    validate_url(url)
    # Written first, so the environment's row is this transaction's until it commits: a second first-time call
    # racing this one waits, then finds the secret made here, instead of both making one and one being lost.
    environment = environments.c.id == environment_id
    if conn.execute(update(environments).where(environment).values(webhook_url=url)).rowcount == 0:
        raise LookupError(f"no environment {environment_id!r}")
    blob = conn.execute(select(environments.c.webhook_secret_encrypted).where(environment)).scalar()
    if blob is not None and not rotate_secret:
        return open_secret(key, environment_id, blob)
    secret = new_secret()
    sealed = seal(key, environment_id, secret.encode())
    conn.execute(update(environments).where(environment).values(webhook_secret_encrypted=sealed))
    return secret


def webhook_of(conn: Connection, key: bytes, environment_id: str) -> WebhookEndpoint | None:
    """The environment's endpoint, or ``None`` if none is set (or the environment does not exist)."""
    url, blob = _stored(conn, environment_id) or (None, None)
    if url is None or blob is None:
        return None
    return WebhookEndpoint(url, open_secret(key, environment_id, blob))


def open_secret(key: bytes, environment_id: str, blob: bytes) -> str:
    """The clear secret of a sealed ``environments.webhook_secret_encrypted`` value."""
    return unseal(key, environment_id, blob).decode()


def _stored(conn: Connection, environment_id: str) -> tuple[str | None, bytes | None] | None:
    """The environment's ``(webhook_url, webhook_secret_encrypted)``, or ``None`` if it does not exist."""
    query = select(environments.c.webhook_url, environments.c.webhook_secret_encrypted)
    row = conn.execute(query.where(environments.c.id == environment_id)).one_or_none()
    return None if row is None else (row.webhook_url, row.webhook_secret_encrypted)
