"""Event payloads: each type, as delivered over HTTP, validates with the kombo SDK's webhook payload model."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from kombo import models as sdk
from pydantic import BaseModel
from sqlalchemy import Engine

from atsbridge.store.credentials import RecruCredentials
from atsbridge.store.integrations import create_integration
from atsbridge.unified.ids import ModelName
from atsbridge.webhooks import events
from atsbridge.webhooks.events import EndUser, EventType
from atsbridge.webhooks.outbox import end_user_of, enqueue
from integration.webhooks.conftest import KEY, T0, Receiver, deliver, make_environment

END_USER = EndUser("Acme GmbH", "hr@acme.example", None)

PAYLOADS: dict[EventType, tuple[type[BaseModel], dict[str, Any]]] = {
    EventType.DATA_CHANGED: (
        sdk.DataChangedWebhookPayload,
        events.data_changed("recruhr:x", [ModelName.CANDIDATES, ModelName.JOBS_USERS, ModelName.CANDIDATES]),
    ),
    EventType.SYNC_FINISHED: (
        sdk.SyncFinishedWebhookPayload,
        events.sync_finished(
            integration_id="recruhr:x",
            end_user=END_USER,
            sync_id="sync1",
            sync_state="SUCCEEDED",
            started_at=T0,
            ended_at=T0 + timedelta(seconds=83, milliseconds=600),
            log_url="http://127.0.0.1:8000/v1/integrations/recruhr:x/syncs",
        ),
    ),
    EventType.INTEGRATION_CREATED: (
        sdk.IntegrationCreatedWebhookPayload,
        events.integration_created(integration_id="recruhr:x", end_user=END_USER),
    ),
    EventType.INTEGRATION_DELETED: (
        sdk.IntegrationDeletedWebhookPayload,
        events.integration_deleted(integration_id="recruhr:x", end_user=END_USER, deleted_at=T0),
    ),
    EventType.INTEGRATION_STATE_CHANGED: (
        sdk.IntegrationStateChangedWebhookPayload,
        events.integration_state_changed(
            integration_id="recruhr:x", end_user=END_USER, state="INVALID", setup_status="COMPLETED", updated_at=T0
        ),
    ),
    EventType.CONNECTION_FLOW_FAILED: (
        sdk.ConnectionFlowFailedWebhookPayload,
        events.connection_flow_failed(end_user=END_USER, log_url="/v1/connect/links/0f1e"),
    ),
}


async def test_every_event_type_arrives_as_the_sdk_models_it(engine: Engine, receiver: Receiver) -> None:
    assert set(PAYLOADS) == set(EventType)
    environment = make_environment(engine, receiver.url)
    with engine.begin() as conn:
        sent = {
            enqueue(conn, environment_id=environment.id, integration_id="recruhr:x", type=event_type, data=data, now=T0)
            for event_type, (_, data) in PAYLOADS.items()
        }
    assert await deliver(engine, T0) == len(PAYLOADS)

    assert set(receiver.ids) == sent
    for delivery in receiver.received:
        body = delivery.json()
        model, data = PAYLOADS[EventType(body["type"])]
        parsed = model.model_validate(body)
        assert as_instants(parsed.model_dump(mode="json")["data"]) == as_instants(data)  # nothing lost or altered
        assert body == {"id": body["id"], "type": body["type"], "data": data}


def as_instants(value: Any) -> Any:
    """``value`` with every ISO 8601 date-time string read as the instant it names (the SDK writes them back in
    pydantic's style, ``…:00Z``, we write ``…:00.000Z``: the same instant)."""
    if isinstance(value, dict):
        return {key: as_instants(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_instants(item) for item in value]
    if isinstance(value, str) and len(value) >= 20 and value[10:11] == "T":
        return datetime.fromisoformat(value)
    return value


def test_payload_details() -> None:
    changed = PAYLOADS[EventType.DATA_CHANGED][1]
    assert changed["changed_models"] == [{"name": "ats_candidates"}, {"name": "ats_join_jobs_users"}]
    assert changed["integration_tool"] == "recruhr"
    assert changed["integration_category"] == "ATS"
    finished = PAYLOADS[EventType.SYNC_FINISHED][1]
    assert finished["sync_duration_seconds"] == 84
    assert finished["sync_started_at"] == "2026-03-01T12:00:00.000Z"  # as every datetime the API sends
    assert finished["end_user"] == {
        "organization_name": "Acme GmbH",
        "creator_email": "hr@acme.example",
        "origin_id": None,
    }
    assert PAYLOADS[EventType.INTEGRATION_DELETED][1]["deleted_at"] == "2026-03-01T12:00:00.000Z"
    assert len({events.new_event_id() for _ in range(1000)}) == 1000


@pytest.mark.parametrize(("field", "value"), [("state", "DISABLED"), ("setup_status", "DONE"), ("qa_status", "OK")])
def test_closed_enums_are_checked_at_the_source(field: str, value: str) -> None:
    arguments: dict[str, Any] = {"state": "ACTIVE", "setup_status": "COMPLETED", "qa_status": "PASSED", field: value}
    with pytest.raises(ValueError, match=field):
        events.integration_state_changed(integration_id="recruhr:x", end_user=END_USER, updated_at=T0, **arguments)


def test_end_user_of_an_integration(engine: Engine) -> None:
    environment = make_environment(engine, "https://example.invalid/hook")
    with engine.begin() as conn:
        integration_id = create_integration(
            conn,
            KEY,
            environment_id=environment.id,
            tenant_url="https://acme.recru.example",
            credentials=RecruCredentials("api@acme.example", "secret"),
            end_user_email="",
            end_user_organization_name="Acme GmbH",
            end_user_origin_id="acme-1",
        )
        end_user = end_user_of(conn, integration_id)
    assert end_user.as_json() == {"organization_name": "Acme GmbH", "creator_email": None, "origin_id": "acme-1"}
