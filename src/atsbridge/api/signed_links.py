"""Short-lived signed download links for attachments: the link itself is the permission (HMAC-SHA256 over the
integration, the RECRU attachment id, its jobseeker's id and the expiry), so a browser or a plain HTTP client can
fetch it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

LINK_LIFETIME_SECONDS = 15 * 60


@dataclass(frozen=True)
class LinkTarget:
    integration_id: str
    attachment_remote_id: int
    candidate_remote_id: int
    """The jobseeker RECRU holds the file under: served no longer, its files are not either."""


def _signing_key(secret: bytes) -> bytes:
    return hmac.new(secret, b"atsbridge attachment links", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(secret: bytes, target: LinkTarget, now: float | None = None) -> str:
    expires = int((now if now is not None else time.time()) + LINK_LIFETIME_SECONDS)
    fields = [target.integration_id, target.attachment_remote_id, target.candidate_remote_id, expires]
    payload = _b64(json.dumps(fields).encode())
    signature = _b64(hmac.new(_signing_key(secret), payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{signature}"


def verify(secret: bytes, token: str, now: float | None = None) -> LinkTarget | None:
    """The target of a valid, unexpired token; ``None`` otherwise."""
    payload, _, signature = token.partition(".")
    expected = _b64(hmac.new(_signing_key(secret), payload.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(signature.encode(), expected.encode()):  # bytes: any text a client sends
        return None
    try:
        integration_id, remote_id, candidate_remote_id, expires = json.loads(_unb64(payload))
    except (ValueError, TypeError):
        return None
    if expires < (now if now is not None else time.time()):
        return None
    return LinkTarget(str(integration_id), int(remote_id), int(candidate_remote_id))
