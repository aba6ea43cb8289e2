"""Webhook secrets and signatures.

One secret per environment, ``whsec_`` + base64 of 32 random bytes (the Standard Webhooks format). Every delivery
carries two independent signatures over the exact body bytes sent:

- ``X-Kombo-Signature``: base64url of HMAC-SHA256 keyed with the secret *string* (UTF-8, prefix included), without
  ``=`` padding. That is what Kombo's receivers compute: their documented check is Node's
  ``createHmac('sha256', secret).update(rawBody).digest('base64url')``, and Node's base64url never pads.
- Standard Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``): ``v1,`` + base64 (padded) of
  HMAC-SHA256 over ``"{id}.{timestamp}.{body}"``, keyed with the base64-decoded part of the secret, so the
  ``standardwebhooks`` libraries verify deliveries (including their replay window on the timestamp) as they are.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
KOMBO_SIGNATURE_HEADER = "X-Kombo-Signature"


def new_secret() -> str:
    """A fresh secret: ``whsec_`` + base64 of ``SECRET_BYTES`` random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signing_key(secret: str) -> bytes:
    """The Standard Webhooks key of ``secret``: its base64 part, decoded."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)


def _hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def kombo_signature(secret: str, body: bytes) -> str:
    """The ``X-Kombo-Signature`` value of ``body``."""
    return base64.urlsafe_b64encode(_hmac_sha256(secret.encode(), body)).rstrip(b"=").decode()


def standard_signature(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value of ``body`` sent as event ``event_id`` at ``timestamp`` (Unix seconds)."""
    signed = f"{event_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(_hmac_sha256(signing_key(secret), signed)).decode()


def signature_headers(secret: str, event_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Every signature header of one delivery of ``body``."""
    return {
        KOMBO_SIGNATURE_HEADER: kombo_signature(secret, body),
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_signature(secret, event_id, timestamp, body),
    }
