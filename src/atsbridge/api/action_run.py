"""How every write action runs: on an enabled integration only, within its 30 actions in flight and its
``Idempotency-Key``, its RECRU refusals answered with unified-api's codes, and what it shows of the integration's
login (refused, or accepted again) moving the integration's status; what it read back from RECRU is written through
to the store in one transaction, with the ``data-changed`` it makes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import Response
from sqlalchemy import Connection, Engine

from atsbridge.api.action_guard import request_hash
from atsbridge.api.auth import integration, store
from atsbridge.api.errors import ApiError, integration_not_found
from atsbridge.connectors.base import ActionRefused
from atsbridge.connectors.recru.client import RecruClient
from atsbridge.connectors.recru.mapping import Codebooks
from atsbridge.store.conflicts import in_transaction
from atsbridge.store.integrations import Integration, load_integration
from atsbridge.store.nested_marks import models_changed_since
from atsbridge.sync import refresh
from atsbridge.sync.runner import record_login_verdict
from atsbridge.unified import models
from atsbridge.unified.ids import ModelName
from atsbridge.webhooks import notify

LOGIN_REFUSED = ("INTEGRATION.AUTHENTICATION_INVALID", "INTEGRATION.PERMISSION_MISSING")


REFUSALS: dict[str, tuple[models.ErrorCode, int]] = {
    "job_not_found": ("PLATFORM.INPUT_INVALID", 404),
    "candidate_not_found": ("PLATFORM.INPUT_INVALID", 404),
    "job_closed": ("ATS.JOB_CLOSED", 409),
    "application_exists": ("ATS.APPLICATION_ALREADY_EXISTS", 409),
    "application_unclaimed": ("ATS.APPLICATION_ALREADY_EXISTS", 409),
    "stage_not_allowed": ("PLATFORM.INPUT_INVALID", 400),
    "input_invalid": ("PLATFORM.INPUT_INVALID", 400),
    "remote_input_invalid": ("REMOTE.INPUT_INVALID", 422),
}


IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", description="retries with the same key and body act once (24 h)")
]


def active_integration(found: Annotated[Integration, Depends(integration)]) -> Integration:
    """The caller's integration, if it is enabled: a disabled integration acts on nothing."""
    if not found.enabled:
        raise ApiError("INTEGRATION.INACTIVE", "The integration is disabled; enable it to act on its data.")
    return found


ActiveIntegration = Annotated[Integration, Depends(active_integration)]


def refused(refusal: ActionRefused) -> ApiError:
    code, status = REFUSALS[refusal.kind]
    return ApiError(code, refusal.message, status=status)


async def guarded(
    request: Request, integration_: Integration, key: str | None, action: Callable[[], Awaitable[Response]]
) -> Response:
    """Run an action within the integration's concurrency limit and its idempotency key; what it shows of the
    integration's login (refused, or accepted again) moves the integration's status, as a sync's would."""

    async def judged() -> Response:
        try:
            response = await action()
        except ApiError as error:
            if error.code in LOGIN_REFUSED:
                await asyncio.to_thread(record_login_verdict, store(request), integration_, False)
            raise
        except Exception:
            # deleted meanwhile: its RECRU client was closed and its rows went from under the action's writes
            if await asyncio.to_thread(_gone, store(request), integration_.id):
                raise integration_not_found(integration_.id) from None
            raise
        await asyncio.to_thread(record_login_verdict, store(request), integration_, True)
        return response

    fingerprint = request_hash(request.method, request.url.path, await request.body())
    async with request.app.state.action_slots.slot(integration_.id):
        response: Response = await request.app.state.idempotency.run(integration_.id, key, fingerprint, judged)
        return response


def _gone(engine: Engine, integration_id: str) -> bool:
    with engine.connect() as conn:
        return load_integration(conn, integration_id) is None


async def recru_client(request: Request, integration_: Integration) -> RecruClient:
    client: RecruClient = await request.app.state.clients.client(integration_)
    return client


ReadBack = tuple[ModelName, dict[int, dict[str, Any] | None], Codebooks | None]
"""What an action read back from RECRU: payloads of one model by RECRU id (``None``: not found), the codebooks a
job's mapping needs."""


def store_read_back(engine: Engine, integration_id: str, read_back: list[ReadBack], asked_at: datetime) -> None:
    """Store what the action read back (in the order given: what records refer to first) and tell clients what
    changed, in one transaction (done again if PostgreSQL ends it for a conflict with a sync's)."""

    def write(conn: Connection) -> None:
        started = datetime.now(UTC)
        for model, payloads, codebooks in read_back:
            refresh.store(conn, integration_id, model, payloads, codebooks, fetched_at=asked_at)
        notify.data_changed(conn, integration_id, models_changed_since(conn, integration_id, started))

    in_transaction(engine, write)
