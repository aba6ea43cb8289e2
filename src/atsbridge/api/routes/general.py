"""Environment-level endpoints (bearer only): ``GET /v1/check-api-key`` and ``GET /v1/tools/{category}`` (Kombo's
list of the tools one can connect, with what each covers: RECRU in ``ats``, none in the other categories)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from atsbridge.api.auth import Caller, caller
from atsbridge.api.responses import success
from atsbridge.api.strict_json import StrictJsonRoute
from atsbridge.connectors.recru import coverage
from atsbridge.unified import models

router = APIRouter(route_class=StrictJsonRoute, tags=["General"])


@router.get("/check-api-key", response_model=models.DataResponse[models.ApiKeyInfo], summary="Check an API key.")
def check_api_key(who: Annotated[Caller, Depends(caller)]) -> Response:
    return success({"environment_id": who.environment_id})


@router.get("/tools/{category}", summary="The tools of a category one can connect, with their coverage.")
def tools(category: Literal["hris", "ats", "assessment", "lms"], _who: Annotated[Caller, Depends(caller)]) -> Response:
    return success({"tools": [_recru()] if category == "ats" else []})


def _recru() -> dict[str, Any]:
    tool = coverage.TOOL
    icon = tool["icon_url"]
    return {
        "id": tool["id"],
        "label": tool["label"],
        "internal_label": tool["internal_label"],
        "assets": {"logo_url": tool["logo_url"], "icon_url": icon, "icon_black_url": icon},
        "paid_api_details_markdown": None,
        "fast_track_details_markdown": None,
        "partner_only_details_markdown": None,
        "connection_guide_url": None,
        "coverage": {
            "read_models": coverage.read_models(remote_data=True),
            "write_actions": coverage.write_actions(),
            "features": [],
        },
    }
