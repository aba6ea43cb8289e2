"""Tag actions (unified-api §5): add an existing RECRU tag (matched by name) to a candidate, or remove one; the
candidate is read back and written through, so every following GET shows the change."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from atsbridge.api.action_run import (
    ActiveIntegration,
    IdempotencyKey,
    ReadBack,
    guarded,
    recru_client,
    refused,
    store_read_back,
)
from atsbridge.api.auth import store
from atsbridge.api.errors import ApiError
from atsbridge.api.lookups import holds_live_tag, remote_id_of
from atsbridge.api.remote_errors import remote_error, remote_error_telling
from atsbridge.api.responses import action_success
from atsbridge.api.strict_json import StrictJsonRoute
from atsbridge.connectors.base import ActionRefused
from atsbridge.connectors.recru import tags
from atsbridge.connectors.recru.client import RecruClient
from atsbridge.connectors.recru.errors import RecruError, RecruUnavailable
from atsbridge.store.integrations import Integration
from atsbridge.store.syncs import DELTA
from atsbridge.sync import refresh
from atsbridge.unified import models
from atsbridge.unified.ids import ModelName
from atsbridge.unified.inputs import TagBody

router = APIRouter(route_class=StrictJsonRoute, prefix="/ats", tags=["ATS actions"])


async def _tag_action(
    request: Request,
    integration_: Integration,
    candidate_ref: str,
    name: str,
    change: Callable[[RecruClient, int, str], Awaitable[dict[str, Any] | None]],
) -> Response:
    jobseeker_id = await asyncio.to_thread(
        remote_id_of, store(request), integration_, ModelName.CANDIDATES, candidate_ref
    )
    asked_at = datetime.now(UTC)  # when RECRU was asked what ``write`` stores; set again once the change is made

    def write(candidates: dict[int, dict[str, Any] | None], tag: dict[str, Any] | None = None) -> None:
        read_back: list[ReadBack] = [(ModelName.TAGS, {int(tag["id"]): tag}, None)] if tag else []
        read_back.append((ModelName.CANDIDATES, candidates, None))
        store_read_back(store(request), integration_.id, read_back, asked_at)

    changed = False
    try:
        client = await recru_client(request, integration_)
        tag = await change(client, jobseeker_id, name)
        changed = True
        asked_at = datetime.now(UTC)
        candidates = await refresh.fetch(client, ModelName.CANDIDATES, [jobseeker_id])
    except ActionRefused as refusal:
        if refusal.kind == "candidate_not_found":  # the store agrees with the refusal before the next sync
            await asyncio.to_thread(write, {jobseeker_id: None})
        elif refusal.kind == "remote_input_invalid" and await asyncio.to_thread(
            holds_live_tag, store(request), integration_, name
        ):  # the tag the store serves is gone from RECRU (and from its candidates): a sync brings the store up to date
            await request.app.state.syncs.request(integration_.id, DELTA)
        raise refused(refusal) from refusal
    except RecruError as error:
        # the tag call may have been carried out, its answer lost (not one RECRU refused before processing it)
        lost = isinstance(error, RecruUnavailable) and error.reached and error.method in tags.TAG_CALLS
        if not (changed or lost):  # failed before anything was sent: nothing to tell or to sync
            raise remote_error(error) from error
        raise await _tag_failure(request, integration_, error, changed) from error
    await asyncio.to_thread(write, candidates, tag)
    return action_success({}, [])


async def _tag_failure(request: Request, integration_: Integration, error: RecruError, changed: bool) -> ApiError:
    """The answer to a tag action RECRU failed once the tag call was sent: the change was made (then only reading the
    candidate back failed) or may have been (the tag call's answer was lost). Either way a DELTA sync is queued,
    which stores what RECRU holds; sending the action again is safe (adding or removing a tag twice changes
    nothing)."""
    await request.app.state.syncs.request(integration_.id, DELTA)
    done = (
        "RECRU made the change, but the candidate could not be read back"
        if changed
        else "RECRU may or may not have made the change"
    )
    return remote_error_telling(
        error,
        lambda why: (
            f"{done} ({why}). The next sync of the integration stores what RECRU holds; sending the same request "
            "again is safe."
        ),
    )


@router.post(
    "/candidates/{candidate_id}/tags",
    response_model=models.ActionResponse[models.EmptyData],
    summary="Add an existing RECRU tag (matched by name) to a candidate.",
)
async def add_tag(
    request: Request,
    candidate_id: str,
    body: TagBody,
    integration_: ActiveIntegration,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    async def act() -> Response:
        return await _tag_action(request, integration_, candidate_id, body.tag.name, tags.add_tag)

    return await guarded(request, integration_, idempotency_key, act)


@router.delete(
    "/candidates/{candidate_id}/tags",
    response_model=models.ActionResponse[models.EmptyData],
    summary="Remove a tag (by name) from a candidate; removing a tag it does not have succeeds.",
)
async def remove_tag(
    request: Request,
    candidate_id: str,
    body: Annotated[TagBody, Body()],
    integration_: ActiveIntegration,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    async def act() -> Response:
        return await _tag_action(request, integration_, candidate_id, body.tag.name, tags.remove_tag)

    return await guarded(request, integration_, idempotency_key, act)
