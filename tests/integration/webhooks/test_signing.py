"""Signatures of real deliveries, checked independently: Standard Webhooks by the ``standardwebhooks`` library, and
``X-Kombo-Signature`` by hand (HMAC-SHA256 keyed with the secret string, base64url without padding)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from atsbridge.webhooks import events
from atsbridge.webhooks.events import EventType
from atsbridge.webhooks.outbox import enqueue
from atsbridge.webhooks.signing import new_secret
from integration.webhooks.conftest import Receiver, deliver, make_environment


def test_secrets_are_standard_webhooks_secrets() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert new_secret() != secret


async def test_deliveries_verify_independently(engine: Engine, receiver: Receiver) -> None:
    environment = make_environment(engine, receiver.url)
    with engine.begin() as conn:
        data = events.integration_created(
            integration_id="recruhr:ä", end_user=events.EndUser("Müller & Söhne", None, None)
        )
        event_id = enqueue(
            conn,
            environment_id=environment.id,
            integration_id="recruhr:ä",
            type=EventType.INTEGRATION_CREATED,
            data=data,
        )
    assert await deliver(engine, datetime.now(UTC)) == 1
    (delivery,) = receiver.received
    headers = {name.lower(): value for name, value in delivery.headers.items()}

    assert Webhook(environment.secret).verify(delivery.body, headers)["id"] == event_id
    assert headers["webhook-id"] == event_id
    assert headers["content-type"] == "application/json"
    with pytest.raises(WebhookVerificationError):
        Webhook(environment.secret).verify(delivery.body + b" ", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(delivery.body, headers)

    expected = hmac.new(environment.secret.encode(), delivery.body, hashlib.sha256).digest()
    kombo = headers["x-kombo-signature"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", kombo), "base64url of 32 bytes without '=' padding"
    assert base64.urlsafe_b64decode(kombo + "=") == expected
