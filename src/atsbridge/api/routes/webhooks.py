"""The environment's webhook endpoint (bearer only): ``GET /v1/webhook`` and ``PUT /v1/webhook`` → ``{url, secret}``.

Beyond Kombo, where webhooks are configured in the dashboard. ``PUT`` creates the signing secret on first use and
keeps it when only the URL changes; ``rotate_secret: true`` replaces it. Before any ``PUT``, both are ``null``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from cryptography.exceptions import InvalidTag
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from atsbridge.api.auth import Caller, caller, store
from atsbridge.api.errors import ApiError, invalid_input
from atsbridge.api.responses import success
from atsbridge.api.strict_json import StrictJsonRoute
from atsbridge.unified import models
from atsbridge.unified.inputs import StorableText
from atsbridge.webhooks.endpoint import InvalidWebhookUrl, set_webhook, webhook_of

router = APIRouter(route_class=StrictJsonRoute, tags=["Webhooks"])


class WebhookInput(StorableText):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="Where events are POSTed: an absolute http:// or https:// URL")
    rotate_secret: StrictBool = Field(False, description="Replace the signing secret with a new one (true or false)")


class WebhookConfig(BaseModel):
    url: str | None = Field(description="Where events are POSTed; null before one is set")
    secret: str | None = Field(description="The signing secret (`whsec_…`); null before a URL is set")


def _key(request: Request) -> bytes:
    key: bytes = request.app.state.settings.encryption_key
    return key


SECRET_UNREADABLE = (
    "The environment's stored webhook secret cannot be decrypted: this process's secret key (ATSBRIDGE_SECRET_KEY, "
    "or secret.key in its data dir) is not the one it was saved with; every API process and worker must use the "
    "same one."
)


@router.get("/webhook", response_model=models.DataResponse[WebhookConfig], summary="Show the webhook endpoint.")
def get_webhook(request: Request, who: Annotated[Caller, Depends(caller)]) -> Response:
    try:
        with store(request).connect() as conn:
            endpoint = webhook_of(conn, _key(request), who.environment_id)
    except InvalidTag:
        raise ApiError("PLATFORM.UNKNOWN_ERROR", SECRET_UNREADABLE) from None
    return success(asdict(endpoint) if endpoint else {"url": None, "secret": None})


@router.put("/webhook", response_model=models.DataResponse[WebhookConfig], summary="Set the webhook endpoint.")
def put_webhook(request: Request, body: WebhookInput, who: Annotated[Caller, Depends(caller)]) -> Response:
    try:
        with store(request).begin() as conn:
            secret = set_webhook(conn, _key(request), who.environment_id, body.url, rotate_secret=body.rotate_secret)
    except InvalidWebhookUrl as error:
        raise invalid_input(str(error)) from error
    except InvalidTag:
        raise ApiError("PLATFORM.UNKNOWN_ERROR", SECRET_UNREADABLE) from None
    return success({"url": body.url, "secret": secret})
