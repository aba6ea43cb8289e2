"""Integrations (unified-api §6): details with coverage, delete, enable/disable, settings, force-sync and the
list of recent syncs. General endpoints: errors carry only ``PLATFORM.*`` codes (§7)."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, ConfigDict, StrictBool, StringConstraints
from sqlalchemy import Engine

from atsbridge.api.auth import Caller, caller, integration, store
from atsbridge.api.errors import integration_not_found, invalid_input
from atsbridge.api.params import MAX_PAGE_SIZE, refuse_repeated
from atsbridge.api.responses import success
from atsbridge.api.routes.connect import ConnectLinkData, new_link
from atsbridge.api.strict_json import StrictJsonRoute
from atsbridge.connectors.recru import coverage
from atsbridge.connectors.recru.write_params import SOURCE_NAME_MAX
from atsbridge.store.db import drop_wal_history, erasing
from atsbridge.store.integrations import (
    Integration,
    SettingsApplied,
    apply_settings,
    change_enabled,
    claim_integration,
    delete_integration,
    load_integration,
)
from atsbridge.store.reader import decode_cursor, encode_cursor, ts
from atsbridge.store.syncs import FULL, recent_syncs
from atsbridge.unified.inputs import StorableText, printable, visible
from atsbridge.unified.models import DataResponse
from atsbridge.webhooks import notify

router = APIRouter(route_class=StrictJsonRoute, tags=["General"])
log = logging.getLogger("atsbridge.api")


class EnabledBody(BaseModel):
    value: StrictBool  # "no" or 0 is a mistake to report, not a value to guess


class RelinkBody(StorableText):
    """What ``create_reconnection_link`` of the SDK sends; ``scope_config_id`` is accepted and ignored."""

    model_config = ConfigDict(extra="ignore")

    language: Literal["en", "de", "fr", "it", "es"] | None = "en"
    link_type: Literal["EMBEDDED", "MAGIC_LINK"] | None = "EMBEDDED"
    scope_config_id: str | None = None


class SettingsBody(StorableText):
    model_config = ConfigDict(extra="forbid")
    sync_only_created_applications: StrictBool | None = None
    source_label: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, min_length=1, max_length=SOURCE_NAME_MAX),
            AfterValidator(printable),
            AfterValidator(visible),
        ]
        | None
    ) = None  # written as the RECRU source of every candidate created through us
    remote_data: StrictBool | None = None


SYNCS_PAGE_SIZE = 50


def _syncs_digest(integration_id: str) -> str:
    """What a cursor of the syncs list is bound to: its integration's list."""
    return f"syncs:{integration_id}"


class ForceSyncBody(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt ``type`` would otherwise queue a FULL
    type: Literal["FULL", "DELTA"] | None = None  # missing or null: FULL


def _own(request: Request, who: Caller, integration_id: str) -> Integration:
    with store(request).connect() as conn:
        found = load_integration(conn, integration_id, who.environment_id)
    if found is None:
        raise integration_not_found(integration_id)
    return found


def integration_details(found: Integration) -> dict[str, Any]:
    return {
        "id": found.id,
        "tool": coverage.TOOL,
        "category": "ATS",
        "status": found.state,
        "setup_status": found.setup_status,
        "end_user": {
            "organization_name": found.end_user_organization_name,
            "creator_email": found.end_user_email or None,
            "origin_id": found.end_user_origin_id,
        },
        "scope_config": {"id": "default", "name": "Default"},
        "data_expired_at": None,
        "created_at": ts(found.created_at),
        "beta": False,
        "read_models": coverage.read_models(remote_data=found.remote_data_enabled),
        "write_actions": coverage.write_actions(),
        "settings": _settings(found),
    }


def _settings(found: Integration) -> dict[str, Any]:
    return {
        "sync_only_created_applications": found.sync_only_created_applications,
        "source_label": found.source_label,
        "remote_data": found.remote_data_enabled,
    }


@router.get("/integrations/{integration_id}", summary="An integration, its state and what it covers.")
def get_integration(request: Request, integration_id: str, who: Annotated[Caller, Depends(caller)]) -> Response:
    return success(integration_details(_own(request, who, integration_id)))


@router.delete("/integrations/{integration_id}", summary="Delete an integration with all its data and credentials.")
async def remove_integration(
    request: Request,
    integration_id: str,
    who: Annotated[Caller, Depends(caller)],
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> Response:
    found = _own(request, who, integration_id)
    await asyncio.to_thread(_delete, store(request), found.id)
    await request.app.state.clients.forget(found.id)
    return success({})


def _delete(engine: Engine, integration_id: str) -> None:
    """On a worker thread, as every write of an ``async`` route: a sync's open transaction may hold SQLite's write lock
    for seconds, and waiting for it on the event loop would stall every request of the process. The data is erased
    from the files too (SQLite keeps deleted rows' bytes in free pages and in its log otherwise). Of concurrent
    deletions, one deletes and tells ``integration-deleted``; the others find it gone (404)."""
    with engine.begin() as conn, erasing(conn):
        if not claim_integration(conn, integration_id):
            raise integration_not_found(integration_id)
        notify.integration_deleted(conn, integration_id)
        delete_integration(conn, integration_id)
    if not drop_wal_history(engine):
        log.info("integration %s deleted; SQLite's log keeps old pages until its next checkpoint", integration_id)


@router.post(
    "/integrations/{integration_id}/relink",
    response_model=DataResponse[ConnectLinkData],
    summary="Create a link to the hosted page that replaces an integration's RECRU credentials (reconnects it).",
)
def create_relink(
    request: Request,
    integration_id: str,
    who: Annotated[Caller, Depends(caller)],
    body: Annotated[RelinkBody | None, Body()] = None,
) -> Response:
    found = _own(request, who, integration_id)
    body = body or RelinkBody()
    end_user = (found.end_user_email, found.end_user_organization_name, found.end_user_origin_id)
    link = new_link(
        request, who.environment_id, end_user=end_user, language=body.language, link_type=body.link_type,
        relinks=found.id,
    )  # fmt: skip
    return success({"link": link})


@router.put("/integrations/{integration_id}/enabled", summary="Enable or disable an integration.")
async def set_enabled(
    request: Request, integration_id: str, body: EnabledBody, who: Annotated[Caller, Depends(caller)]
) -> Response:
    found = await asyncio.to_thread(_own, request, who, integration_id)
    if await asyncio.to_thread(_set_enabled, store(request), found.id, body.value):
        await request.app.state.syncs.request(found.id, FULL)
    return success({})


def _set_enabled(engine: Engine, integration_id: str, value: bool) -> bool:
    """Enable or disable the integration; whether it was enabled now without a watermark (switched to syncing
    everything while disabled, say): its next sync of either type lists everything, and a FULL brings it now
    rather than at the next scheduled run."""
    with engine.begin() as conn:
        changed = change_enabled(conn, integration_id, value)
        if changed:
            notify.integration_state_changed(conn, integration_id)
        now = load_integration(conn, integration_id)
    return changed and value and now is not None and now.delta_watermark is None


@router.get("/integrations/{integration_id}/settings", summary="An integration's settings (atsbridge).")
def show_settings(request: Request, integration_id: str, who: Annotated[Caller, Depends(caller)]) -> Response:
    return success(_settings(_own(request, who, integration_id)))


@router.patch("/integrations/{integration_id}/settings", summary="Change an integration's settings (atsbridge).")
async def change_settings(
    request: Request, integration_id: str, body: SettingsBody, who: Annotated[Caller, Depends(caller)]
) -> Response:
    found = await asyncio.to_thread(_own, request, who, integration_id)
    changes: dict[str, Any] = {}
    if body.sync_only_created_applications is not None:
        changes["sync_only_created_applications"] = body.sync_only_created_applications
    if body.source_label is not None:
        changes["source_label"] = body.source_label
    if body.remote_data is not None:
        changes["remote_data_enabled"] = body.remote_data
    opened, updated = await asyncio.to_thread(_change_settings, store(request), found.id, changes)
    if opened:  # everything RECRU holds is now to be served: bring it in now, not at the next scheduled FULL
        await request.app.state.syncs.request(found.id, FULL)
    return success(_settings(updated))


def _change_settings(engine: Engine, integration_id: str, changes: dict[str, Any]) -> tuple[bool, Integration]:
    with engine.begin() as conn:
        applied = apply_settings(conn, integration_id, **changes) if changes else SettingsApplied(False, [])
        notify.data_changed(conn, integration_id, applied.revealed)
        updated = load_integration(conn, integration_id)
    if updated is None:  # deleted since ``_own`` found it
        raise integration_not_found(integration_id)
    return applied.opened, updated


@router.post("/force-sync", summary="Queue a sync of the integration now.")
async def force_sync(
    request: Request,
    found: Annotated[Integration, Depends(integration)],
    body: Annotated[ForceSyncBody | None, Body()] = None,
) -> Response:
    sync_type = (body or ForceSyncBody()).type or "FULL"
    if not found.enabled:  # its queued run would only be cancelled: say so instead of "queued"
        raise invalid_input("The integration is disabled; enable it (PUT /v1/integrations/{id}/enabled) to sync it.")
    sync_id, already = await request.app.state.syncs.request(found.id, sync_type)
    return success({"already_queued": already, "sync_id": sync_id, "type": sync_type})


@router.get("/integrations/{integration_id}/syncs", summary="Recent syncs: state, timings, counts per model, errors.")
def list_syncs(
    request: Request,
    integration_id: str,
    who: Annotated[Caller, Depends(caller)],
    cursor: Annotated[str | None, Query(description="`next` of the previous page")] = None,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="syncs per page, 1 to 250")] = SYNCS_PAGE_SIZE,
) -> Response:
    refuse_repeated(request)
    found = _own(request, who, integration_id)
    cursor = cursor.strip() if cursor else None  # as on the other lists: a blank cursor is the first page
    after = decode_cursor(cursor, _syncs_digest(found.id)) if cursor else None
    with store(request).connect() as conn:
        rows = recent_syncs(conn, found.id, limit=page_size + 1, after=after)
    more = len(rows) > page_size
    rows = rows[:page_size]
    return success(
        {
            "next": encode_cursor(rows[-1].id, _syncs_digest(found.id)) if more else None,
            "results": [
                {
                    "id": row.id,
                    "type": row.type,
                    "state": row.state,
                    "queued_at": ts(row.queued_at),
                    "started_at": ts(row.started_at),
                    "ended_at": ts(row.ended_at),
                    "counts": row.counts,
                    "errors": row.errors,
                    "timings": row.timings,
                }
                for row in rows
            ],
        }
    )
