"""Attachments, live from RECRU (they are not synced): the lists of a candidate or an application, each file with
a short-lived signed link served by ``GET /v1/attachment-downloads/{token}``."""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import Engine, select

from atsbridge.api.auth import readable_integration, refused, store
from atsbridge.api.errors import ApiError
from atsbridge.api.lookups import remote_id_of, serves_candidate
from atsbridge.api.public_base import public_base
from atsbridge.api.remote_errors import remote_error
from atsbridge.api.responses import json_response
from atsbridge.api.signed_links import LinkTarget, sign, verify
from atsbridge.api.strict_json import StrictJsonRoute
from atsbridge.connectors.recru.errors import RecruAuthError, RecruError, RecruNotFound
from atsbridge.store import tables
from atsbridge.store.integrations import Integration, load_integration, tracked_application_ids
from atsbridge.store.reader import ts
from atsbridge.sync.runner import record_login_verdict
from atsbridge.unified import models
from atsbridge.unified.ids import ModelName, attachment_id, model_id
from atsbridge.unified.models import action_payload

router = APIRouter(route_class=StrictJsonRoute, tags=["ATS"])
downloads = APIRouter(route_class=StrictJsonRoute, tags=["Attachments"])

ATTACHMENT_TYPES = {"cv": "CV", "cover_letter": "COVER_LETTER"}


async def _attachments(
    request: Request, integration_: Integration, params: dict[str, int], *, application_stored: bool = True
) -> Response:
    """The attachments RECRU lists for ``params``; without ``application_stored``, the application (named by
    ``remote:``, not synced yet) is first read from RECRU for its candidate."""
    served = await asyncio.to_thread(_served_applications, store(request), integration_)
    pool = request.app.state.clients
    try:
        client = await pool.client(integration_)
        if not application_stored:
            application = await client.call("ApplicationService.get", {"id": params["applicationId"]})
            params = {**params, "jobseekerId": int(application["jobseekerId"])}
        items = await client.list_all("AttachmentService.list", params)
    except RecruNotFound as error:
        raise ApiError("PLATFORM.INPUT_INVALID", f"RECRU has no such record ({error}).", status=404) from error
    except RecruError as error:
        await _judge_login(request, integration_, error)
        raise remote_error(error) from error
    await _judge_login(request, integration_, None)
    secret = request.app.state.settings.encryption_key
    base = public_base(request)
    results = [_attachment(integration_.id, item, secret, base, served) for item in items]
    return json_response(action_payload({"results": results}))


async def _judge_login(request: Request, integration_: Integration, failure: RecruError | None) -> None:
    """What a live read showed of the integration's login moves its status, as an action's or a sync's would: a
    refusal makes it INVALID, an answer ACTIVE again; any other failure tells nothing."""
    if failure is None or isinstance(failure, RecruAuthError):
        await asyncio.to_thread(record_login_verdict, store(request), integration_, failure is None)


def _served_applications(engine: Engine, integration_: Integration) -> set[str] | None:
    """RECRU ids of the applications the API serves, where it serves only some (the tracked ones); else None."""
    if not integration_.sync_only_created_applications:
        return None
    with engine.connect() as conn:
        return set(tracked_application_ids(conn, integration_.id))


def _attachment(
    integration_id: str, item: dict[str, Any], secret: bytes, base: str, served: set[str] | None
) -> dict[str, Any]:
    """An attachment as served; one linked to an application the API does not serve is the candidate's only."""
    token = sign(secret, LinkTarget(integration_id, int(item["id"]), int(item["jobseekerId"])))
    application = item.get("applicationId")
    if served is not None and str(application) not in served:
        application = None
    created = item.get("createdAt")
    return {
        "id": attachment_id(integration_id, item["id"]),
        "remote_id": str(item["id"]),
        "candidate_id": model_id(integration_id, ModelName.CANDIDATES, item["jobseekerId"]),
        "application_id": None
        if application is None
        else model_id(integration_id, ModelName.APPLICATIONS, application),
        "type": ATTACHMENT_TYPES.get(item.get("type") or "", "OTHER"),
        "data_url": f"{base}/v1/attachment-downloads/{token}",
        "file_name": item.get("fileName") or f"attachment-{item['id']}",
        "content_type": item.get("contentType") or "application/octet-stream",
        "remote_created_at": created and ts(datetime.fromisoformat(created)),
        "remote_updated_at": created and ts(datetime.fromisoformat(created)),
    }


@router.get(
    "/ats/candidates/{candidate_id}/attachments",
    response_model=models.AttachmentsResponse,
    summary="Attachments of a candidate, live from RECRU.",
)
async def candidate_attachments(
    request: Request, candidate_id: str, integration_: Annotated[Integration, Depends(readable_integration)]
) -> Response:
    remote = remote_id_of(store(request), integration_, ModelName.CANDIDATES, candidate_id)
    return await _attachments(request, integration_, {"jobseekerId": remote})


@router.get(
    "/ats/applications/{application_id}/attachments",
    response_model=models.AttachmentsResponse,
    summary="Attachments of an application, live from RECRU.",
)
async def application_attachments(
    request: Request, application_id: str, integration_: Annotated[Integration, Depends(readable_integration)]
) -> Response:
    remote = str(remote_id_of(store(request), integration_, ModelName.APPLICATIONS, application_id))
    with store(request).connect() as conn:
        candidate = conn.execute(
            select(tables.candidates.c.remote_id)
            .join(tables.applications, tables.applications.c.candidate_id == tables.candidates.c.id)
            .where(tables.applications.c.integration_id == integration_.id, tables.applications.c.remote_id == remote)
        ).scalar()
    if candidate is None:  # named by ``remote:`` and made in RECRU since the last sync (``remote_id_of``)
        return await _attachments(request, integration_, {"applicationId": int(remote)}, application_stored=False)
    return await _attachments(request, integration_, {"jobseekerId": int(candidate), "applicationId": int(remote)})


@downloads.head("/attachment-downloads/{token}", include_in_schema=False)  # the same answer without its body
@downloads.get(
    "/attachment-downloads/{token}",
    summary="Download an attachment through its signed link.",
    response_class=Response,
    responses={200: {"description": "The file, with RECRU's content type", "content": {"*/*": {}}}},
)
async def download(request: Request, token: str) -> Response:
    target = verify(request.app.state.settings.encryption_key, token)
    if target is None:
        raise refused("This download link is invalid or has expired.")
    with store(request).connect() as conn:
        found = load_integration(conn, target.integration_id)
    if found is None:
        raise ApiError("PLATFORM.INTEGRATION_NOT_FOUND", "The integration of this link no longer exists.")
    if not found.enabled:  # as every read of a disabled integration's data
        raise ApiError("INTEGRATION.INACTIVE", "The integration of this link is disabled; enable it to read its data.")
    if not await asyncio.to_thread(serves_candidate, store(request), found, target.candidate_remote_id):
        raise ApiError(  # hidden since the link was made ("sync only created applications" switched on)
            "PLATFORM.INPUT_INVALID", "The candidate of this file is not served by the integration.", status=404
        )
    try:
        client = await request.app.state.clients.client(found)
        file = await client.call("AttachmentService.download", {"id": target.attachment_remote_id})
    except RecruNotFound as error:
        raise ApiError("PLATFORM.INPUT_INVALID", "RECRU no longer has this attachment.", status=404) from error
    except RecruError as error:
        await _judge_login(request, found, error)
        raise remote_error(error) from error
    await _judge_login(request, found, None)
    headers = {  # the content type as RECRU gave it, no charset added (a text file's bytes are RECRU's)
        "Content-Type": file.get("contentType") or "application/octet-stream",
        "Content-Disposition": _disposition(str(file.get("fileName") or "attachment")),
    }
    return Response(base64.b64decode(file["data"]), headers=headers)


def _disposition(name: str) -> str:
    """``attachment`` with the file's name as RECRU holds it (RFC 6266: ``filename*`` in UTF-8, every byte outside
    the unreserved set escaped), and a plain ``filename`` of its printable ASCII for clients that know no other."""
    plain = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"
